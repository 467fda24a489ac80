import { type Key, key } from "@tessera/core";
import type { Authority } from "./address.js";
import type { ProxyHeader, ProxyHeaderInit } from "./proxy-protocol/header.js";

/** An IP socket address. `host` is an IP literal without brackets; IPv4-mapped IPv6 is reported as IPv4. */
export interface InetSocketAddress {
  readonly family: "IPv4" | "IPv6";
  readonly host: string;
  readonly port: number;
}

/** A Unix domain socket address. `path` is `""` for an unnamed socket (the usual peer of a Unix listener). */
export interface UnixSocketAddress {
  readonly family: "unix";
  readonly path: string;
}

/** Where one end of a connection is: an IP address and port, or a Unix socket path. Narrow on `family`. */
export type SocketAddress = InetSocketAddress | UnixSocketAddress;

/** Bytes that {@link forward} moved through one connection. */
export interface ForwardBytes {
  /** Bytes read from this connection (and written to the other). */
  readonly read: number;
  /** Bytes written to this connection (read from the other). */
  readonly written: number;
}

/** What a `proxyProtocolConnector` wrote: the version and the header's fields. */
export interface ProxyProtocolSent {
  readonly version: 1 | 2;
  readonly header: ProxyHeaderInit;
}

// Keys are named "tessera.net.*" and made with the global symbol registry (core's `key`), so two copies of
// this package agree on them. Several packages share these: tls writes Alpn/Sni, http's auto server reads Alpn,
// proxies read PeerAddr. Defining them here, low in the graph, lets them agree without importing each other.

/** The address of the other end of a connection (the client for a listener, the server for a connector). */
export const PeerAddr: Key<SocketAddress> = key<SocketAddress>("tessera.net.PeerAddr");

/** The address of this end of a connection. */
export const LocalAddr: Key<SocketAddress> = key<SocketAddress>("tessera.net.LocalAddr");

/** The authority a connector was asked to reach (the name, before DNS), on the connections it makes. */
export const ConnectTarget: Key<Authority> = key<Authority>("tessera.net.ConnectTarget");

/**
 * Aborts when the listener that accepted a connection stops accepting (graceful shutdown began). Protocol servers
 * watch it to finish the current exchange and close (HTTP/1 `Connection: close`, HTTP/2 GOAWAY) instead of
 * waiting for the grace period to run out.
 */
export const Draining: Key<AbortSignal> = key<AbortSignal>("tessera.net.Draining");

/** Byte counts recorded by {@link forward} on each of the two connections when forwarding ends. */
export const ForwardBytes: Key<ForwardBytes> = key<ForwardBytes>("tessera.net.ForwardBytes");

/** The negotiated application protocol (TLS ALPN), e.g. `"h2"` or `"http/1.1"`. Written by tls. */
export const Alpn: Key<string> = key<string>("tessera.net.Alpn");

/** The server name (TLS SNI) the client asked for (server side) or sent (client side). Written by tls. */
export const Sni: Key<string> = key<string>("tessera.net.Sni");

/**
 * The original client's address from a PROXY protocol header (written by the `proxyProtocol` server layer when
 * the header carried addresses). `PeerAddr` stays the load balancer's address unless the layer is told to
 * append the client there too (`appendPeerAddr`): see the layer's documentation for why.
 */
export const ProxiedClientAddr: Key<SocketAddress> = key<SocketAddress>("tessera.net.ProxiedClientAddr");

/** The address the original client connected to (on the load balancer), from a PROXY protocol header. */
export const ProxiedDestAddr: Key<SocketAddress> = key<SocketAddress>("tessera.net.ProxiedDestAddr");

/** The whole PROXY protocol header a connection started with (TLVs included), LOCAL headers too. */
export const ProxyProtocolHeader: Key<ProxyHeader> = key<ProxyHeader>("tessera.net.ProxyProtocolHeader");

/** What the `proxyProtocolConnector` layer sent at the start of a connection it made. */
export const ProxyProtocolSent: Key<ProxyProtocolSent> = key<ProxyProtocolSent>(
  "tessera.net.ProxyProtocolSent",
);
