// @tessera/http2: the foundation of HTTP/2 (RFC 9113) and HPACK (RFC 7541). Frames in and out, the connection
// preface, header-block assembly with flood limits, and HPACK over hpack.js with limits and typed errors. The
// connection and stream state machine, flow control, server and client are built on these.

// The client: one multiplexed connection as a Service<Request, Response> (a ClientConnection of @tessera/http).
export { clientConnection, Http2ClientConnection } from "./client-connection.js";
export {
  Http2ConnectionBusyError,
  Http2ConnectionClosedError,
  Http2HandshakeTimeoutError,
  Http2MalformedResponseError,
  Http2RequestNotProcessedError,
} from "./client-errors.js";
export type { Http2ClientOptions, PriorityFrameSpec } from "./client-options.js";
// The server: connections, streams, flow control, defences.
export type { Http2Handler } from "./connection.js";
export {
  ErrorCode,
  ExtensionFrameType,
  errorCodeName,
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
  Http2EnhanceYourCalmError,
  Http2Error,
  Http2FlowControlError,
  Http2FrameSizeError,
  Http2HeaderBlockTooLargeError,
  Http2HeaderListTooLargeError,
  Http2MalformedRequestError,
  Http2PrefaceError,
  Http2ProtocolError,
  Http2SettingsTimeoutError,
  Http2StreamClosedError,
  Http2StreamResetError,
  InvalidOutgoingFrameError,
  InvalidOutgoingHeaderError,
} from "./errors.js";
export type { FingerprintPriority, Http2Fingerprint } from "./fingerprint.js";
export { akamaiFingerprint, Http2FingerprintKey } from "./fingerprint.js";
export { FloodGuard } from "./flood-guard.js";
export { ReceiveWindow, SendWindow } from "./flow-control.js";
export type { FrameReaderOptions } from "./frame-reader.js";
export { FrameReader } from "./frame-reader.js";
export type { FrameHandler, PrioritySpec } from "./frame-types.js";
export { Frame } from "./frame-types.js";
export type {
  DataFrameOptions,
  FrameWriterOptions,
  HeadersFrameOptions,
  PushPromiseFrameOptions,
  SettingsEntries,
} from "./frame-writer.js";
export {
  encodeDataFrame,
  encodeFrame,
  encodeFrameHeader,
  encodeGoawayFrame,
  encodeHeadersFrame,
  encodePingFrame,
  encodePreface,
  encodePriorityFrame,
  encodePushPromiseFrame,
  encodeRstStreamFrame,
  encodeSettingsAckFrame,
  encodeSettingsFrame,
  encodeWindowUpdateFrame,
  FrameWriter,
} from "./frame-writer.js";
export type { HeaderBlockLimits } from "./header-block-assembler.js";
export { DEFAULT_HEADER_BLOCK_LIMITS, HeaderBlockAssembler } from "./header-block-assembler.js";
export { HeaderList } from "./header-list.js";
export type { HpackDecoderOptions } from "./hpack-decoder.js";
export { DEFAULT_MAX_HEADER_LIST_SIZE, HpackDecoder } from "./hpack-decoder.js";
export type { HpackEncoderOptions } from "./hpack-encoder.js";
export { HpackEncoder } from "./hpack-encoder.js";
export type { Http2ServerOptions, ResolvedHttp2ServerOptions } from "./options.js";
export {
  CONNECTION_PREFACE,
  CONNECTION_PREFACE_LENGTH,
  PrefaceMatcher,
  startsWithPreface,
} from "./preface.js";
export type { PseudoHeader } from "./request-fields.js";
export { DEFAULT_PSEUDO_HEADER_ORDER, requestFields } from "./request-fields.js";
export type { RequestHead } from "./request-headers.js";
export { parseRequestHead, parseTrailers } from "./request-headers.js";
export type { ResponseHead } from "./response-head.js";
export { parseResponseHead, parseResponseTrailers } from "./response-head.js";
export { server } from "./server.js";
export type { Http2Settings } from "./settings.js";
export {
  applySettings,
  checkSetting,
  DEFAULT_SETTINGS,
  isValidSettingValue,
  SettingId,
  settingName,
  settingsEntries,
} from "./settings.js";
export { StreamState } from "./stream-state.js";
