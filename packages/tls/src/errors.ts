import { TesseraError, type TesseraErrorOptions } from "@tessera/core";

// Every error of this package has a stable `code`. Node's TLS errors are mapped at the edge where they happen
// (handshake, verification) and kept as `cause`.

/** Why bytes that should start a TLS connection were not a usable ClientHello. */
export type ClientHelloErrorReason =
  /** The first record is not a TLS handshake record (plain HTTP on a TLS port, SSLv2, garbage). */
  | "not-tls"
  /** A record's length exceeds 2^14 bytes, or is zero. */
  | "bad-record"
  /** A record of another type arrived before the ClientHello was complete. */
  | "unexpected-record"
  /** The first handshake message is not a ClientHello. */
  | "not-client-hello"
  /** The ClientHello is longer than the configured maximum. */
  | "too-large"
  /** The ClientHello's fields do not add up (lengths, duplicate extensions, empty lists where one is required). */
  | "malformed"
  /** The peer closed before sending a whole ClientHello. */
  | "truncated";

/** The first bytes of a connection are not a well-formed TLS ClientHello. `reason` is stable, like the code. */
export class ClientHelloError extends TesseraError {
  static override readonly code = "ERR_TLS_CLIENT_HELLO";
  readonly reason: ClientHelloErrorReason;
  constructor(reason: ClientHelloErrorReason, detail: string, options?: TesseraErrorOptions) {
    super(ClientHelloError.code, `bad ClientHello (${reason}): ${detail}`, options);
    this.reason = reason;
  }
}

/** The TLS handshake failed (alert from the peer, no shared version or cipher, connection closed mid-way). */
export class TlsHandshakeError extends TesseraError {
  static override readonly code: string = "ERR_TLS_HANDSHAKE";
  constructor(message: string, options?: TesseraErrorOptions, code: string = TlsHandshakeError.code) {
    super(code, message, options);
  }
}

/** The handshake (ClientHello included) did not complete within the handshake timeout. */
export class TlsHandshakeTimeoutError extends TlsHandshakeError {
  static override readonly code: string = "ERR_TLS_HANDSHAKE_TIMEOUT";
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`the TLS handshake took longer than ${timeoutMs} ms`, undefined, TlsHandshakeTimeoutError.code);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The peer's certificate was not accepted: untrusted issuer, expired, wrong name, or not matching a pin.
 * `reason` is OpenSSL's or Node's code (`DEPTH_ZERO_SELF_SIGNED_CERT`, `ERR_TLS_CERT_ALTNAME_INVALID`, ...) or
 * `"PIN_MISMATCH"`.
 */
export class CertificateVerificationError extends TlsHandshakeError {
  static override readonly code: string = "ERR_TLS_CERTIFICATE";
  readonly reason: string;
  constructor(reason: string, message: string, options?: TesseraErrorOptions) {
    super(message, options, CertificateVerificationError.code);
    this.reason = reason;
  }
}

/** No certificate is configured for the name the client asked for (and there is no default). */
export class NoCertificateError extends TesseraError {
  static override readonly code = "ERR_TLS_NO_CERTIFICATE";
  readonly serverName: string | undefined;
  constructor(serverName: string | undefined) {
    super(
      NoCertificateError.code,
      serverName === undefined
        ? "no default certificate for a client that sent no server name"
        : `no certificate for server name ${JSON.stringify(serverName)}`,
    );
    this.serverName = serverName;
  }
}

/** Options that cannot work together, or a key or certificate that cannot be used. */
export class TlsConfigError extends TesseraError {
  static override readonly code = "ERR_TLS_CONFIG";
  constructor(message: string, options?: TesseraErrorOptions) {
    super(TlsConfigError.code, message, options);
  }
}
