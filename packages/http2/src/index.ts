// @tessera/http2: the foundation of HTTP/2 (RFC 9113) and HPACK (RFC 7541).

export {
  ErrorCode,
  errorCodeName,
  ExtensionFrameType,
  FRAME_HEADER_LENGTH,
  FrameFlag,
  FrameType,
  frameTypeName,
  isCoreFrameType,
  MAX_MAX_FRAME_SIZE,
  MAX_STREAM_ID,
  MAX_UINT32,
  MAX_WINDOW_SIZE,
  MIN_MAX_FRAME_SIZE,
} from "./constants.js";
export type { ErrorScope } from "./errors.js";
export {
  Http2CompressionError,
  Http2ContinuationFloodError,
  Http2Error,
  Http2FlowControlError,
  Http2FrameSizeError,
  Http2HeaderBlockTooLargeError,
  Http2HeaderListTooLargeError,
  Http2PrefaceError,
  Http2ProtocolError,
  InvalidOutgoingFrameError,
  InvalidOutgoingHeaderError,
} from "./errors.js";
export { HeaderList } from "./header-list.js";
export type { HpackDecoderOptions } from "./hpack-decoder.js";
export { DEFAULT_MAX_HEADER_LIST_SIZE, HpackDecoder } from "./hpack-decoder.js";
export type { HpackEncoderOptions } from "./hpack-encoder.js";
export { HpackEncoder } from "./hpack-encoder.js";
