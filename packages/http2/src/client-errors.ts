import { TesseraError, type TesseraErrorOptions } from "@tessera/core";
import { ErrorCode } from "./constants.js";
import { Http2Error } from "./errors.js";

// The errors of the HTTP/2 client side. Each has a stable `code`; the ones a pool may retry on carry the facts of
// `ConnectionFailureFacts` (@tessera/http) as plain fields.

/**
 * A response that breaks the field rules of RFC 9113 8.2/8.3 (a missing or repeated `:status`, a request
 * pseudo-header, upper-case or connection-specific fields, a content-length the DATA does not match, DATA after
 * a response that has no content): a stream PROTOCOL_ERROR. The stream is reset and the request fails.
 */
export class Http2MalformedResponseError extends Http2Error {
  static override readonly code = "ERR_HTTP2_MALFORMED_RESPONSE";
  readonly reason: string;
  /** What a proxy answers when its upstream sends this: 502. */
  readonly status = 502;
  constructor(reason: string, streamId: number) {
    super(
      Http2MalformedResponseError.code,
      ErrorCode.PROTOCOL_ERROR,
      "stream",
      streamId,
      `malformed response: ${reason}`,
    );
    this.reason = reason;
  }
}

/**
 * The server did not process the request, so sending it again (on another connection) is safe whatever its
 * method (RFC 9113 8.7): it refused the stream (RST_STREAM REFUSED_STREAM), or its GOAWAY's last stream id is
 * below the request's stream. `requestSent` is false, which is what tells the pool to retry.
 */
export class Http2RequestNotProcessedError extends TesseraError {
  static override readonly code = "ERR_HTTP2_REQUEST_NOT_PROCESSED";
  readonly requestSent = false;
  readonly streamId: number;
  constructor(streamId: number, message: string, options?: TesseraErrorOptions) {
    super(Http2RequestNotProcessedError.code, message, options);
    this.streamId = streamId;
  }
}

/**
 * The connection closed (the socket ended or failed, a connection error, `destroy()`) before the exchange was
 * over. `cause` holds what ended it. `staleConnection` is true when the connection had completed exchanges
 * before and nothing of this response had arrived: the server most likely closed it while idle.
 */
export class Http2ConnectionClosedError extends TesseraError {
  static override readonly code = "ERR_HTTP2_CONNECTION_CLOSED";
  readonly requestSent: boolean;
  readonly staleConnection: boolean;
  constructor(
    message: string,
    requestSent: boolean,
    staleConnection: boolean,
    options?: TesseraErrorOptions,
  ) {
    super(Http2ConnectionClosedError.code, message, options);
    this.requestSent = requestSent;
    this.staleConnection = staleConnection;
  }
}

/** More requests than the connection's `capacity` (the peer's MAX_CONCURRENT_STREAMS) were given to it. */
export class Http2ConnectionBusyError extends TesseraError {
  static override readonly code = "ERR_HTTP2_CONNECTION_BUSY";
  readonly requestSent = false;
  constructor(limit: number) {
    super(Http2ConnectionBusyError.code, `the HTTP/2 connection has ${limit} streams open, its limit`);
  }
}

/** The server did not open the connection with its SETTINGS frame in time. */
export class Http2HandshakeTimeoutError extends TesseraError {
  static override readonly code = "ERR_HTTP2_HANDSHAKE_TIMEOUT";
  readonly requestSent = false;
  constructor(ms: number) {
    super(Http2HandshakeTimeoutError.code, `no SETTINGS from the server within ${ms} ms`);
  }
}
