import { BlockList } from "node:net";
import type { Service } from "@tessera/core";
import {
  type Authority,
  type Conn,
  formatIpv4,
  ipFamily,
  ipv6Bytes,
  type Lookup,
  systemLookup,
} from "@tessera/net";
import type { CommandName } from "./constants.js";
import { Socks5NotAllowedError } from "./errors.js";

/** What a policy is asked about: one target of one command (or of one UDP datagram) from one client. */
export interface Socks5PolicyRequest {
  /** `"udp"` for each destination of a relayed datagram. */
  readonly command: CommandName | "udp";
  /** The target as the client named it (for BIND: the host it expects a connection from). */
  readonly target: Authority;
  /** The client's connection (its extensions carry the peer address and, after auth, `Socks5Username`). */
  readonly conn: Conn;
}

/** Decides whether a target is allowed: true allows, false (or a Socks5NotAllowedError) answers reply 02. */
export type Socks5Policy = Service<Socks5PolicyRequest, boolean>;

// Loopback, private, link-local, carrier-grade NAT, unspecified, multicast and the other special-purpose
// ranges (RFC 6890): a proxy reachable by others must not become a way into the network it stands in.
// No rule for ::ffff:0:0/96: BlockList checks IPv4 addresses against IPv6 rules in their mapped form, so that
// rule would match every IPv4 address. It also checks IPv4-mapped IPv6 addresses (dotted or hex) against the
// IPv4 rules, so ::ffff:127.0.0.1 is judged as 127.0.0.1 with no help.
const special = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 3],
] as const) {
  special.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  // Unspecified, loopback and the deprecated IPv4-compatible addresses (::a.b.c.d reaches a.b.c.d on some stacks).
  ["::", 96],
  ["64:ff9b::", 96],
  ["64:ff9b:1::", 48],
  ["100::", 64],
  // Teredo carries an (obscured) IPv4 address, benchmarking and documentation ranges are not destinations.
  ["2001::", 32],
  ["2001:2::", 48],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  special.addSubnet(net, prefix, "ipv6");
}

/**
 * True for an IP literal that is not loopback, private, link-local, unspecified, multicast or another
 * special-purpose address; false for those and for anything that is not an IP literal. IPv6 forms that carry an
 * IPv4 address are judged by it (IPv4-mapped and 6to4) or refused (IPv4-compatible, NAT64, Teredo).
 *
 * @example
 * ```ts
 * isPublicAddress("192.168.1.1"); // false
 * isPublicAddress("::ffff:127.0.0.1"); // false
 * isPublicAddress("93.184.216.34"); // true
 * ```
 */
export function isPublicAddress(ip: string): boolean {
  const family = ipFamily(ip);
  if (family === 0) return false;
  if (family === 4) return !special.check(ip, "ipv4");
  if (special.check(ip, "ipv6")) return false;
  // 6to4 (2002::/16) carries an IPv4 address in its next 32 bits, and a relay would take a packet there: judge
  // that address.
  const bytes = ipv6Bytes(ip);
  if (bytes?.[0] === 0x20 && bytes[1] === 0x02) return !special.check(formatIpv4(bytes, 2), "ipv4");
  return true;
}

/**
 * A lookup (for `tcpConnector({ lookup })` and the server's UDP relay) that keeps only public addresses
 * ({@link isPublicAddress}) and fails with a {@link Socks5NotAllowedError} (reply 02) when a name has no
 * other: a name that resolves to 127.0.0.1 cannot get around a policy that refuses loopback literals.
 */
export function publicAddressLookup(lookup: Lookup = systemLookup): Lookup {
  return async (hostname) => {
    const all = await lookup(hostname);
    const allowed = all.filter((entry) => isPublicAddress(entry.address));
    if (allowed.length === 0 && all.length > 0) {
      throw new Socks5NotAllowedError(`${hostname} resolves only to private or special-purpose addresses`);
    }
    return allowed;
  };
}

/**
 * A policy that refuses CONNECT and UDP destinations that are IP literals but not public (see
 * {@link isPublicAddress}). Names pass: pair it with {@link publicAddressLookup} so what they resolve to is
 * checked too. BIND and UDP ASSOCIATE name the client's own side (the peer it expects, the address it sends
 * from, often 0.0.0.0), not a place the proxy goes to, so they are not judged here.
 */
export function publicTargetsOnly(): Socks5Policy {
  return {
    serve: (request) => {
      if (request.command === "bind" || request.command === "udp-associate") return Promise.resolve(true);
      const host = request.target.host;
      return Promise.resolve(ipFamily(host) === 0 || isPublicAddress(host));
    },
  };
}
