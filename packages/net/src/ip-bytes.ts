import { isIPv4, isIPv6 } from "./address.js";

// IP addresses as the 4 or 16 bytes binary protocols carry (PROXY v2, SOCKS5), and back to text. Node offers the
// text form only (net.isIP, SocketAddress), so the conversions are here, exported for other packages; inputs are
// validated with the package's own strict isIPv4/isIPv6 first.

/**
 * `"10.0.0.1"` from 4 bytes at `offset`.
 *
 * @example
 * ```ts
 * formatIpv4(Buffer.from([10, 0, 0, 1])); // "10.0.0.1"
 * ```
 */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * RFC 5952 text of 16 bytes at `offset`: lower case, the longest run (2+) of zero groups as `::`, IPv4-mapped
 * addresses as `::ffff:1.2.3.4`.
 *
 * @example
 * ```ts
 * formatIpv6(ipv6Bytes("2001:0db8:0:0:0:0:0:1")!); // "2001:db8::1"
 * ```
 */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  // IPv4-mapped (::ffff:a.b.c.d) keeps its dotted tail (RFC 5952 section 5).
  let mapped = bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = bytes[offset + i] === 0;
  if (mapped) return `::ffff:${formatIpv4(bytes, offset + 12)}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!);
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not compressed (RFC 5952 4.2.2)
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(":");
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/**
 * 4 bytes of a dotted-quad IPv4 literal, or undefined when it is not one.
 *
 * @example
 * ```ts
 * ipv4Bytes("192.0.2.1"); // <Buffer c0 00 02 01>
 * ```
 */
export function ipv4Bytes(text: string): Buffer | undefined {
  if (!isIPv4(text)) return undefined;
  // Digits and dots only (checked above): the octets go straight into the bytes, with no array of strings in
  // between. It runs per connection (a PROXY v2 header, a SOCKS5 reply's BND address).
  const out = Buffer.allocUnsafe(4);
  let octet = 0;
  let i = 0;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c === 0x2e) {
      out[i++] = octet;
      octet = 0;
    } else octet = octet * 10 + (c - 0x30);
  }
  out[i] = octet;
  return out;
}

/**
 * 16 bytes of an IPv6 literal (with `::` and an embedded IPv4 tail), or undefined when it is not one.
 *
 * @example
 * ```ts
 * ipv6Bytes("::ffff:192.0.2.1"); // <Buffer 00 ... 00 ff ff c0 00 02 01>
 * ```
 */
export function ipv6Bytes(text: string): Buffer | undefined {
  if (!isIPv6(text)) return undefined;
  let hexText = text;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    // "::ffff:1.2.3.4": the IPv4 tail is the last two groups.
    const v4 = ipv4Bytes(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    hexText = `${text.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const halves = hexText.split("::");
  const parse = (part: string | undefined): number[] =>
    part === undefined || part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16));
  const left = parse(halves[0]);
  const right = parse(halves[1]);
  const zeros = halves.length === 2 ? 8 - left.length - right.length : 0;
  if (zeros < 0) return undefined;
  const groups = [...left, ...new Array<number>(zeros).fill(0), ...right];
  if (groups.length !== 8) return undefined;
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(g, 2 * i);
  return out;
}
