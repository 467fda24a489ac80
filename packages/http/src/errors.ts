import { TesseraError, type TesseraErrorOptions } from "@tessera/core";

// Every error of this package has a stable `code` and a `status`: the HTTP status a server answers with when the
// error comes from what a peer sent (a bad header from a client is a 400, a body over the limit a 413). An error
// raised by the application's own code (a bad header it tried to set) carries 500, the status of a bug.

/** The base of every error of `@tessera/http`. */
export class HttpError extends TesseraError {
  /** The HTTP status a server answers with when a peer's input caused this error. */
  readonly status: number;
  constructor(code: string, status: number, message: string, options?: TesseraErrorOptions) {
    super(code, message, options);
    this.status = status;
  }
}

function show(text: string): string {
  // JSON.stringify escapes CR, LF and other controls, so an injection attempt is visible in logs, not acted on.
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text);
}

/** A header name that is not a token (RFC 9110 5.6.2): empty, or with a space, colon, control or non-ASCII char. */
export class InvalidHeaderNameError extends HttpError {
  static override readonly code = "ERR_HTTP_INVALID_HEADER_NAME";
  readonly headerName: string;
  constructor(name: string, status = 500) {
    super(InvalidHeaderNameError.code, status, `invalid header name ${show(name)}: not a token`);
    this.headerName = name;
  }
}

/**
 * A header value with CR, LF, NUL, another control character (HTAB excepted), DEL, or a character above U+00FF
 * (not representable on the wire). CR and LF would let a value inject header lines or a whole message.
 */
export class InvalidHeaderValueError extends HttpError {
  static override readonly code = "ERR_HTTP_INVALID_HEADER_VALUE";
  readonly headerName: string;
  constructor(name: string, status = 500) {
    super(
      InvalidHeaderValueError.code,
      status,
      `invalid value for header ${show(name)}: CR, LF, NUL, a control character or a character above U+00FF`,
    );
    this.headerName = name;
  }
}

/** A method that is not a token (RFC 9110 9.1). */
export class InvalidMethodError extends HttpError {
  static override readonly code = "ERR_HTTP_INVALID_METHOD";
  readonly method: string;
  constructor(method: string, status = 500) {
    super(InvalidMethodError.code, status, `invalid method ${show(method)}: not a token`);
    this.method = method;
  }
}

/** A status code that is not an integer in 100-999 (three digits, RFC 9110 15). */
export class InvalidStatusError extends HttpError {
  static override readonly code = "ERR_HTTP_INVALID_STATUS";
  readonly statusCode: unknown;
  constructor(statusCode: unknown) {
    super(InvalidStatusError.code, 500, `invalid status ${String(statusCode)}: not an integer in 100-999`);
    this.statusCode = statusCode;
  }
}

/** Why a URI or request-target was rejected (stable, like the code). */
export type UriErrorReason =
  | "empty"
  | "control-character"
  | "whitespace"
  | "non-ascii"
  | "invalid-character"
  | "fragment"
  | "bad-percent-encoding"
  | "invalid-scheme"
  | "missing-authority"
  | "userinfo"
  | "invalid-authority"
  | "wrong-form";

/**
 * A request-target or URI that does not parse, or that uses a form its method does not allow. `reason` says
 * which rule it broke; `input` is the text given. 400 when it came from a peer.
 */
export class InvalidUriError extends HttpError {
  static override readonly code = "ERR_HTTP_INVALID_URI";
  readonly reason: UriErrorReason;
  readonly input: string;
  constructor(reason: UriErrorReason, input: string, detail: string, options?: TesseraErrorOptions) {
    super(InvalidUriError.code, 400, `invalid URI ${show(input)}: ${detail}`, options);
    this.reason = reason;
    this.input = input;
  }
}

/** A body is larger than the limit its reader set (`text()`, `json()`, `bytes()`). 413 (Content Too Large). */
export class BodyTooLargeError extends HttpError {
  static override readonly code = "ERR_HTTP_BODY_TOO_LARGE";
  readonly limit: number;
  constructor(limit: number) {
    super(BodyTooLargeError.code, 413, `the body is larger than the limit of ${limit} bytes`);
    this.limit = limit;
  }
}

/** A body was read a second time. A body is a stream: it can be consumed once. */
export class BodyConsumedError extends HttpError {
  static override readonly code = "ERR_HTTP_BODY_CONSUMED";
  constructor() {
    super(BodyConsumedError.code, 500, "the body has already been consumed");
  }
}

/** A body was read after it was cancelled, or while a read was pending; `cause` is the cancel reason. */
export class BodyCancelledError extends HttpError {
  static override readonly code = "ERR_HTTP_BODY_CANCELLED";
  constructor(options?: TesseraErrorOptions) {
    super(BodyCancelledError.code, 500, "the body was cancelled", options);
  }
}

/**
 * A body with a declared length produced a different number of bytes. A server must not put such a body on
 * the wire behind a Content-Length: the peer would read the next message from the wrong place.
 */
export class BodyLengthMismatchError extends HttpError {
  static override readonly code = "ERR_HTTP_BODY_LENGTH_MISMATCH";
  readonly expected: number;
  readonly actual: number;
  constructor(expected: number, actual: number) {
    super(
      BodyLengthMismatchError.code,
      500,
      `the body declared ${expected} bytes but ${actual > expected ? "produced more" : `ended after ${actual}`}`,
    );
    this.expected = expected;
    this.actual = actual;
  }
}

/** `json()` was called on a body that is not valid JSON. 400; `cause` is the `SyntaxError`. */
export class InvalidJsonError extends HttpError {
  static override readonly code = "ERR_HTTP_INVALID_JSON";
  constructor(options?: TesseraErrorOptions) {
    super(InvalidJsonError.code, 400, "the body is not valid JSON", options);
  }
}

/** A body chunk that is not a `Uint8Array` (or a string, which is UTF-8 encoded). */
export class InvalidBodyChunkError extends HttpError {
  static override readonly code = "ERR_HTTP_INVALID_BODY_CHUNK";
  constructor(chunk: unknown) {
    super(InvalidBodyChunkError.code, 500, `a body chunk must be a Uint8Array, got ${typeof chunk}`);
  }
}

/** A node:http request listener could not produce a response (it threw, or its socket closed first). */
export class NodeHandlerError extends HttpError {
  static override readonly code = "ERR_HTTP_NODE_HANDLER";
  constructor(detail: string, options?: TesseraErrorOptions) {
    super(NodeHandlerError.code, 502, `the node:http listener failed: ${detail}`, options);
  }
}
