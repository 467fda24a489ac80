import type { TesseraErrorOptions } from "@tessera/core";
import { HttpError } from "../errors.js";

// Errors of the HTTP client (pool and builder). The `status` is what a proxy built on the client answers when it
// meets one: 503 when the pool cannot take the request, 502 when the upstream cannot be reached as asked.

/** The pool is closed (or closing) and takes no more requests. 503. */
export class PoolClosedError extends HttpError {
  static override readonly code = "ERR_HTTP_POOL_CLOSED";
  constructor(options?: TesseraErrorOptions) {
    super(PoolClosedError.code, 503, "the connection pool is closed", options);
  }
}

/** Every connection to the authority is busy, none can be opened, and the queue of waiting requests is full. 503. */
export class PoolQueueFullError extends HttpError {
  static override readonly code = "ERR_HTTP_POOL_QUEUE_FULL";
  readonly authority: string;
  readonly limit: number;
  constructor(authority: string, limit: number) {
    super(
      PoolQueueFullError.code,
      503,
      `${limit} requests are already waiting for a connection to ${authority}`,
    );
    this.authority = authority;
    this.limit = limit;
  }
}

/**
 * The client cannot send this request: its URI scheme is not http or https, or https was asked for without a TLS
 * layer, or the server negotiated a protocol (ALPN) the client was not given. 502.
 */
export class UnsupportedProtocolError extends HttpError {
  static override readonly code = "ERR_HTTP_CLIENT_UNSUPPORTED_PROTOCOL";
  constructor(message: string, options?: TesseraErrorOptions) {
    super(UnsupportedProtocolError.code, 502, message, options);
  }
}

/** The client's configuration cannot work (a proxy URL that does not parse, a tunnel without its layer). 500. */
export class ClientConfigError extends HttpError {
  static override readonly code = "ERR_HTTP_CLIENT_CONFIG";
  constructor(message: string, options?: TesseraErrorOptions) {
    super(ClientConfigError.code, 500, message, options);
  }
}
