import type { Layer } from "@tessera/core";
import {
  type Authority,
  type Conn,
  type ConnectRequest,
  InvalidAddressError,
  parseAuthority,
} from "@tessera/net";
import { ClientConfigError } from "./errors.js";

/** An HTTP proxy for the client builder. */
export interface ProxyOptions {
  /** `http://host:port` (credentials go in `username`/`password`: URIs with userinfo are refused). */
  readonly url: string;
  /** Basic credentials sent as `Proxy-Authorization`. */
  readonly username?: string;
  readonly password?: string;
  /**
   * Reach plain-http targets through an HTTP CONNECT tunnel too, instead of sending them to the proxy in absolute
   * form. https targets always use a tunnel. Default false.
   */
  readonly tunnel?: boolean;
}

/** What a tunnel layer factory is given (see `connectTunnel` in the client builder). */
export interface ProxyTunnelOptions {
  /** Where the proxy is. */
  readonly proxy: Authority;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

/** Makes an HTTP CONNECT connector layer: `httpConnect` from `@tessera/http1`. */
export type ProxyTunnelFactory = (options: ProxyTunnelOptions) => Layer<ConnectRequest, Conn>;

/** A parsed {@link ProxyOptions}. */
export interface ProxyConfig {
  readonly authority: Authority;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** `Basic ...` for `Proxy-Authorization`, or undefined without credentials. */
  readonly authorization: string | undefined;
  readonly tunnel: boolean;
}

/**
 * The `Basic` credentials of RFC 7617: `Basic base64(username ":" password)`, UTF-8 encoded.
 *
 * @example
 * ```ts
 * basicAuthorization("aladdin", "opensesame"); // "Basic YWxhZGRpbjpvcGVuc2VzYW1l"
 * ```
 */
export function basicAuthorization(username: string, password: string): string {
  if (username.includes(":")) throw new ClientConfigError("a Basic user name cannot contain ':'");
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}

const PROXY_URL = /^http:\/\/([^/?#@]+)\/?$/i;

/**
 * Parse a proxy given as a URL string or {@link ProxyOptions}. Only `http://host[:port]` proxies (port 80 by
 * default); throws {@link ClientConfigError} otherwise.
 *
 * @example
 * ```ts
 * parseProxy("http://proxy.local:3128").authority; // { host: "proxy.local", port: 3128 }
 * ```
 */
export function parseProxy(proxy: string | ProxyOptions): ProxyConfig {
  const options: ProxyOptions = typeof proxy === "string" ? { url: proxy } : proxy;
  const match = PROXY_URL.exec(options.url);
  if (match === null) {
    throw new ClientConfigError(
      `proxy ${JSON.stringify(options.url)} is not http://host[:port] (give credentials as username/password)`,
    );
  }
  let authority: Authority;
  try {
    authority = parseAuthority(match[1]!, { defaultPort: 80 });
  } catch (error) {
    if (error instanceof InvalidAddressError) {
      throw new ClientConfigError(`proxy ${JSON.stringify(options.url)}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  const { username, password } = options;
  const authorization =
    username === undefined && password === undefined
      ? undefined
      : basicAuthorization(username ?? "", password ?? "");
  return { authority, username, password, authorization, tunnel: options.tunnel ?? false };
}
