export type { Authority, AuthorityOptions, PortOptions } from "./address.js";
export {
  authority,
  formatAuthority,
  formatHost,
  formatSocketAddress,
  inetSocketAddress,
  ipFamily,
  isIPv4,
  isIPv6,
  parseAuthority,
  parseHost,
  parsePort,
} from "./address.js";
export type { Conn } from "./conn.js";
export { conn } from "./conn.js";
export type { ConnectRequest } from "./connect-request.js";
export { connectRequest } from "./connect-request.js";
export type {
  AddressErrorReason,
  ConnectAttemptFailure,
  ConnectErrorDetails,
  ProxyHeaderErrorReason,
} from "./errors.js";
export {
  AddressInUseError,
  ConnectError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectionResetError,
  ConnectTimeoutError,
  DnsError,
  InvalidAddressError,
  isConnectError,
  ListenError,
  PeekTimeoutError,
  ProxyHeaderEncodeError,
  ProxyHeaderError,
  ProxyHeaderMissingError,
  ProxyHeaderTimeoutError,
  ProxyHeaderTooLargeError,
  SocketError,
  toConnectError,
  toListenError,
  toSocketError,
  UnreachableError,
} from "./errors.js";
export type { ForwardOptions, ForwardResult } from "./forward.js";
export { forward, forwardService } from "./forward.js";
export type { HappyEyeballsOptions, HappyEyeballsWinner, LookupAddress } from "./happy-eyeballs.js";
export { happyEyeballs, interleaveAddresses } from "./happy-eyeballs.js";
export { formatIpv4, formatIpv6, ipv4Bytes, ipv6Bytes } from "./ip-bytes.js";
export type { InetSocketAddress, SocketAddress, UnixSocketAddress } from "./keys.js";
export {
  Alpn,
  ConnectTarget,
  Draining,
  ForwardBytes,
  LocalAddr,
  PeerAddr,
  ProxiedClientAddr,
  ProxiedDestAddr,
  ProxyProtocolHeader,
  ProxyProtocolSent,
  Sni,
} from "./keys.js";
export { closeReason, connectionSignal } from "./lifetime.js";
export type {
  Listener,
  ListenerOptions,
  ListenOptions,
  TcpListenOptions,
  UnixListenOptions,
} from "./listener.js";
export { listen, raceConnectionEnd } from "./listener.js";
export type { MemoryConnPairOptions, MemoryPairOptions, MemoryStream } from "./memory-pair.js";
export { memoryConnPair, memoryPair } from "./memory-pair.js";
export type { Peeked, PeekedConn, PeekOptions, PeekStatus } from "./peek.js";
export { peek, peekConn } from "./peek.js";
export * from "./proxy-protocol/index.js";
export { rewind } from "./rewind-stream.js";
export type { Sniffed, SniffedProtocol, SniffOptions } from "./sniff.js";
export { detectProtocol, sniff } from "./sniff.js";
export type { Lookup, TcpConnectorOptions } from "./tcp-connector.js";
export { systemLookup, tcpConnector } from "./tcp-connector.js";
export type { UnixConnectorOptions } from "./unix-connector.js";
export { unixConnector } from "./unix-connector.js";
