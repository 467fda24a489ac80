export type { BodyInit, BodyOptions, BodySource, ReadOptions } from "./body.js";
export { Body, DEFAULT_BODY_LIMIT } from "./body.js";
export type { BodyChannelListener, BodyChannelOptions } from "./body-channel.js";
export { BodyChannel } from "./body-channel.js";
export type { UriErrorReason } from "./errors.js";
export {
  BodyCancelledError,
  BodyConsumedError,
  BodyLengthMismatchError,
  BodyTooLargeError,
  HttpError,
  InvalidBodyChunkError,
  InvalidHeaderNameError,
  InvalidHeaderValueError,
  InvalidJsonError,
  InvalidMethodError,
  InvalidStatusError,
  InvalidUriError,
  NodeHandlerError,
} from "./errors.js";
export type { FetchHandler, FetchInteropOptions } from "./fetch-interop.js";
export {
  fromFetchHandler,
  fromFetchRequest,
  fromFetchResponse,
  toFetchHandler,
  toFetchRequest,
  toFetchResponse,
} from "./fetch-interop.js";
export type { HeaderSource, HeadersInit } from "./header-map.js";
export { HeaderMap } from "./header-map.js";
export { assertHeaderName, assertHeaderValue, isFieldValue, isToken } from "./header-validation.js";
export { Method } from "./method.js";
export type { NodeInteropOptions, NodeRequestListener } from "./node-interop.js";
export { fromNodeHandler } from "./node-interop.js";
export type { RequestChanges, RequestInit, RequestOptions } from "./request.js";
export { Request } from "./request.js";
export type { RespondsTo, ResponseChanges, ResponseInit } from "./response.js";
export { Response } from "./response.js";
export { STATUS_REASONS, Status } from "./status.js";
export type { TargetForm } from "./uri.js";
export { parseAbsoluteUri, parseRequestTarget, Uri } from "./uri.js";
export { Version } from "./version.js";

// HTTP client: connection contract, pool and builder. Imported and then exported (rather than re-exported with
// `export ... from`) so that this block stays a contiguous block of its own at the end of the file: the
// import sorter orders re-exports across the whole file.
import type {
  ClientConnection,
  ClientConnectionFactory,
  ClientConnectionListener,
  ClientConnectionOptions,
  ConnectionFailureFacts,
} from "./client/client-connection.js";
import {
  type ClientRoute,
  HttpConnectionSource,
  type HttpConnectionSourceOptions,
} from "./client/connection-source.js";
import {
  ClientConfigError,
  PoolClosedError,
  PoolQueueFullError,
  UnsupportedProtocolError,
} from "./client/errors.js";
import {
  type ClientLayer,
  type ClientRequestOptions,
  HttpClient,
  type HttpClientOptions,
  httpClient,
} from "./client/http-client.js";
import { ConnectionExtensions, HttpProxy, type ProxyInfo } from "./client/keys.js";
import {
  ConnectionPool,
  type ConnectionSource,
  connectionPool,
  type PoolOptions,
  type PoolRoute,
  type PoolStats,
} from "./client/pool.js";
import {
  basicAuthorization,
  type ProxyConfig,
  type ProxyOptions,
  type ProxyTunnelFactory,
  type ProxyTunnelOptions,
  parseProxy,
} from "./client/proxy.js";
import { canRetryOnNewConnection, isReplayable } from "./client/retry-safety.js";

export type {
  ClientConnection,
  ClientConnectionFactory,
  ClientConnectionListener,
  ClientConnectionOptions,
  ClientLayer,
  ClientRequestOptions,
  ClientRoute,
  ConnectionFailureFacts,
  ConnectionSource,
  HttpClientOptions,
  HttpConnectionSourceOptions,
  PoolOptions,
  PoolRoute,
  PoolStats,
  ProxyConfig,
  ProxyInfo,
  ProxyOptions,
  ProxyTunnelFactory,
  ProxyTunnelOptions,
};
export {
  basicAuthorization,
  ClientConfigError,
  ConnectionExtensions,
  ConnectionPool,
  canRetryOnNewConnection,
  connectionPool,
  HttpClient,
  HttpConnectionSource,
  HttpProxy,
  httpClient,
  isReplayable,
  PoolClosedError,
  PoolQueueFullError,
  parseProxy,
  UnsupportedProtocolError,
};

// HTTP layers (issue 4). Each is also importable on its own: `@tessera/http/compression`, `@tessera/http/cors`, ...

export {
  type AddAuthOptions,
  AuthUser,
  addBasicAuth,
  type BasicAuthOptions,
  type BasicCredentials,
  basicAuth,
  parseBasicAuth,
} from "./layers/basic-auth/index.js";
export {
  addBearerToken,
  type BearerAuthOptions,
  type BearerCredentials,
  bearerAuth,
} from "./layers/bearer-auth/index.js";
export { bodyLimit } from "./layers/body-limit/index.js";
export { type CatchErrorsOptions, catchErrors, statusOfError } from "./layers/catch/index.js";
export {
  type CompressionOptions,
  type ContentCoding,
  compression,
  isCompressible,
  negotiateEncoding,
} from "./layers/compression/index.js";
export { type CorsOptions, cors } from "./layers/cors/index.js";
export {
  type DecodableCoding,
  type DecompressionOptions,
  decompression,
} from "./layers/decompression/index.js";
export {
  CompressionError,
  DecompressionError,
  DecompressionLimitError,
  InvalidRouteError,
  type RedirectHop,
  TooManyRedirectsError,
} from "./layers/errors.js";
export {
  type FollowRedirectOptions,
  followRedirect,
  type RedirectCandidate,
  RedirectChain,
} from "./layers/follow-redirect/index.js";
export {
  type AppendForwardedOptions,
  appendForwarded,
  ClientAddr,
  type ClientAddress,
  type ForwardedHeaders,
  type ForwardedOptions,
  type ForwardedTrust,
  forwarded,
  forwardedClient,
  trustList,
} from "./layers/forwarded/index.js";
export type { HttpLayer } from "./layers/internal/http-layer.js";
export { removeRequestHeaders, removeResponseHeaders } from "./layers/remove-header/index.js";
export {
  isReasonableRequestId,
  RequestId,
  type RequestIdOptions,
  requestId,
} from "./layers/request-id/index.js";
export { type RequiredHeaderOptions, requiredHeader } from "./layers/required-header/index.js";
export {
  type PathParams,
  type RouteHandler,
  RouteMatch,
  Router,
  type RouterOptions,
  routeParams,
  router,
} from "./layers/router/index.js";
export {
  type SetHeaderMode,
  type SetHeaderOptions,
  setRequestHeader,
  setResponseHeader,
} from "./layers/set-header/index.js";
export {
  type AutoServerOptions,
  autoServer,
  type HttpProtocol,
  HttpProtocolKey,
} from "./server/auto-server.js";
