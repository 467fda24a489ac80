import { appendSignal, Extensions, type Layer, type Service } from "@tessera/core";
import {
  Alpn,
  type Authority,
  type Conn,
  type ConnectRequest,
  connectRequest,
  formatAuthority,
} from "@tessera/net";
import { InvalidUriError } from "../errors.js";
import type { Request } from "../request.js";
import type {
  ClientConnection,
  ClientConnectionFactory,
  ClientConnectionListener,
} from "./client-connection.js";
import { ClientConfigError, UnsupportedProtocolError } from "./errors.js";
import { HttpProxy } from "./keys.js";
import type { PoolRoute } from "./pool.js";
import type { ProxyConfig, ProxyTunnelFactory } from "./proxy.js";

/** Where a client request goes: the origin, and how a proxy (if any) is used. */
export interface ClientRoute extends PoolRoute {
  readonly scheme: "http" | "https";
  /** The origin server. */
  readonly target: Authority;
  /**
   * `"forward"`: plain http sent to the proxy in absolute form, all origins sharing the proxy's connections;
   * `"tunnel"`: an HTTP CONNECT tunnel per origin; undefined: straight to the origin.
   */
  readonly proxy: "forward" | "tunnel" | undefined;
}

/** What {@link HttpConnectionSource} builds its connections with. */
export interface HttpConnectionSourceOptions {
  readonly http1: ClientConnectionFactory;
  readonly http2?: ClientConnectionFactory | undefined;
  readonly connector: Service<ConnectRequest, Conn>;
  readonly tls?: Layer<ConnectRequest, Conn> | undefined;
  readonly proxy?: ProxyConfig | undefined;
  readonly connectTunnel?: ProxyTunnelFactory | undefined;
  /** Speak HTTP/2 on cleartext `http://` connections without negotiation (h2c with prior knowledge). */
  readonly http2PriorKnowledge?: boolean | undefined;
}

/**
 * The connection source of the client builder: maps a request to a {@link ClientRoute} and opens connections
 * along the stack DESIGN 3 describes: connector (TCP) -> HTTP CONNECT tunnel (through a proxy) -> TLS (https)
 * -> HTTP/1.1 or HTTP/2 by the negotiated ALPN. A connection to a forward proxy gets `HttpProxy` (mode
 * `"forward"`) on its extensions, which makes the HTTP/1 client write absolute-form targets.
 *
 * @example
 * ```ts
 * const source = new HttpConnectionSource({ http1: clientConnection, connector: tcpConnector() });
 * const pool = connectionPool(source);
 * ```
 */
export class HttpConnectionSource {
  readonly #http1: ClientConnectionFactory;
  readonly #http2: ClientConnectionFactory | undefined;
  readonly #priorKnowledge: boolean;
  readonly #proxy: ProxyConfig | undefined;
  readonly #plain: Service<ConnectRequest, Conn>;
  readonly #secure: Service<ConnectRequest, Conn> | undefined;
  readonly #tunnelPlain: Service<ConnectRequest, Conn> | undefined;
  readonly #tunnelSecure: Service<ConnectRequest, Conn> | undefined;

  constructor(options: HttpConnectionSourceOptions) {
    this.#http1 = options.http1;
    this.#http2 = options.http2;
    this.#priorKnowledge = options.http2PriorKnowledge === true;
    if (this.#priorKnowledge && options.http2 === undefined) {
      throw new ClientConfigError(
        "http2PriorKnowledge needs the http2 protocol (clientConnection from @tessera/http2)",
      );
    }
    const proxy = options.proxy;
    this.#proxy = proxy;
    const { connector, tls } = options;
    this.#plain = connector;
    this.#secure = tls?.layer(connector);
    if (proxy !== undefined) {
      if (options.connectTunnel === undefined) {
        if (proxy.tunnel || tls !== undefined) {
          throw new ClientConfigError(
            "a proxy tunnel needs the HTTP CONNECT layer: pass connectTunnel (httpConnect from @tessera/http1)",
          );
        }
      } else {
        const tunnel = options
          .connectTunnel({
            proxy: proxy.authority,
            username: proxy.username,
            password: proxy.password,
          })
          .layer(connector);
        this.#tunnelPlain = tunnel;
        this.#tunnelSecure = tls?.layer(tunnel);
      }
    }
  }

  /** The route of `request`; throws for a target that is not an absolute http(s) URI the client can reach. */
  route(request: Request): ClientRoute {
    const uri = request.uri;
    if (uri.form !== "absolute") {
      throw new InvalidUriError(
        "wrong-form",
        request.target,
        "a client request needs an absolute URI (http://host/path)",
      );
    }
    const scheme = uri.scheme;
    if (scheme !== "http" && scheme !== "https") {
      throw new UnsupportedProtocolError(`the client does not speak ${JSON.stringify(scheme)}`);
    }
    if (scheme === "https" && this.#secure === undefined) {
      throw new UnsupportedProtocolError("https needs a TLS connector layer (the tls option of the client)");
    }
    const target: Authority = { host: uri.host!, port: uri.port! };
    const proxy = this.#proxy;
    // HTTP/2 is possible when TLS may negotiate it, or on cleartext with prior knowledge (not to a forward proxy).
    const multiplexed = this.#http2 !== undefined && (scheme === "https" || this.#priorKnowledge);
    if (proxy === undefined)
      return { key: `${scheme}://${formatAuthority(target)}`, scheme, target, proxy: undefined, multiplexed };
    if (scheme === "http" && !proxy.tunnel) {
      return {
        key: `forward://${formatAuthority(proxy.authority)}`,
        scheme,
        target,
        proxy: "forward",
        multiplexed: false,
      };
    }
    return {
      key: `tunnel+${scheme}://${formatAuthority(target)}`,
      scheme,
      target,
      proxy: "tunnel",
      multiplexed,
    };
  }

  /** Open a connection for `route`: connect, then start HTTP/1.1 or HTTP/2 on it by ALPN. */
  async connect(
    route: ClientRoute,
    listener: ClientConnectionListener,
    signal: AbortSignal,
  ): Promise<ClientConnection> {
    const extensions = appendSignal(new Extensions(), signal);
    let conn: Conn;
    if (route.proxy === "forward") {
      const proxy = this.#proxy!;
      conn = await this.#plain.serve(connectRequest(proxy.authority, extensions));
      conn.extensions.insert(HttpProxy, { authority: proxy.authority, mode: "forward" });
    } else {
      const connector =
        route.proxy === "tunnel"
          ? route.scheme === "https"
            ? this.#tunnelSecure!
            : this.#tunnelPlain!
          : route.scheme === "https"
            ? this.#secure!
            : this.#plain;
      conn = await connector.serve(connectRequest(route.target, extensions));
    }
    const alpn = conn.extensions.get(Alpn);
    const h2 = alpn === "h2" || (route.multiplexed === true && route.scheme === "http");
    const protocol = h2 ? this.#http2 : this.#http1;
    try {
      if (protocol === undefined) {
        throw new UnsupportedProtocolError(
          "the server negotiated h2, and the client was given no http2 protocol",
        );
      }
      return await protocol(conn, { listener });
    } catch (error) {
      conn.stream.destroy();
      throw error;
    }
  }
}
