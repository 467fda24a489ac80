import { appendSignal, Extensions, type Layer, type Service } from "@tessera/core";
import { type Conn, type ConnectRequest, tcpConnector } from "@tessera/net";
import type { BodyInit } from "../body.js";
import type { HeadersInit } from "../header-map.js";
import { Request } from "../request.js";
import type { Response } from "../response.js";
import type { ClientConnectionFactory } from "./client-connection.js";
import { HttpConnectionSource } from "./connection-source.js";
import { ConnectionPool, type PoolOptions, type PoolStats } from "./pool.js";
import { type ProxyConfig, type ProxyOptions, type ProxyTunnelFactory, parseProxy } from "./proxy.js";

/** A layer over the client's `Service<Request, Response>` (retry, redirects, decompression, timeout, ...). */
export type ClientLayer = Layer<Request, Response>;

/** Options of {@link httpClient}. Only `http1` is required. */
export interface HttpClientOptions {
  /** The HTTP/1.1 protocol: `clientConnection` from `@tessera/http1` (this package does not import it). */
  readonly http1: ClientConnectionFactory;
  /** The HTTP/2 protocol, used when TLS negotiates `h2`. Without it such a connection fails. */
  readonly http2?: ClientConnectionFactory;
  /**
   * Speak HTTP/2 on cleartext `http://` URLs without negotiation (h2c with prior knowledge, like curl's
   * `--http2-prior-knowledge`); needs `http2`. Default false: cleartext is HTTP/1.1.
   */
  readonly http2PriorKnowledge?: boolean;
  /** How hosts (or the proxy) are reached. Default `tcpConnector()` from `@tessera/net`. */
  readonly connector?: Service<ConnectRequest, Conn>;
  /** A TLS connector layer for https URLs (e.g. from `@tessera/tls`). Without it, https fails. */
  readonly tls?: Layer<ConnectRequest, Conn>;
  /**
   * An HTTP proxy: `"http://host:port"` or {@link ProxyOptions}. Plain http goes to it in absolute form; https
   * (and http with `tunnel: true`) goes through an HTTP CONNECT tunnel made by `connectTunnel`.
   */
  readonly proxy?: string | ProxyOptions;
  /** The HTTP CONNECT layer for tunnels: `httpConnect` from `@tessera/http1`. */
  readonly connectTunnel?: ProxyTunnelFactory;
  /** Pool limits (connections, idle connections and timeout, queue), per authority. */
  readonly pool?: PoolOptions;
  /** Request layers, outermost first, around the pool. */
  readonly layers?: readonly ClientLayer[];
}

/** Options of the convenience methods ({@link HttpClient.get}, {@link HttpClient.request}). */
export interface ClientRequestOptions {
  readonly headers?: HeadersInit;
  readonly body?: BodyInit;
  /** Cancels the request, including the response body still arriving. */
  readonly signal?: AbortSignal;
  /** Extensions for the request (default: new ones). */
  readonly extensions?: Extensions;
}

/**
 * An HTTP client: a `Service<Request, Response>` made of request layers over a connection pool over a
 * connector stack (see {@link httpClient}), with shortcuts for the common calls.
 *
 * Read (or cancel) every response body: a connection returns to the pool when its response body has ended.
 */
export class HttpClient implements Service<Request, Response> {
  readonly #service: Service<Request, Response>;
  readonly #pool: ConnectionPool;

  /** Use {@link httpClient}. */
  constructor(service: Service<Request, Response>, pool: ConnectionPool) {
    this.#service = service;
    this.#pool = pool;
  }

  /** Send `request` (an absolute `http://` or `https://` target) through the layers and the pool. */
  serve(request: Request): Promise<Response> {
    return this.#service.serve(request);
  }

