import { setMaxListeners } from "node:events";
import { forkInput, type Service, signalOf } from "@tessera/core";
import type { Request } from "../request.js";
import type { Response } from "../response.js";
import { AuthorityPool, type PoolOwner } from "./authority-pool.js";
import type { ClientConnection, ClientConnectionListener } from "./client-connection.js";
import { PoolClosedError } from "./errors.js";
import { canRetryOnNewConnection } from "./retry-safety.js";

/** Where a request goes, as far as the pool is concerned: requests with the same `key` share connections. */
export interface PoolRoute {
  readonly key: string;
  /**
   * The route may be served by a multiplexed protocol (HTTP/2 by ALPN or prior knowledge). Until the first
   * connection says otherwise, the pool opens one connection at a time for it: an HTTP/2 connection carries
   * every waiting request, so a burst must not open one connection per request.
   */
  readonly multiplexed?: boolean;
}

/**
 * Where a pool gets its connections: it maps a request to a route, and opens a protocol connection for a route
 * (connector, proxy, TLS, then HTTP/1 or HTTP/2). The client builder makes one; tests can make their own.
 */
export interface ConnectionSource<R extends PoolRoute> {
  /** The route of `request`. May throw (a URI the client cannot send): the request fails with that error. */
  route(request: Request): R;
  /**
   * Open a connection for `route` that reports to `listener`. `signal` aborts when the pool closes. The
   * connection must not be tied to any one request: it outlives the request that caused it to be opened.
   */
  connect(route: R, listener: ClientConnectionListener, signal: AbortSignal): Promise<ClientConnection>;
}

/** Limits of a {@link ConnectionPool}. */
export interface PoolOptions {
  /** Connections per authority, open or being opened. Default 64. */
  readonly maxConnectionsPerAuthority?: number;
  /** Idle connections kept per authority; one more is closed when its exchange ends. Default: no limit (the max). */
  readonly maxIdlePerAuthority?: number;
  /**
   * Close a connection idle this long, in ms. Default 4000: under the 5 s keep-alive timeout of node:http and
   * most servers, so the client closes first rather than racing the server's close. `Infinity` for never.
   */
  readonly idleTimeout?: number;
  /** Requests queued per authority while every connection is busy. One more fails with `ERR_HTTP_POOL_QUEUE_FULL`. Default 1024. */
  readonly maxWaitersPerAuthority?: number;
}

/** A snapshot of a pool, summed over its authorities. */
export interface PoolStats {
  readonly authorities: number;
  /** Open connections (busy or idle). */
  readonly connections: number;
  /** Open connections with nothing in flight. */
  readonly idle: number;
  /** Connects in progress. */
  readonly connecting: number;
  /** Requests waiting for a connection. */
  readonly waiting: number;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value >= 1)) throw new RangeError(`${name} must be at least 1, got ${String(value)}`);
  return value;
}

/**
 * A pool of client connections per authority, generic over the protocol: it only asks a connection how many
 * more requests it takes now (`capacity`: 1 or 0 for HTTP/1.1, up to MAX_CONCURRENT_STREAMS for HTTP/2) and
 * listens for when it becomes available again or closes. Made by {@link connectionPool}; the client builder
 * makes one for you.
 *
 * - A request goes to the most recently used available connection, else waits in a bounded FIFO queue while a
 *   new connection is opened (up to `maxConnectionsPerAuthority`); cancelling its signal leaves the queue.
 * - A connection comes back when its exchange is over, i.e. when the response body has ended on the wire, not
 *   when the head arrived; it is handed to the oldest waiter at once, or kept idle (`maxIdlePerAuthority`,
 *   `idleTimeout`). A connection that closes (the peer closed it while idle, `Connection: close`) is dropped.
 * - A request that fails because a reused connection turns out to have been closed by the peer (the error's
 *   `staleConnection`), or before anything was sent, is sent again ONCE on another connection if that is
 *   safe: an idempotent method and an empty or buffered body (see {@link canRetryOnNewConnection}). The retry
 *   runs on a copy with forked extensions.
 *
 * @example
 * ```ts
 * const pool = connectionPool(source, { maxConnectionsPerAuthority: 8, idleTimeout: 2_000 });
 * const res = await pool.serve(Request.get("http://127.0.0.1:8080/"));
 * await res.body.text(); // the connection goes back to the pool here
 * await pool.close();
 * ```
 */
export class ConnectionPool<R extends PoolRoute = PoolRoute> implements Service<Request, Response> {
  readonly #source: ConnectionSource<R>;
  readonly #authorities = new Map<string, AuthorityPool<R>>();
  readonly #owner: PoolOwner<R>;
  readonly #idleTimeout: number;
  readonly #controller = new AbortController();
  #sweepTimer: ReturnType<typeof setInterval> | undefined = undefined;
  #closed: Promise<void> | undefined = undefined;
  #onEmpty: (() => void) | undefined = undefined;

