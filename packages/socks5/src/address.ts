import { type Authority, type InetSocketAddress, ipFamily, ipv4Bytes, ipv6Bytes } from "@tessera/net";
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

/**
 * The SOCKS5 address of a socket address (a reply's BND, a relayed datagram's sender): its family already says
 * IPv4 or IPv6, so the host is not classified again as {@link socks5Address} would.
 */
export function inetSocks5Address(address: InetSocketAddress): Socks5Address {
  return { type: address.family === "IPv4" ? "ipv4" : "ipv6", host: address.host, port: address.port };
}

/** Whether `host` is `0.0.0.0` or `::`: "any address" in a BIND or UDP ASSOCIATE request, or in a reply. */
export function isUnspecified(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
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
    at += bytesOf(ipv4Bytes(address.host), address.host).copy(out, at);
  } else if (address.type === "ipv6") {
    out[at++] = AddressType.IPv6;
    at += bytesOf(ipv6Bytes(address.host), address.host).copy(out, at);
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

function bytesOf(bytes: Buffer | undefined, host: string): Buffer {
  if (bytes === undefined) throw new RangeError(`${JSON.stringify(host)} is not an IP address of its type`);
  return bytes;
}
