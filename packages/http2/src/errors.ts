import { TesseraError, type TesseraErrorOptions } from "@tessera/core";
import { ErrorCode, errorCodeName } from "./constants.js";

/**
 * How far an error reaches (RFC 9113 section 5.4): a connection error ends the connection (GOAWAY with
 * `errorCode`, then close); a stream error ends one stream (RST_STREAM with `errorCode`) and the connection goes
 * on. An endpoint may always treat a stream error as a connection error, never the other way round.
 */
export type ErrorScope = "connection" | "stream";

/**
 * The base of every error a peer's bytes can cause in this package. Besides the stable string `code`
 * (`ERR_HTTP2_*`), it carries what the connection needs to answer: the RFC 9113 `errorCode` to put in GOAWAY or
 * RST_STREAM, its `errorName`, the `scope`, and the `streamId` (the stream to reset for a stream error; for a
 * connection error, the stream of the offending frame, or 0).
 *
 * @example
 * ```ts
 * try {
 *   reader.push(chunk);
 * } catch (err) {
 *   if (err instanceof Http2Error && err.scope === "connection") {
 *     socket.end(encodeGoawayFrame(lastStreamId, err.errorCode));
 *   }
 * }
 * ```
 */
export class Http2Error extends TesseraError {
  /** The RFC 9113 error code (a number from {@link ErrorCode}). */
  readonly errorCode: number;
  /** The name of `errorCode`, e.g. `"PROTOCOL_ERROR"`. */
  readonly errorName: string;
  /** Connection error or stream error. */
  readonly scope: ErrorScope;
  /** The stream concerned (for a stream error, never 0). */
  readonly streamId: number;

  constructor(
    code: string,
    errorCode: number,
    scope: ErrorScope,
    streamId: number,
    message: string,
    options?: TesseraErrorOptions,
  ) {
    super(
      code,
      `${message} (${errorCodeName(errorCode)}, ${scope} error${streamId === 0 ? "" : ` on stream ${streamId}`})`,
      options,
    );
    this.errorCode = errorCode;
    this.errorName = errorCodeName(errorCode);
    this.scope = scope;
    this.streamId = streamId;
  }
}

/** A frame or sequence of frames breaks a rule of RFC 9113: PROTOCOL_ERROR. */
export class Http2ProtocolError extends Http2Error {
  static override readonly code = "ERR_HTTP2_PROTOCOL";
  constructor(message: string, scope: ErrorScope = "connection", streamId = 0) {
    super(Http2ProtocolError.code, ErrorCode.PROTOCOL_ERROR, scope, streamId, message);
  }
}

/**
 * A frame is larger than the local SETTINGS_MAX_FRAME_SIZE, or its length does not fit its type (PING not 8,
 * RST_STREAM not 4, SETTINGS not a multiple of 6, a payload too short for its fixed fields): FRAME_SIZE_ERROR.
 * A connection error except for PRIORITY (RFC 9113 6.3).
 */
export class Http2FrameSizeError extends Http2Error {
  static override readonly code = "ERR_HTTP2_FRAME_SIZE";
  constructor(message: string, scope: ErrorScope = "connection", streamId = 0) {
    super(Http2FrameSizeError.code, ErrorCode.FRAME_SIZE_ERROR, scope, streamId, message);
  }
}

/** SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 (RFC 9113 6.5.2), or a window overflow: FLOW_CONTROL_ERROR. */
export class Http2FlowControlError extends Http2Error {
  static override readonly code = "ERR_HTTP2_FLOW_CONTROL";
  constructor(message: string, scope: ErrorScope = "connection", streamId = 0) {
    super(Http2FlowControlError.code, ErrorCode.FLOW_CONTROL_ERROR, scope, streamId, message);
  }
}

/**
 * A header block that HPACK cannot decode (RFC 7541): a truncated or oversized integer, an index of 0 or past
 * the table, bad Huffman padding or an EOS symbol, a dynamic table size update larger than our acknowledged
 * SETTINGS_HEADER_TABLE_SIZE or after the first field. Always a connection error: the shared compression
 * context is now unknown (RFC 9113 4.3). The decoder that raised it is dead.
 */
export class Http2CompressionError extends Http2Error {
  static override readonly code = "ERR_HTTP2_COMPRESSION";
  constructor(message: string, streamId = 0, options?: TesseraErrorOptions) {
    super(Http2CompressionError.code, ErrorCode.COMPRESSION_ERROR, "connection", streamId, message, options);
  }
}

/**
 * The peer did not start with a valid connection preface (RFC 9113 3.4): the client magic
 * `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` did not match, or the first frame was not a SETTINGS frame. A connection
 * PROTOCOL_ERROR; a GOAWAY may be omitted, since the peer is probably not speaking HTTP/2 at all.
 */
export class Http2PrefaceError extends Http2Error {
  static override readonly code = "ERR_HTTP2_PREFACE";
  constructor(message: string) {
    super(Http2PrefaceError.code, ErrorCode.PROTOCOL_ERROR, "connection", 0, message);
  }
}

/**
 * A header block (HEADERS or PUSH_PROMISE plus its CONTINUATION frames) grew past `maxHeaderBlockSize` before
 * it ended. A connection error (ENHANCE_YOUR_CALM): the block cannot be decoded, so the HPACK context is lost.
 */
export class Http2HeaderBlockTooLargeError extends Http2Error {
  static override readonly code = "ERR_HTTP2_HEADER_BLOCK_TOO_LARGE";
  readonly limit: number;
  constructor(limit: number, streamId: number) {
    super(
      Http2HeaderBlockTooLargeError.code,
      ErrorCode.ENHANCE_YOUR_CALM,
      "connection",
      streamId,
      `header block larger than ${limit} bytes`,
    );
    this.limit = limit;
  }
}

