export type { ProxyProtocolConnectorOptions } from "./client.js";
export { proxyProtocolConnector } from "./client.js";
export { crc32c } from "./crc32c.js";
export { encodeProxyHeader } from "./encode.js";
export type {
  ProxyHeader,
  ProxyHeaderInit,
  ProxySsl,
  ProxySslInit,
  ProxyTlv,
  ProxyTlvInit,
} from "./header.js";
export {
  PROXY_V1_MAX_LENGTH,
  PROXY_V2_SIGNATURE,
  ProxySslClient,
  ProxyTlvType,
} from "./header.js";
export type { ParseProxyHeaderOptions, ProxyHeaderParse } from "./parse.js";
export { parseProxyHeader } from "./parse.js";
export type { AcceptedProxyHeader, ProxyProtocolOptions } from "./server.js";
export { acceptProxyHeader, proxyProtocol } from "./server.js";
