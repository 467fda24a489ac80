export { CHUNK_TERMINATOR, chunkHeader, encodeChunk, LAST_CHUNK, lastChunk } from "./chunked-encoder.js";
export {
  BareCrError,
  BareLfError,
  ChunkExtensionTooLargeError,
  ContentLengthWithTransferEncodingError,
  DuplicateHostError,
  HeaderTooLargeError,
  Http1ParseError,
  Http2PrefaceError,
  IncompleteMessageError,
  InvalidChunkExtensionError,
  InvalidChunkSizeError,
  InvalidChunkTerminatorError,
  InvalidContentLengthError,
  InvalidHeaderNameError,
  InvalidHeaderValueError,
  InvalidHostError,
  InvalidMethodError,
  InvalidOutgoingHeaderError,
  InvalidOutgoingStartLineError,
  InvalidStatusLineError,
  InvalidTargetError,
  InvalidTransferEncodingError,
  InvalidVersionError,
  MissingHostError,
  ObsFoldError,
  TooManyHeadersError,
  TrailersTooLargeError,
  UnsupportedTransferCodingError,
  UnsupportedVersionError,
  UriTooLongError,
} from "./errors.js";
export type { HeaderFields, RequestHeadOptions, ResponseHeadOptions } from "./head-serializer.js";
export { encodeHead, serializeRequestHead, serializeResponseHead } from "./head-serializer.js";
export type { Http1Limits } from "./limits.js";
export { DEFAULT_LIMITS, resolveLimits } from "./limits.js";
export type { FramedHead } from "./message-head.js";
export { BodyFraming, RequestHead, ResponseHead } from "./message-head.js";
export type { Http1Handler, Http1ParserOptions } from "./parser.js";
export { Http1Parser } from "./parser.js";
export { RawHeaders } from "./raw-headers.js";
export type { RequestParserOptions } from "./request-parser.js";
export { RequestParser } from "./request-parser.js";
export { ResponseParser } from "./response-parser.js";
export { STATUS_REASONS } from "./status-codes.js";
