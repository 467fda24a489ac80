import { type Extensible, Extensions } from "@tessera/core";
import { type Authority, parseAuthority } from "./address.js";

/**
 * The input of a connector (`Service<ConnectRequest, Conn>`): where to connect, plus extensions (the caller's
 * cancellation signal, proxy settings, TLS wishes, ...). Connectors layer: TCP, then SOCKS5 or HTTP CONNECT, then
 * TLS, each reading the same request.
 */
export interface ConnectRequest extends Extensible {
  readonly authority: Authority;
  readonly extensions: Extensions;
  /** A copy with the same authority carrying `extensions` (for layers that fork, like retry). */
  withExtensions(extensions: Extensions): this;
}

class BasicConnectRequest implements ConnectRequest {
  readonly authority: Authority;
  readonly extensions: Extensions;
  constructor(authority: Authority, extensions: Extensions) {
    this.authority = authority;
    this.extensions = extensions;
  }
  withExtensions(extensions: Extensions): this {
    return new BasicConnectRequest(this.authority, extensions) as this;
  }
}

/**
 * Make a connect request. A string authority is parsed with {@link parseAuthority} (a port is required);
 * an object is used as given.
 *
 * @example
 * ```ts
 * const conn = await tcpConnector().serve(connectRequest("example.com:443"));
 * const req = connectRequest({ host: "::1", port: 8080 }, appendSignal(new Extensions(), AbortSignal.timeout(5_000)));
 * ```
 */
export function connectRequest(
  authority: Authority | string,
  extensions: Extensions = new Extensions(),
): ConnectRequest {
  const parsed = typeof authority === "string" ? parseAuthority(authority) : authority;
  return new BasicConnectRequest(parsed, extensions);
}
