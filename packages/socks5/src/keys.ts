import { type Key, key } from "@tessera/core";
import type { Authority } from "@tessera/net";
import type { Socks5Address } from "./address.js";
import type { CommandName } from "./constants.js";

/** What a SOCKS5 server was asked on a connection, recorded once the request is read. */
export interface Socks5RequestInfo {
  readonly command: CommandName;
  /** The target as the client named it. */
  readonly target: Authority;
}

/** The proxy a client connection went through, and the address it reported (BND.ADDR, BND.PORT). */
export interface Socks5ProxyInfo {
  readonly proxy: Authority;
  readonly bound: Socks5Address;
}

// Named "tessera.socks5.*" in the global registry (core's `key`), so two copies of this package agree.

/** Server side: the user name a client authenticated with (RFC 1929). */
export const Socks5Username: Key<string> = key<string>("tessera.socks5.Username");

/** Server side: the command and target of the client's request. */
export const Socks5Request: Key<Socks5RequestInfo> = key<Socks5RequestInfo>("tessera.socks5.Request");

/** Client side: on a connection made through a SOCKS5 proxy, which proxy and what it bound. */
export const Socks5Proxy: Key<Socks5ProxyInfo> = key<Socks5ProxyInfo>("tessera.socks5.Proxy");
