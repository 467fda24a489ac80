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

// HTTP/1.1 client: connection and CONNECT tunnel. Imported and then exported (not `export ... from`) so this block
// stays contiguous at the end of the file: the import sorter orders re-exports across the whole file.
import {
  clientConnection,
  Http1ClientConnection,
  type Http1ClientOptions,
} from "./client/client-connection.js";
import { type HttpConnectOptions, httpConnect } from "./client/connect-tunnel.js";
import {
  type ConnectionClosedFacts,
  Http1ConnectionBusyError,
  Http1ConnectionClosedError,
  Http1RequestInvalidError,
  Http1ResponseInvalidError,
  ProxyAuthRequiredError,
  ProxyConnectError,
} from "./client/errors.js";
import { RequestFraming, RequestHeadBuilder } from "./client/request-head.js";

export type { ConnectionClosedFacts, Http1ClientOptions, HttpConnectOptions };
export {
  clientConnection,
  Http1ClientConnection,
  Http1ConnectionBusyError,
  Http1ConnectionClosedError,
  Http1RequestInvalidError,
  Http1ResponseInvalidError,
  httpConnect,
  ProxyAuthRequiredError,
  ProxyConnectError,
  RequestFraming,
  RequestHeadBuilder,
};

// HTTP/1.1 server and forward proxy. Imported, then exported, for the same reason as the client block above.
import { type ForwardProxyOptions, forwardProxy } from "./proxy/forward-proxy.js";
import { appendVia, isHopByHop, withoutHopByHop } from "./proxy/hop-by-hop.js";
import { type ProxyAuth, proxyAuthorized, proxyAuthRequired } from "./proxy/proxy-auth.js";
import type { ServerHandler } from "./server/connection.js";
import {
  HandlerError,
  HeaderTimeoutError,
  InvalidResponseError,
  ResponseBodyError,
  UpgradeError,
} from "./server/errors.js";
import type { ServerOptions } from "./server/options.js";
import { server } from "./server/server.js";
import { OnUpgrade, withUpgrade } from "./server/upgrade.js";

export type { ForwardProxyOptions, ProxyAuth, ServerHandler, ServerOptions };
export {
  appendVia,
  forwardProxy,
  HandlerError,
  HeaderTimeoutError,
  InvalidResponseError,
  isHopByHop,
  OnUpgrade,
  proxyAuthorized,
  proxyAuthRequired,
  ResponseBodyError,
  server,
  UpgradeError,
  withoutHopByHop,
  withUpgrade,
};
