import type { Extensions, Service } from "@tessera/core";
import type { Conn } from "@tessera/net";
import type { Request } from "../request.js";
import type { Response } from "../response.js";

/**
 * One client connection of some HTTP version, as the pool sees it: a `Service<Request, Response>` that says how
 * many more requests it takes right now and when it is gone. HTTP/1.1 takes one request at a time (`capacity` 1
 * when idle, else 0); HTTP/2 takes up to the peer's MAX_CONCURRENT_STREAMS. `@tessera/http` never imports a
 * protocol package: `@tessera/http1` (and later `@tessera/http2`) implement this and the client builder receives
 * their factories as arguments, as the auto server receives the h1/h2 servers.
 *
 * An exchange is over when the response body has ENDED on the wire (and the request body was sent), not when the
 * response head arrived: only then does `capacity` go up again and `onAvailable` fire.
 *
 * Errors: a request that failed because the connection died rejects with an error that may carry two facts the
 * pool reads to decide on a retry (see {@link ConnectionFailureFacts}).
 */
export interface ClientConnection extends Service<Request, Response> {
  /** The connection's extensions (the `Conn`'s: peer address, negotiated ALPN, the proxy used, ...). */
  readonly extensions: Extensions;
  /** How many more requests it takes right now (0 while full, closing or closed). */
  readonly capacity: number;
  /** Exchanges not over yet (a response body still arriving, a request body still being sent). */
  readonly inFlight: number;
  /** True once it will never take a request again (peer closed, error, `Connection: close`, `close()`). */
  readonly closed: boolean;
  /** Take no more requests; close once the exchanges in flight are over (at once when idle). */
  close(): void;
  /** Close now: exchanges in flight fail with `reason`. */
  destroy(reason?: Error): void;
}

/**
 * What a connection tells its owner (the pool). Methods, not closures: one listener (a pool's per-authority
 * state) serves every connection it owns, so a connection costs no closure.
 */
export interface ClientConnectionListener {
  /** `capacity` went up from 0: an exchange is over and the connection can take a request again. */
  onAvailable(connection: ClientConnection): void;
  /** The connection closed for good (called once). */
  onClose(connection: ClientConnection): void;
}

/** What every protocol's client connection factory accepts (protocol packages extend it with their own options). */
export interface ClientConnectionOptions {
  /** Told when the connection becomes available again and when it closes. */
  readonly listener?: ClientConnectionListener | undefined;
}

/**
 * Starts a protocol on a connected `Conn`: `@tessera/http1`'s `clientConnection` is one. May be asynchronous
 * (HTTP/2 exchanges SETTINGS first).
 *
 * @example
 * ```ts
 * import { clientConnection } from "@tessera/http1";
 * const http1: ClientConnectionFactory = clientConnection;
 * const tuned: ClientConnectionFactory = (conn, options) => clientConnection(conn, { ...options, expectContinueTimeout: 500 });
 * ```
 */
export type ClientConnectionFactory = (
  conn: Conn,
  options: ClientConnectionOptions,
) => ClientConnection | Promise<ClientConnection>;

/**
 * Facts a connection error may carry (as plain properties) so that the pool can tell whether sending the request
 * again on another connection is safe. Protocol packages define their own error classes with these fields.
 */
export interface ConnectionFailureFacts {
  /** False when not one byte of the request was handed to the connection: repeating it is always safe. */
  readonly requestSent?: boolean;
  /**
   * True when the connection had served an exchange before and closed before any byte of the response came
   * back: most likely the peer closed it while it sat idle, and the request crossed the close on the wire.
   */
  readonly staleConnection?: boolean;
}