  constructor(source: ConnectionSource<R>, options: PoolOptions = {}) {
    this.#source = source;
    const maxConnections = positive("maxConnectionsPerAuthority", options.maxConnectionsPerAuthority, 64);
    const idleTimeout = options.idleTimeout ?? 4000;
    if (!(idleTimeout >= 0)) throw new RangeError(`idleTimeout must be >= 0, got ${String(idleTimeout)}`);
    this.#idleTimeout = idleTimeout;
    const signal = this.#controller.signal;
    // Every connect in progress listens to it (to stop when the pool closes): many at once is normal.
    setMaxListeners(0, signal);
    this.#owner = {
      maxConnections,
      maxIdle: positive("maxIdlePerAuthority", options.maxIdlePerAuthority, maxConnections),
      maxWaiters: options.maxWaitersPerAuthority ?? 1024,
      signal,
      open: (route, listener, s) => this.#source.connect(route, listener, s),
      idle: () => this.#armSweep(),
      empty: (pool) => {
        if (this.#authorities.get(pool.key) === pool) this.#authorities.delete(pool.key);
        if (this.#authorities.size === 0) this.#onEmpty?.();
      },
    };
  }

  /** Send `request` on a pooled connection. Resolves with the response head; read the body to free the connection. */
  serve(request: Request): Promise<Response> {
    return this.#send(request).then(undefined, (error: unknown) => {
      // One retry, on a fresh copy, when the failure says the request never reached a live server.
      if (this.#controller.signal.aborted || signalOf(request).aborted) throw error;
      if (!canRetryOnNewConnection(error, request)) throw error;
      return this.#send(forkInput(request));
    });
  }

  #send(request: Request): Promise<Response> {
    if (this.#controller.signal.aborted) return Promise.reject(new PoolClosedError());
    let route: R;
    try {
      route = this.#source.route(request);
    } catch (error) {
      return Promise.reject(error);
    }
    const key = route.key;
    let pool = this.#authorities.get(key);
    if (pool === undefined) {
      pool = new AuthorityPool(key, route, this.#owner);
      this.#authorities.set(key, pool);
    }
    return pool.serve(request);
  }

  /** Counts summed over all authorities. */
  stats(): PoolStats {
    let connections = 0;
    let idle = 0;
    let connecting = 0;
    let waiting = 0;
    for (const pool of this.#authorities.values()) {
      connections += pool.connections;
      idle += pool.idle;
      connecting += pool.connecting;
      waiting += pool.waiting;
    }
    return { authorities: this.#authorities.size, connections, idle, connecting, waiting };
  }

  /**
   * Take no more requests: waiting requests fail with `ERR_HTTP_POOL_CLOSED`, connects in progress are
   * aborted, idle connections close now and busy ones once their exchange is over. Resolves when every
   * connection has closed.
   */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      const reason = new PoolClosedError();
      this.#controller.abort(reason);
      if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
      this.#onEmpty = resolve;
      for (const pool of [...this.#authorities.values()]) pool.close(reason);
      if (this.#authorities.size === 0) resolve();
    });
    return this.#closed;
  }

  /**
   * Close at once: as {@link ConnectionPool.close}, and the connections still busy are destroyed, their
   * exchanges failing with `reason` (default `ERR_HTTP_POOL_CLOSED`). Resolves when every connection has closed.
   */
  destroy(reason: Error = new PoolClosedError()): Promise<void> {
    const closed = this.close();
    for (const pool of [...this.#authorities.values()]) pool.destroy(reason);
    return closed;
  }

  #armSweep(): void {
    if (this.#sweepTimer !== undefined || !Number.isFinite(this.#idleTimeout)) return;
    // One timer for the whole pool, not one per idle connection (arming and clearing a timer per request costs
    // more than the rest of the pool's work). A connection closes between idleTimeout and 1.25 x idleTimeout.
    const period = Math.max(10, this.#idleTimeout / 4);
    this.#sweepTimer = setInterval(() => this.#sweep(), period);
    this.#sweepTimer.unref();
  }

  #sweep(): void {
    const deadline = Date.now() - this.#idleTimeout;
    let idle = false;
    for (const pool of [...this.#authorities.values()]) if (pool.sweep(deadline)) idle = true;
    if (!idle && this.#sweepTimer !== undefined) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
  }
}

/**
 * Make a {@link ConnectionPool} over `source`.
 *
 * @example
 * ```ts
 * const pool = connectionPool({
 *   route: (req) => ({ key: req.uri.authority! }),
 *   connect: async (route, listener, signal) => {
 *     const conn = await tcpConnector().serve(connectRequest(route.key, appendSignal(new Extensions(), signal)));
 *     return clientConnection(conn, { listener }); // from @tessera/http1
 *   },
 * });
 * ```
 */
export function connectionPool<R extends PoolRoute>(
  source: ConnectionSource<R>,
  options?: PoolOptions,
): ConnectionPool<R> {
  return new ConnectionPool(source, options);
}