  /**
   * Send a request made from parts. Throws the model's validation errors (bad method, URI or header) as a
   * rejected promise.
   *
   * @example
   * ```ts
   * const res = await client.request("POST", "http://127.0.0.1:8080/items", {
   *   headers: { "content-type": "application/json" },
   *   body: JSON.stringify({ name: "a" }),
   * });
   * ```
   */
  request(method: string, url: string, options?: ClientRequestOptions): Promise<Response> {
    let request: Request;
    try {
      let extensions = options?.extensions;
      const signal = options?.signal;
      if (signal !== undefined) extensions = appendSignal(extensions ?? new Extensions(), signal);
      request = Request.create({
        method,
        target: url,
        headers: options?.headers,
        body: options?.body,
        extensions,
      });
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#service.serve(request);
  }

  /**
   * GET `url`.
   *
   * @example
   * ```ts
   * const res = await client.get("http://127.0.0.1:8080/health", { signal: AbortSignal.timeout(2_000) });
   * console.log(res.status, await res.body.text());
   * ```
   */
  get(url: string, options?: Omit<ClientRequestOptions, "body">): Promise<Response> {
    return this.request("GET", url, options);
  }

  /** POST `body` to `url`. */
  post(url: string, body: BodyInit, options?: Omit<ClientRequestOptions, "body">): Promise<Response> {
    return this.request("POST", url, { ...options, body });
  }

  /** Counts of the pool's connections and waiting requests. */
  stats(): PoolStats {
    return this.#pool.stats();
  }

  /** Close the pool: see `ConnectionPool.close`. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** Adds `Proxy-Authorization` to requests that go to a forward proxy in absolute form. */
class ForwardProxyAuthorization implements Service<Request, Response> {
  readonly #inner: Service<Request, Response>;
  readonly #proxy: ProxyConfig;
  readonly #authorization: string;

  constructor(inner: Service<Request, Response>, proxy: ProxyConfig, authorization: string) {
    this.#inner = inner;
    this.#proxy = proxy;
    this.#authorization = authorization;
  }

  serve(request: Request): Promise<Response> {
    let scheme: string | undefined;
    try {
      scheme = request.uri.scheme;
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#proxy.tunnel || scheme !== "http") return this.#inner.serve(request);
    const headers = request.headers.clone();
    if (!headers.has("proxy-authorization")) headers.append("Proxy-Authorization", this.#authorization);
    return this.#inner.serve(request.with({ headers }));
  }
}

/**
 * Build an HTTP client. The stack, innermost first (DESIGN 3): `connector` (TCP by default) -> an HTTP CONNECT
 * tunnel through `proxy` when one is needed -> `tls` for https -> HTTP/1.1 (or HTTP/2 when ALPN says `h2`) ->
 * a {@link ConnectionPool} per authority -> `layers`. Plain http through a `proxy` is sent in absolute form on
 * pooled connections to the proxy, with `Proxy-Authorization` when credentials are given.
 *
 * Protocol packages are passed in (`http1`, `http2`, `connectTunnel`), as the auto server receives its
 * servers: `@tessera/http` does not import them.
 *
 * @example
 * ```ts
 * import { httpClient } from "@tessera/http";
 * import { clientConnection, httpConnect } from "@tessera/http1";
 *
 * const client = httpClient({
 *   http1: clientConnection,
 *   connectTunnel: httpConnect,
 *   proxy: { url: "http://proxy.local:3128", username: "me", password: "secret" },
 *   pool: { maxConnectionsPerAuthority: 16 },
 * });
 * const res = await client.get("http://example.com/");
 * console.log(res.status, res.headers.get("content-type"), await res.body.text());
 * await client.close();
 * ```
 */
export function httpClient(options: HttpClientOptions): HttpClient {
  const proxy = options.proxy === undefined ? undefined : parseProxy(options.proxy);
  const source = new HttpConnectionSource({
    http1: options.http1,
    http2: options.http2,
    connector: options.connector ?? tcpConnector(),
    tls: options.tls,
    proxy,
    connectTunnel: options.connectTunnel,
    http2PriorKnowledge: options.http2PriorKnowledge,
  });
  const pool = new ConnectionPool(source, options.pool);
  let service: Service<Request, Response> = pool;
  if (proxy?.authorization !== undefined) {
    service = new ForwardProxyAuthorization(service, proxy, proxy.authorization);
  }
  const layers = options.layers ?? [];
  for (let i = layers.length - 1; i >= 0; i--) service = layers[i]!.layer(service);
  return new HttpClient(service, pool);
}
