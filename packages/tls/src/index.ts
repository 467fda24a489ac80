export type { TlsAcceptorOptions } from "./acceptor.js";
export { tlsAcceptor } from "./acceptor.js";
export { AlertDescription } from "./alert.js";
export type { CertificateAndKey, CertificateOptions } from "./certificate.js";
export { createCertificateAuthority, selfSignedCertificate } from "./certificate.js";
export type { CertificateIssuer, CertificateIssuerOptions } from "./certificate-issuer.js";
export { certificateIssuer } from "./certificate-issuer.js";
export type { ClientHello, ClientHelloLimits, ClientHelloRead, HelloExtension } from "./client-hello.js";
export {
  DEFAULT_MAX_CLIENT_HELLO,
  ExtensionType,
  parseClientHelloMessage,
  readClientHello,
} from "./client-hello.js";
export type { TlsConnectorOptions } from "./connector.js";
export { publicKeyPin, tlsConnector } from "./connector.js";
export type { ClientHelloErrorReason } from "./errors.js";
export {
  CertificateVerificationError,
  ClientHelloError,
  NoCertificateError,
  TlsConfigError,
  TlsHandshakeError,
  TlsHandshakeTimeoutError,
} from "./errors.js";
export { isGrease } from "./grease.js";
export type { Ja3 } from "./ja3.js";
export { ja3 } from "./ja3.js";
export type { Ja4, Ja4Transport } from "./ja4.js";
export { ja4 } from "./ja4.js";
export type { TlsFingerprints, TlsSession } from "./keys.js";
export { ClientHelloKey, Fingerprints, TlsSessionKey } from "./keys.js";
export type { TlsServerConfig, TlsServerConfigSource } from "./server-config.js";
export { sniRouter } from "./sni-router.js";
