import { TesseraError, type TesseraErrorOptions } from "@tessera/core";

// The PROXY protocol's errors. They live next to the protocol (not in the package's errors.ts) so the whole
// feature is one folder; each class still has a stable `code`, and the malformed-header error a stable `reason`.

/** What exactly is wrong with a PROXY protocol header. Stable, like the code. */
export type ProxyHeaderErrorReason =
  // v1 (text)
  | "v1-syntax" // not `PROXY <proto> <src> <dst> <sport> <dport>\r\n` with single spaces
  | "v1-protocol" // the protocol is not TCP4, TCP6 or UNKNOWN
  | "v1-address" // an address is not a valid literal of the protocol's family
  | "v1-port" // a port is not a decimal 0-65535 without leading zeros
  // v2 (binary)
  | "v2-version" // the version nibble is not 2
  | "v2-command" // the command is neither LOCAL nor PROXY
  | "v2-family" // the address family / transport byte is not one the spec defines
  | "v2-address-length" // the length is too short for the family's addresses
  | "v2-tlv" // a TLV runs past the end of the header, or a known TLV has a bad length or value
  | "v2-ssl-tlv" // the SSL TLV or one of its sub-TLVs is malformed
  | "v2-crc32c" // the CRC32C TLV does not match the header
  // either
  | "truncated"; // the connection ended in the middle of a header

/** A PROXY protocol header that is malformed. `reason` says precisely how. */
export class ProxyHeaderError extends TesseraError {
  static override readonly code = "ERR_NET_PROXY_HEADER_INVALID";
  readonly reason: ProxyHeaderErrorReason;
  constructor(reason: ProxyHeaderErrorReason, detail: string, options?: TesseraErrorOptions) {
    super(ProxyHeaderError.code, `invalid PROXY protocol header (${reason}): ${detail}`, options);
    this.reason = reason;
  }
}

/** A PROXY protocol header longer than allowed (107 bytes for v1, `maxHeaderLength` for v2). */
export class ProxyHeaderTooLargeError extends TesseraError {
  static override readonly code = "ERR_NET_PROXY_HEADER_TOO_LARGE";
  /** The limit that was exceeded, in bytes. */
  readonly limit: number;
  /** The header's length when known (v2 announces it), otherwise the bytes seen without an end. */
  readonly length: number;
  constructor(limit: number, length: number) {
    super(
      ProxyHeaderTooLargeError.code,
      `PROXY protocol header of ${length} bytes or more exceeds the limit of ${limit}`,
    );
    this.limit = limit;
    this.length = length;
  }
}

/** Strict mode: the connection did not start with a PROXY protocol header (or ended before sending one). */
export class ProxyHeaderMissingError extends TesseraError {
  static override readonly code = "ERR_NET_PROXY_HEADER_MISSING";
  constructor(detail: string) {
    super(ProxyHeaderMissingError.code, `no PROXY protocol header: ${detail}`);
  }
}

/** The PROXY protocol header did not arrive within the header timeout. */
export class ProxyHeaderTimeoutError extends TesseraError {
  static override readonly code = "ERR_NET_PROXY_HEADER_TIMEOUT";
  readonly timeoutMs: number;
  /** How many bytes had arrived when time ran out. */
  readonly bytesSeen: number;
  constructor(timeoutMs: number, bytesSeen: number) {
    super(
      ProxyHeaderTimeoutError.code,
      `no complete PROXY protocol header after ${timeoutMs} ms (${bytesSeen} bytes seen)`,
    );
    this.timeoutMs = timeoutMs;
    this.bytesSeen = bytesSeen;
  }
}

/** A header to send that the chosen version cannot express (TLVs in v1, mixed address families, ...). */
export class ProxyHeaderEncodeError extends TesseraError {
  static override readonly code = "ERR_NET_PROXY_HEADER_ENCODE";
  constructor(detail: string) {
    super(ProxyHeaderEncodeError.code, `cannot encode PROXY protocol header: ${detail}`);
  }
}
