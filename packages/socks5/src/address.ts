import { type Authority, ipFamily } from "@tessera/net";
import { AddressType } from "./constants.js";

/**
 * An address as SOCKS5 carries it: `host` is an IPv4 literal, an IPv6 literal (no brackets, RFC 5952 form) or a
 * domain name (as sent, up to 255 bytes), and `type` says which.
 */
export interface Socks5Address extends Authority {
  readonly type: "ipv4" | "ipv6" | "domain";
}

/**
 * The SOCKS5 address of an authority: IP literals as IPv4 or IPv6, anything else as a domain name.
 *
 * @example
 * ```ts
 * socks5Address({ host: "::1", port: 80 }); // { type: "ipv6", host: "::1", port: 80 }
 * ```
 */
export function socks5Address(authority: Authority): Socks5Address {
  const family = ipFamily(authority.host);
  const type = family === 4 ? "ipv4" : family === 6 ? "ipv6" : "domain";
  return { type, host: authority.host, port: authority.port };
}

/** `0.0.0.0:0`: what a reply carries when there is no meaningful address. */
export const UNSPECIFIED: Socks5Address = Object.freeze({ type: "ipv4", host: "0.0.0.0", port: 0 });

/** Bytes `ATYP ADDR PORT` take for this address. */
export function addressLength(address: Socks5Address): number {
  if (address.type === "ipv4") return 1 + 4 + 2;
  if (address.type === "ipv6") return 1 + 16 + 2;
  return 1 + 1 + Buffer.byteLength(address.host, "utf8") + 2;
}

/** Write `ATYP ADDR PORT` at `offset`; returns the offset after it. The caller sized `out` with addressLength. */
export function writeAddress(out: Buffer, offset: number, address: Socks5Address): number {
  let at = offset;
  if (address.type === "ipv4") {
    out[at++] = AddressType.IPv4;
    for (const part of address.host.split(".")) out[at++] = Number(part);
  } else if (address.type === "ipv6") {
    out[at++] = AddressType.IPv6;
    at += ipv6Bytes(address.host).copy(out, at);
  } else {
    const name = Buffer.from(address.host, "utf8");
    if (name.length === 0 || name.length > 255) {
      throw new RangeError(`a SOCKS5 domain name is 1 to 255 bytes, got ${name.length}`);
    }
    out[at++] = AddressType.Domain;
    out[at++] = name.length;
    at += name.copy(out, at);
  }
  out.writeUInt16BE(address.port, at);
  return at + 2;
}

/** The 16 bytes of an IPv6 literal (with `::` and an embedded IPv4 tail allowed). */
export function ipv6Bytes(host: string): Buffer {
  const out = Buffer.alloc(16);
  let text = host;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split(".").map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const double = text.indexOf("::");
  const head = double < 0 ? text : text.slice(0, double);
  const rest = double < 0 ? "" : text.slice(double + 2);
  const headGroups = head === "" ? [] : head.split(":");
  const restGroups = rest === "" ? [] : rest.split(":");
  headGroups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  restGroups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), (8 - restGroups.length + i) * 2);
  });
  return out;
}

/**
 * An IPv6 address from its 16 bytes in the RFC 5952 form: lower-case hex, no leading zeros, the longest run of
 * two or more zero groups (the first one on a tie) as `::`, IPv4-mapped addresses as `::ffff:1.2.3.4`.
 */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + i * 2]! << 8) | bytes[offset + i * 2 + 1]!);
  // IPv4-mapped addresses keep their IPv4 tail in dotted form (RFC 5952 section 5).
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const v4 = bytes.subarray(offset + 12, offset + 16);
    return `::ffff:${v4[0]}.${v4[1]}.${v4[2]}.${v4[3]}`;
  }
  let bestStart = -1;
  let bestLength = 1;
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
  const hex = (list: number[]): string => list.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
