import type { Shutdown } from "@tessera/core";
import type { Conn } from "@tessera/net";
import { type Http1Limits, resolveLimits } from "../limits.js";

/** Options of {@link server}. Every field has a default. */
export interface ServerOptions extends Partial<Http1Limits> {
  /**
   * Milliseconds a client has to send a complete request head, counted from the connection's start for the
   * first request and from the first byte of each later one. A slow client (slowloris) gets 408 and a close.
   * Default 30 000; `Infinity` turns it off.
   */
  readonly headerTimeout?: number;
  /**
   * Milliseconds a keep-alive connection may sit idle between a response and the next request before it is
   * closed (quietly). Default 5 000 (node:http's keepAliveTimeout); `Infinity` turns it off.
   */
  readonly idleTimeout?: number;
  /**
   * Requests read ahead of their responses on one connection (pipelining). Past this, the server stops reading
   * until a response is written, so a client that pipelines without reading costs bounded memory. Default 32.
   */
  readonly maxPipelined?: number;
  /** Unread request-body bytes buffered before the socket is paused (BodyChannel's mark). Default 64 KiB. */
  readonly bodyHighWaterMark?: number;
  /**
   * After a response, at most this many bytes of a request body the handler did not read are read and dropped to
   * keep the connection; more (or an unknown amount, announced up front) closes the connection. Default 64 KiB.
   */
  readonly maxDiscardBytes?: number;
  /** Reject HTTP/1.1 requests without Host (RFC 9112 3.2). Default true. */
  readonly requireHost?: boolean;
  /**
   * Graceful shutdown: when it closes, idle connections are closed and busy ones finish their current exchange
   * and close (`Connection: close`). The listener's `Draining` signal on a connection does the same.
   */
  readonly shutdown?: Shutdown;
  /**
   * Typed errors: parse errors of a peer (`Http1ParseError`, already answered with their status), header
   * timeouts, handler failures ({@link HandlerError}), responses that could not be sent, failed upgrades. Never
   * called for a plain disconnect. A throwing `onError` is ignored. Default: handler and response failures go
   * to `process.emitWarning`; what peers do wrong is dropped.
   */
  readonly onError?: (error: Error, conn: Conn) => void;
}

/** The options with defaults filled in and checked, shared by every connection of one server. */
export interface ResolvedServerOptions {
  readonly limits: Http1Limits;
  readonly requireHost: boolean;
  readonly headerTimeout: number;
  readonly idleTimeout: number;
  readonly maxPipelined: number;
  readonly bodyHighWaterMark: number;
  readonly maxDiscardBytes: number;
  readonly shutdown: Shutdown | undefined;
  readonly onError: ((error: Error, conn: Conn) => void) | undefined;
}

function positive(name: string, value: number | undefined, fallback: number, allowInfinity: boolean): number {
  if (value === undefined) return fallback;
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (!(Number.isSafeInteger(value) && value > 0)) {
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/**
 * Fill in defaults and validate (a RangeError names a bad option).
 *
 * @example
 * ```ts
 * resolveServerOptions({ idleTimeout: 1_000 }).headerTimeout; // 30000
 * ```
 */
export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  const maxDiscard = options.maxDiscardBytes;
  if (maxDiscard !== undefined && !(Number.isSafeInteger(maxDiscard) && maxDiscard >= 0)) {
    throw new RangeError(`maxDiscardBytes must be a non-negative integer, got ${String(maxDiscard)}`);
  }
  return {
    limits: resolveLimits(options),
    requireHost: options.requireHost ?? true,
    headerTimeout: positive("headerTimeout", options.headerTimeout, 30_000, true),
    idleTimeout: positive("idleTimeout", options.idleTimeout, 5_000, true),
    maxPipelined: positive("maxPipelined", options.maxPipelined, 32, false),
    bodyHighWaterMark: positive("bodyHighWaterMark", options.bodyHighWaterMark, 64 * 1024, false),
    maxDiscardBytes: maxDiscard ?? 64 * 1024,
    shutdown: options.shutdown,
    onError: options.onError,
  };
}
