import { TesseraError, type TesseraErrorOptions } from "@tessera/core";

// Every error of this package has a stable `code`. Parse errors also carry `status`: the HTTP status a server
// answers to the request that caused it (400, 414, 431, 501, 505). The response parser raises the same classes
// with `status` 502, the answer of a proxy whose upstream sent a broken response; a client just fails the request.

/**
 * The base of every error raised by the HTTP/1 parsers. After one of these, the parser that raised it is dead:
 * it emits nothing more and every later `execute()` throws the same error again, so no message is ever parsed
 * from bytes that follow a framing error.
 */
export class Http1ParseError extends TesseraError {
  /** The HTTP status to answer with (see the class docs of each error for the request side). */
  readonly status: number;
  constructor(code: string, status: number, message: string, options?: TesseraErrorOptions) {
    super(code, message, options);
    this.status = status;
  }
}

/** The method is not a token (RFC 9110 9.1). 400. */
export class InvalidMethodError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_INVALID_METHOD";
  constructor(detail: string, status = 400) {
    super(InvalidMethodError.code, status, `invalid request method: ${detail}`);
  }
}

/** The request-target is empty or holds a byte outside visible ASCII (whitespace, control, non-ASCII). 400. */
export class InvalidTargetError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_INVALID_TARGET";
  constructor(detail: string, status = 400) {
    super(InvalidTargetError.code, status, `invalid request target: ${detail}`);
  }
}

/** The HTTP-version is not `HTTP/` DIGIT `.` DIGIT, or is missing (HTTP/0.9 request lines). 400. */
export class InvalidVersionError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_INVALID_VERSION";
  constructor(detail: string, status = 400) {
    super(InvalidVersionError.code, status, `invalid HTTP version: ${detail}`);
  }
}

/** A well-formed version other than HTTP/1.0 and HTTP/1.1. 505 (HTTP Version Not Supported). */
export class UnsupportedVersionError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_UNSUPPORTED_VERSION";
  readonly major: number;
  readonly minor: number;
  constructor(major: number, minor: number, status = 505) {
    super(UnsupportedVersionError.code, status, `unsupported HTTP version ${major}.${minor}`);
    this.major = major;
    this.minor = minor;
  }
}

/**
 * The request uses the `PRI` method, which exists only in the HTTP/2 connection preface (RFC 9113 3.4): an
 * HTTP/2 client is talking to an HTTP/1-only endpoint. 505.
 */
export class Http2PrefaceError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_HTTP2_PREFACE";
  constructor(status = 505) {
    super(Http2PrefaceError.code, status, "received the HTTP/2 connection preface (PRI method)");
  }
}

/** The status line of a response is malformed (status code not 3 digits in 100-999, missing space). 502. */
export class InvalidStatusLineError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_INVALID_STATUS_LINE";
  constructor(detail: string, status = 502) {
    super(InvalidStatusLineError.code, status, `invalid status line: ${detail}`);
  }
}

/** The request line (method, target, version) is longer than `maxStartLineBytes`. 414 (URI Too Long). */
export class UriTooLongError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_URI_TOO_LONG";
  readonly limit: number;
  constructor(limit: number, status = 414) {
    super(UriTooLongError.code, status, `request line longer than ${limit} bytes`);
    this.limit = limit;
  }
}

/**
 * The header section is larger than `maxHeaderBytes` (or, in a response, the status line is longer than
 * `maxStartLineBytes`). 431 (Request Header Fields Too Large).
 */
export class HeaderTooLargeError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_HEADER_TOO_LARGE";
  readonly limit: number;
  constructor(what: string, limit: number, status = 431) {
    super(HeaderTooLargeError.code, status, `${what} larger than ${limit} bytes`);
    this.limit = limit;
  }
}

/** More header (or trailer) fields than `maxHeaderCount`. 431. */
export class TooManyHeadersError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_TOO_MANY_HEADERS";
  readonly limit: number;
  constructor(limit: number, status = 431) {
    super(TooManyHeadersError.code, status, `more than ${limit} header fields`);
    this.limit = limit;
  }
}

/** The trailer section of a chunked body is larger than `maxTrailerBytes`. 431. */
export class TrailersTooLargeError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_TRAILERS_TOO_LARGE";
  readonly limit: number;
  constructor(limit: number, status = 431) {
    super(TrailersTooLargeError.code, status, `trailer section larger than ${limit} bytes`);
    this.limit = limit;
  }
}

/**
 * A field name is empty, holds a non-token byte, or is followed by whitespace before the colon (RFC 9112 5.1: a
 * server MUST reject that, because some parsers strip the whitespace and some keep it in the name). 400.
 */
export class InvalidHeaderNameError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_INVALID_HEADER_NAME";
  constructor(detail: string, status = 400) {
    super(InvalidHeaderNameError.code, status, `invalid header name: ${detail}`);
  }
}

/** A field value (or reason phrase) holds NUL, DEL or a control other than HTAB. 400. */
export class InvalidHeaderValueError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_INVALID_HEADER_VALUE";
  constructor(detail: string, status = 400) {
    super(InvalidHeaderValueError.code, status, `invalid header value: ${detail}`);
  }
}

/**
 * A header line starts with whitespace: obsolete line folding (RFC 9112 5.2), or whitespace between the start
 * line and the first field (RFC 9112 2.2). Both are rejected rather than unfolded. 400.
 */
export class ObsFoldError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_OBS_FOLD";
  constructor(status = 400) {
    super(ObsFoldError.code, status, "header line starts with whitespace (obsolete line folding)");
  }
}

