import { errorCode, isTesseraError, type TesseraError } from "@tessera/core";
import { CertificateVerificationError, TlsHandshakeError } from "./errors.js";

// OpenSSL's verification results (as Node reports them) and Node's own name check: a certificate problem, not a
// protocol one.
const CERTIFICATE_CODES = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "INVALID_CA",
  "INVALID_PURPOSE",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_TLS_CERT_ALTNAME_FORMAT",
  "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE",
  "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
  "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE",
  "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
]);

/** Map an error from a `node:tls` handshake to {@link CertificateVerificationError} or {@link TlsHandshakeError}. */
export function toHandshakeError(error: unknown, where: string): TesseraError {
  if (isTesseraError(error)) return error;
  const code = errorCode(error);
  const text = error instanceof Error ? error.message : String(error);
  if (code !== undefined && CERTIFICATE_CODES.has(code)) {
    return new CertificateVerificationError(code, `${where}: certificate rejected (${code}): ${text}`, {
      cause: error,
    });
  }
  return new TlsHandshakeError(`${where}: TLS handshake failed: ${text}`, { cause: error });
}
