import { isIPv4, isIPv6, type SocketAddress } from "@tessera/net";

// IP addresses as 16 bytes (IPv4 mapped into ::ffff:0:0/96), so one CIDR matcher serves both families and an
// IPv4-mapped IPv6 peer matches IPv4 ranges.

/** A parsed address range: the first `bits` bits of `bytes`. */
export interface Cidr {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

/** The 16 bytes of an IPv4 or IPv6 literal (no brackets, no zone), or undefined. */
export function ipBytes(ip: string): Uint8Array | undefined {
  if (isIPv4(ip)) {
    const out = new Uint8Array(16);
    out[10] = 0xff;
    out[11] = 0xff;
    const parts = ip.split(".");
    for (let i = 0; i < 4; i++) out[12 + i] = Number(parts[i]);
    return out;
  }
  if (!isIPv6(ip)) return undefined;
  let text = ip;
  let tail: number[] = [];
  // A trailing dotted quad (::ffff:1.2.3.4) stands for the last two groups.
  const lastColon = text.lastIndexOf(":");
  const last = text.slice(lastColon + 1);
  if (last.includes(".")) {
    const q = last.split(".").map(Number);
    tail = [(q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!];
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split("::");
  const head = halves[0] === "" ? [] : halves[0]!.split(":");
  const rest = halves.length > 1 && halves[1] !== "" ? halves[1]!.split(":") : [];
  const groups = head.map((g) => Number.parseInt(g, 16));
  const back = rest.map((g) => Number.parseInt(g, 16));
  const fill = 8 - groups.length - back.length;
  for (let i = 0; i < fill; i++) groups.push(0);
  groups.push(...back);
  if (tail.length === 2) {
    groups[6] = tail[0]!;
    groups[7] = tail[1]!;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  return out;
}

/** Parse `10.0.0.0/8`, `fd00::/8` or a single address (a /32 or /128). Throws a TypeError when malformed. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  const ip = slash < 0 ? text : text.slice(0, slash);
  const bytes = ipBytes(ip);
  if (bytes === undefined) throw new TypeError(`not an IP address or CIDR range: ${JSON.stringify(text)}`);
  const v4 = isIPv4(ip);
  const max = v4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const suffix = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(suffix) || Number(suffix) > max) {
      throw new TypeError(`bad prefix length in ${JSON.stringify(text)}`);
    }
    bits = Number(suffix);
  }
  return { bytes, bits: v4 ? bits + 96 : bits };
}

/** True if `ip` (16 bytes) is inside `range`. */
export function inCidr(ip: Uint8Array, range: Cidr): boolean {
  const full = range.bits >> 3;
  for (let i = 0; i < full; i++) if (ip[i] !== range.bytes[i]) return false;
  const rest = range.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip[full]! & mask) === (range.bytes[full]! & mask);
}

/** Named groups a trust list may use besides CIDR ranges. */
const PRESETS: Readonly<Record<string, readonly string[]>> = {
  loopback: ["127.0.0.0/8", "::1/128"],
  private: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
  linklocal: ["169.254.0.0/16", "fe80::/10"],
};

/**
 * A predicate over socket addresses from a trust list: CIDR ranges (`"10.0.0.0/8"`), single addresses,
 * `"loopback"`, `"private"`, `"linklocal"`, and `"unix"` (a peer on a Unix socket, e.g. a local proxy).
 */
export function trustList(list: readonly string[]): (address: SocketAddress) => boolean {
  const ranges: Cidr[] = [];
  let unix = false;
  for (const entry of list) {
    if (entry === "unix") unix = true;
    else if (Object.hasOwn(PRESETS, entry)) for (const r of PRESETS[entry]!) ranges.push(parseCidr(r));
    else ranges.push(parseCidr(entry));
  }
  // A connection's PeerAddr is one object seen by each of its requests: decide once per address object.
  const seen = new WeakMap<SocketAddress, boolean>();
  return (address) => {
    if (address.family === "unix") return unix;
    let trusted = seen.get(address);
    if (trusted === undefined) {
      const bytes = ipBytes(address.host);
      trusted = bytes !== undefined && ranges.some((range) => inCidr(bytes, range));
      seen.set(address, trusted);
    }
    return trusted;
  };
}
