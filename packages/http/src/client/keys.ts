import { type Extensions, type Key, key } from "@tessera/core";
import type { Authority } from "@tessera/net";

/** How a client connection goes through an HTTP proxy. */
export interface ProxyInfo {
  /** Where the proxy is. */
  readonly authority: Authority;
  /**
   * `"forward"`: requests are sent to the proxy in absolute form (`GET http://host/path HTTP/1.1`), plain http
   * only; `"tunnel"`: an HTTP CONNECT tunnel to the target carries the connection.
   */
  readonly mode: "forward" | "tunnel";
}

/**
 * The HTTP proxy a client connection goes through, written on the connection's extensions by the connector that
 * used it (DESIGN 3: the connector copies the settings it used onto the connection). The HTTP/1 client reads it
 * to send absolute-form targets to a forward proxy.
 */
export const HttpProxy: Key<ProxyInfo> = key<ProxyInfo>("tessera.http.Proxy");

/**
 * On a response received by a client: the extensions of the connection that carried it (peer address, ALPN,
 * proxy, ...). The response's own extensions fork its request's, so the connection is reached through this key.
 *
 * @example
 * ```ts
 * const res = await client.get("http://example.com/");
 * res.extensions.get(ConnectionExtensions)?.get(PeerAddr); // { family: "IPv4", host: "93.184.215.14", port: 80 }
 * ```
 */
export const ConnectionExtensions: Key<Extensions> = key<Extensions>("tessera.http.ConnectionExtensions");