/**
 * More than `maxContinuationFrames` CONTINUATION frames in one header block: the CONTINUATION flood of 2024
 * (CVE-2024-27316 and friends), where endless small or empty frames cost CPU and memory without ever ending the
 * block. A connection error (ENHANCE_YOUR_CALM).
 */
export class Http2ContinuationFloodError extends Http2Error {
  static override readonly code = "ERR_HTTP2_CONTINUATION_FLOOD";
  readonly limit: number;
  constructor(limit: number, streamId: number) {
    super(
      Http2ContinuationFloodError.code,
      ErrorCode.ENHANCE_YOUR_CALM,
      "connection",
      streamId,
      `more than ${limit} CONTINUATION frames in one header block`,
    );
    this.limit = limit;
  }
}

/**
 * The decoded header list is larger than the decoder's `maxHeaderListSize` (RFC 9113 6.5.2: name and value
 * octets plus 32 per field). The decoder stopped collecting fields at the limit but read the rest of the block,
 * so the HPACK context is intact and only this stream fails: a server answers 431, or resets the stream with
 * `errorCode` (ENHANCE_YOUR_CALM); a client fails the request.
 */
export class Http2HeaderListTooLargeError extends Http2Error {
  static override readonly code = "ERR_HTTP2_HEADER_LIST_TOO_LARGE";
  readonly limit: number;
  constructor(limit: number, streamId: number) {
    super(
      Http2HeaderListTooLargeError.code,
      ErrorCode.ENHANCE_YOUR_CALM,
      "stream",
      streamId,
      `header list larger than ${limit} bytes`,
    );
    this.limit = limit;
  }
}

/** A frame for a stream in a state that does not allow it (RFC 9113 5.1): STREAM_CLOSED. */
export class Http2StreamClosedError extends Http2Error {
  static override readonly code = "ERR_HTTP2_STREAM_CLOSED";
  constructor(message: string, scope: ErrorScope = "stream", streamId = 0) {
    super(Http2StreamClosedError.code, ErrorCode.STREAM_CLOSED, scope, streamId, message);
  }
}

/**
 * A request that breaks the field rules of RFC 9113 8.2/8.3 (upper-case or empty names, a missing, repeated or
 * unknown pseudo-header, a connection-specific field, `te` other than `trailers`, a content-length that the DATA
 * does not match): a stream PROTOCOL_ERROR. `reason` says which rule, stably, for logs and tests.
 */
export class Http2MalformedRequestError extends Http2Error {
  static override readonly code = "ERR_HTTP2_MALFORMED_REQUEST";
  readonly reason: string;
  constructor(reason: string, streamId: number) {
    super(
      Http2MalformedRequestError.code,
      ErrorCode.PROTOCOL_ERROR,
      "stream",
      streamId,
      `malformed request: ${reason}`,
    );
    this.reason = reason;
  }
}

/**
 * The peer abuses the connection (Rapid Reset, a SETTINGS or PING flood, empty frames, too many refused
 * streams): the server ends the connection with GOAWAY ENHANCE_YOUR_CALM. `reason` names the defence.
 */
export class Http2EnhanceYourCalmError extends Http2Error {
  static override readonly code = "ERR_HTTP2_ENHANCE_YOUR_CALM";
  readonly reason: string;
  constructor(reason: string) {
    super(Http2EnhanceYourCalmError.code, ErrorCode.ENHANCE_YOUR_CALM, "connection", 0, reason);
    this.reason = reason;
  }
}

/** The peer did not acknowledge our SETTINGS in time (RFC 9113 6.5.3): SETTINGS_TIMEOUT. */
export class Http2SettingsTimeoutError extends Http2Error {
  static override readonly code = "ERR_HTTP2_SETTINGS_TIMEOUT";
  constructor(ms: number) {
    super(
      Http2SettingsTimeoutError.code,
      ErrorCode.SETTINGS_TIMEOUT,
      "connection",
      0,
      `no SETTINGS ACK within ${ms} ms`,
    );
  }
}

/**
 * A stream ended before its exchange did: the peer reset it (RST_STREAM with `errorCode`) or the connection
 * closed. The abort reason of a request's signal and the error of its unfinished body.
 */
export class Http2StreamResetError extends Http2Error {
  static override readonly code = "ERR_HTTP2_STREAM_RESET";
  constructor(streamId: number, errorCode: number, message = "stream reset") {
    super(Http2StreamResetError.code, errorCode, "stream", streamId, message);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Errors of our own making: the caller asked to write something HTTP/2 cannot carry. No peer is at fault, so
// they are not Http2Errors and carry no RFC error code.

/** A frame that cannot be written: a stream id or length out of range, DATA on stream 0, a bad setting value. */
export class InvalidOutgoingFrameError extends TesseraError {
  static override readonly code = "ERR_HTTP2_INVALID_OUTGOING_FRAME";
  constructor(message: string) {
    super(InvalidOutgoingFrameError.code, `refusing to write frame: ${message}`);
  }
}

/** A header field that HPACK cannot carry as given (a character above U+00FF: fields are octets). */
export class InvalidOutgoingHeaderError extends TesseraError {
  static override readonly code = "ERR_HTTP2_INVALID_OUTGOING_HEADER";
  readonly headerName: string;
  constructor(headerName: string, message: string) {
    super(
      InvalidOutgoingHeaderError.code,
      `refusing to encode header ${JSON.stringify(headerName)}: ${message}`,
    );
    this.headerName = headerName;
  }
}
