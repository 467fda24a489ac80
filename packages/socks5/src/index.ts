export type { Socks5Address } from "./address.js";
export { socks5Address, UNSPECIFIED } from "./address.js";
export type { Socks5Authenticator, Socks5AuthRequest } from "./authenticator.js";
export { staticCredentials } from "./authenticator.js";
export type {
  Socks5Bound,
  Socks5ConnectOptions,
  Socks5Datagram,
  Socks5UdpAssociation,
  Socks5UdpOptions,
} from "./client.js";
export { socks5Bind, socks5Connect, socks5UdpAssociate } from "./client.js";
export type { Socks5ClientOptions, Socks5Handshake } from "./client-handshake.js";
export { socks5Handshake } from "./client-handshake.js";
export type { CommandName } from "./constants.js";
export { AddressType, Command, Method, Reply, replyName, SOCKS_VERSION } from "./constants.js";
export type { Socks5ProtocolErrorReason } from "./errors.js";
export {
  Socks5AuthError,
  Socks5CommandNotSupportedError,
  Socks5HandshakeTimeoutError,
  Socks5NoAcceptableMethodError,
  Socks5NotAllowedError,
  Socks5ProtocolError,
  Socks5ReplyError,
} from "./errors.js";
export type { Socks5ProxyInfo, Socks5RequestInfo } from "./keys.js";
export { Socks5Proxy, Socks5Request, Socks5Username } from "./keys.js";
export type { ReadMessage } from "./message-reader.js";
export { readMessage } from "./message-reader.js";
export type { Socks5Policy, Socks5PolicyRequest } from "./policy.js";
export { isPublicAddress, publicAddressLookup, publicTargetsOnly } from "./policy.js";
export { replyCodeFor } from "./reply-code.js";
export type { Socks5ServerOptions } from "./server.js";
export { socks5Server } from "./server.js";
export type { Credentials, Greeting, MessageParser, Parsed, Socks5Message, UdpDatagram } from "./wire.js";
export {
  encodeAuthStatus,
  encodeCredentials,
  encodeGreeting,
  encodeMessage,
  encodeMethodSelection,
  encodeUdpDatagram,
  MAX_MESSAGE,
  parseAuthStatus,
  parseCredentials,
  parseGreeting,
  parseMessage,
  parseMethodSelection,
  parseUdpDatagram,
} from "./wire.js";