/** A CR not followed by LF. 400. */
export class BareCrError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_BARE_CR";
  constructor(where: string, status = 400) {
    super(BareCrError.code, status, `CR not followed by LF ${where}`);
  }
}

/** An LF not preceded by CR: only CRLF ends a line here, since parsers that accept bare LF can be desynced. 400. */
export class BareLfError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_BARE_LF";
  constructor(where: string, status = 400) {
    super(BareLfError.code, status, `LF without CR ${where}`);
  }
}

/**
 * Content-Length is not `1*DIGIT`, exceeds 2^53-1, or appears several times with different values. Identical
 * repeated values (`5, 5` or two `Content-Length: 5` lines) are accepted as RFC 9110 8.6 allows. 400.
 */
export class InvalidContentLengthError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_INVALID_CONTENT_LENGTH";
  constructor(detail: string, status = 400) {
    super(InvalidContentLengthError.code, status, `invalid Content-Length: ${detail}`);
  }
}

/** Both Content-Length and Transfer-Encoding are present: the classic request-smuggling shape. 400. */
export class ContentLengthWithTransferEncodingError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_CONTENT_LENGTH_AND_TRANSFER_ENCODING";
  constructor(status = 400) {
    super(
      ContentLengthWithTransferEncodingError.code,
      status,
      "both Content-Length and Transfer-Encoding are present",
    );
  }
}

/**
 * Transfer-Encoding is malformed (empty list elements, parameters, non-token bytes), has `chunked` more than
 * once, in a request does not end with `chunked` (RFC 9112 6.3: the length cannot be determined), or appears in
 * an HTTP/1.0 message (RFC 9112 6.1). 400.
 */
export class InvalidTransferEncodingError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_INVALID_TRANSFER_ENCODING";
  constructor(detail: string, status = 400) {
    super(InvalidTransferEncodingError.code, status, `invalid Transfer-Encoding: ${detail}`);
  }
}

/** A request's Transfer-Encoding ends with `chunked` but also lists codings this parser does not decode. 501. */
export class UnsupportedTransferCodingError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_UNSUPPORTED_TRANSFER_CODING";
  constructor(detail: string, status = 501) {
    super(UnsupportedTransferCodingError.code, status, `unsupported transfer coding: ${detail}`);
  }
}

/** An HTTP/1.1 request without a Host field (RFC 9112 3.2). 400. */
export class MissingHostError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_MISSING_HOST";
  constructor(status = 400) {
    super(MissingHostError.code, status, "HTTP/1.1 request without a Host header");
  }
}

/** A request with more than one Host field line (RFC 9112 3.2). 400. */
export class DuplicateHostError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_DUPLICATE_HOST";
  constructor(status = 400) {
    super(DuplicateHostError.code, status, "more than one Host header");
  }
}

/** A Host value that is not `uri-host [ ":" port ]` (whitespace, "@", "/", ...). 400. */
export class InvalidHostError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_INVALID_HOST";
  constructor(status = 400) {
    super(InvalidHostError.code, status, "invalid Host header value");
  }
}

/** A chunk-size line whose size is missing, not hex, too long (over 2^53-1) or followed by junk. 400. */
export class InvalidChunkSizeError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_INVALID_CHUNK_SIZE";
  constructor(detail: string, status = 400) {
    super(InvalidChunkSizeError.code, status, `invalid chunk size: ${detail}`);
  }
}

/** A chunk extension that does not match `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )`. 400. */
export class InvalidChunkExtensionError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_INVALID_CHUNK_EXTENSION";
  constructor(detail: string, status = 400) {
    super(InvalidChunkExtensionError.code, status, `invalid chunk extension: ${detail}`);
  }
}

/** The chunk extensions of one message add up to more than `maxChunkExtensionBytes`. 400. */
export class ChunkExtensionTooLargeError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_CHUNK_EXTENSION_TOO_LARGE";
  readonly limit: number;
  constructor(limit: number, status = 400) {
    super(ChunkExtensionTooLargeError.code, status, `chunk extensions larger than ${limit} bytes`);
    this.limit = limit;
  }
}

/** Chunk data not followed by CRLF. 400. */
export class InvalidChunkTerminatorError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_INVALID_CHUNK_TERMINATOR";
  constructor(status = 400) {
    super(InvalidChunkTerminatorError.code, status, "chunk data not followed by CRLF");
  }
}

/** The connection ended (`finish()`) in the middle of a message. 400. */
export class IncompleteMessageError extends Http1ParseError {
  static override readonly code = "ERR_HTTP1_INCOMPLETE_MESSAGE";
  constructor(where: string, status = 400) {
    super(IncompleteMessageError.code, status, `connection ended in the middle of a message (${where})`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Serializer errors: a programming error on our side (or an injection attempt through a header value), never a
// peer's fault, so they carry no status.

/** A header name that is not a token or a value holding CR, LF, NUL or another control (or a char > 0xFF). */
export class InvalidOutgoingHeaderError extends TesseraError {
  static override readonly code = "ERR_HTTP1_INVALID_OUTGOING_HEADER";
  readonly headerName: string;
  constructor(headerName: string, detail: string) {
    super(
      InvalidOutgoingHeaderError.code,
      `refusing to send header ${JSON.stringify(headerName)}: ${detail}`,
    );
    this.headerName = headerName;
  }
}

/** A method, request-target, status code or reason phrase that cannot be written on a start line. */
export class InvalidOutgoingStartLineError extends TesseraError {
  static override readonly code = "ERR_HTTP1_INVALID_OUTGOING_START_LINE";
  constructor(detail: string) {
    super(InvalidOutgoingStartLineError.code, `refusing to send start line: ${detail}`);
  }
}
