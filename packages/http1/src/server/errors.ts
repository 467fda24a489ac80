import { TesseraError, type TesseraErrorOptions } from "@tessera/core";

// Errors the HTTP/1 server reports to its `onError` option. Parse errors of a peer keep their own classes
// (Http1ParseError and subclasses, with the status that was answered); these cover what happens around them.

/** A client did not finish sending a request head within `headerTimeout` (slowloris). Answered with 408. */
export class HeaderTimeoutError extends TesseraError {
  static override readonly code = "ERR_HTTP1_HEADER_TIMEOUT";
  /** The status that was answered. */
  readonly status = 408;
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(HeaderTimeoutError.code, `no complete request head within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The handler rejected (or threw) instead of returning a response; `cause` is what it threw. The client got a
 * 500 (or the 4xx status a Tessera error carried, e.g. 400 for an unparsable target), or a closed connection
 * when the response head had already been sent.
 */
export class HandlerError extends TesseraError {
  static override readonly code = "ERR_HTTP1_HANDLER";
  constructor(options?: TesseraErrorOptions) {
    super(HandlerError.code, "the request handler failed", options);
  }
}

/**
 * The handler returned something the server cannot send: not a `Response`, an interim status (1xx) as the
 * final answer, or a 101 / 2xx-to-CONNECT without an upgrade service. Answered with 500.
 */
export class InvalidResponseError extends TesseraError {
  static override readonly code = "ERR_HTTP1_INVALID_RESPONSE";
  constructor(detail: string) {
    super(InvalidResponseError.code, `the handler's response cannot be sent: ${detail}`);
  }
}

/**
 * Writing a streaming response body failed after its head was sent (the body's producer failed, or produced
 * another length than declared). The connection was closed, so the client sees an incomplete response rather
 * than a wrong one; `cause` has the reason.
 */
export class ResponseBodyError extends TesseraError {
  static override readonly code = "ERR_HTTP1_RESPONSE_BODY";
  constructor(options?: TesseraErrorOptions) {
    super(ResponseBodyError.code, "the response body failed after its head was sent", options);
  }
}

/** The service given the connection after an upgrade or CONNECT rejected; `cause` has its error. */
export class UpgradeError extends TesseraError {
  static override readonly code = "ERR_HTTP1_UPGRADE";
  constructor(options?: TesseraErrorOptions) {
    super(UpgradeError.code, "the upgrade service failed", options);
  }
}
