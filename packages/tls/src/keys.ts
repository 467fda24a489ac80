import type { X509Certificate } from "node:crypto";
import { type Key, key } from "@tessera/core";
import type { ClientHello } from "./client-hello.js";
import type { Ja3 } from "./ja3.js";
import type { Ja4 } from "./ja4.js";

// TLS facts on a connection's extensions. The negotiated ALPN and the SNI go on net's `Alpn` and `Sni` keys
// (http reads them without importing this package); what only TLS users read is keyed here.

/** The ClientHello a client sent (server side), as parsed before the handshake. */
export const ClientHelloKey: Key<ClientHello> = key<ClientHello>("tessera.tls.ClientHello");

/** The client's fingerprints (server side), computed from its ClientHello. */
export interface TlsFingerprints {
  readonly ja3: Ja3;
  readonly ja4: Ja4;
}
export const Fingerprints: Key<TlsFingerprints> = key<TlsFingerprints>("tessera.tls.Fingerprints");

/** What the handshake settled, on both sides. */
export interface TlsSession {
  /** `"TLSv1.3"`, `"TLSv1.2"`, ... */
  readonly version: string;
  /** The cipher suite's standard name, e.g. `"TLS_AES_128_GCM_SHA256"`. */
  readonly cipher: string;
  /** The negotiated ALPN protocol, when there is one. */
  readonly alpn: string | undefined;
  /** The server name: sent (client side) or received (server side). */
  readonly serverName: string | undefined;
  /** The other side's certificate, when it sent one (always from a server; from a client under mTLS). */
  readonly peerCertificate: X509Certificate | undefined;
  /** Whether the peer's certificate chain verified (false when not checked, e.g. insecure or optional mTLS). */
  readonly authorized: boolean;
  /** Whether the session was resumed from an earlier one (no full handshake). */
  readonly resumed: boolean;
}
export const TlsSessionKey: Key<TlsSession> = key<TlsSession>("tessera.tls.Session");
