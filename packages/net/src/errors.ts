import { errorCode, isTesseraError, TesseraError, type TesseraErrorOptions } from "@tessera/core";

// Every error of this package has a stable `code`. Node's own errors (`ECONNREFUSED`, `ENOTFOUND`, ...) are
// mapped onto these at the edge where they happen and kept as `cause`, so callers branch on one vocabulary
// whatever the platform said.

// ---------------------------------------------------------------------------------------------------------
// Bad addresses

/** Why an address, host, port or authority was rejected. */
export type AddressErrorReason =
  | "empty"
  | "whitespace"
  | "empty-host"
  | "invalid-host"
  | "invalid-ipv4"
  | "invalid-ipv6"
  | "unbracketed-ipv6"
  | "zone-id"
  | "unclosed-bracket"
  | "unexpected-bracket"
  | "missing-port"
  | "empty-port"
  | "invalid-port"
  | "port-out-of-range";

/**
 * An address, host, port or authority that does not parse. `reason` says precisely what is wrong and is stable,
 * like the code; `input` is the text that was given.
 */
export class InvalidAddressError extends TesseraError {
  static override readonly code = "ERR_NET_INVALID_ADDRESS";
  readonly reason: AddressErrorReason;
  readonly input: string;
  constructor(reason: AddressErrorReason, input: string, detail: string) {
    super(InvalidAddressError.code, `invalid address ${JSON.stringify(input)}: ${detail}`);
    this.reason = reason;
    this.input = input;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Connecting

/** One failed attempt of a connect that tried several addresses (happy eyeballs). */
export interface ConnectAttemptFailure {
  readonly address: string;
  readonly error: Error;
}

/** What a connect error knows about where it tried to go. */
export interface ConnectErrorDetails extends TesseraErrorOptions {
  /** The host that was asked for (a name or an IP literal). */
  readonly host?: string;
  readonly port?: number;
  /** The IP address (or Unix path) of the attempt that failed. */
  readonly address?: string;
  /** Every attempt, when more than one address was tried. */
  readonly attempts?: readonly ConnectAttemptFailure[];
}

/**
 * A connection could not be established. The specific failures below extend it; within one copy of this
 * package `instanceof ConnectError` matches all of them, and {@link isConnectError} matches across copies.
 */
export class ConnectError extends TesseraError {
  static override readonly code: string = "ERR_NET_CONNECT";
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly address: string | undefined;
  readonly attempts: readonly ConnectAttemptFailure[];
  constructor(message: string, details: ConnectErrorDetails = {}, code: string = ConnectError.code) {
    super(code, message, details);
    this.host = details.host;
    this.port = details.port;
    this.address = details.address;
    this.attempts = details.attempts ?? [];
  }
}

/** The peer answered with a reset: nothing listens on that port (`ECONNREFUSED`). */
export class ConnectionRefusedError extends ConnectError {
  static override readonly code: string = "ERR_NET_CONNECTION_REFUSED";
  constructor(message: string, details?: ConnectErrorDetails) {
    super(message, details, ConnectionRefusedError.code);
  }
}

/** No route to the network or host, or this machine cannot use that address family. */
export class UnreachableError extends ConnectError {
  static override readonly code: string = "ERR_NET_UNREACHABLE";
  constructor(message: string, details?: ConnectErrorDetails) {
    super(message, details, UnreachableError.code);
  }
}

/** Connecting (DNS included) took longer than the connect timeout, or the kernel gave up (`ETIMEDOUT`). */
export class ConnectTimeoutError extends ConnectError {
  static override readonly code: string = "ERR_NET_CONNECT_TIMEOUT";
  readonly timeoutMs: number | undefined;
  constructor(message: string, timeoutMs?: number, details?: ConnectErrorDetails) {
    super(message, details, ConnectTimeoutError.code);
    this.timeoutMs = timeoutMs;
  }
}

/** The connector's timeout: `connecting to HOST:PORT timed out after N ms`, with what failed meanwhile as cause. */
export function connectTimeout(
  host: string,
  port: number,
  timeoutMs: number,
  cause?: unknown,
): ConnectTimeoutError {
  return new ConnectTimeoutError(`connecting to ${host}:${port} timed out after ${timeoutMs} ms`, timeoutMs, {
    host,
    port,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The name did not resolve (`ENOTFOUND`, `EAI_AGAIN`, ...), or resolved to no usable address. */
export class DnsError extends ConnectError {
  static override readonly code: string = "ERR_NET_DNS";
  /** The resolver's own code (`ENOTFOUND`, `EAI_AGAIN`, `ENODATA`, ...), when it gave one. */
  readonly dnsCode: string | undefined;
  constructor(message: string, dnsCode: string | undefined, details?: ConnectErrorDetails) {
    super(message, details, DnsError.code);
    this.dnsCode = dnsCode;
  }
}

const CONNECT_CODES: ReadonlySet<string> = new Set([
  ConnectError.code,
  ConnectionRefusedError.code,
  UnreachableError.code,
  ConnectTimeoutError.code,
  DnsError.code,
]);

/**
 * True for any connect failure of this package (from any copy of it).
 *
 * @example
 * ```ts
 * try { await connector.serve(req); } catch (e) { if (isConnectError(e)) retryLater(e.host); else throw e; }
 * ```
 */
export function isConnectError(value: unknown): value is ConnectError {
  return isTesseraError(value) && CONNECT_CODES.has(value.code);
}

// ---------------------------------------------------------------------------------------------------------
// An established connection

/** The peer reset the connection, or it broke under a write (`ECONNRESET`, `EPIPE`, `ECONNABORTED`). */
export class ConnectionResetError extends TesseraError {
  static override readonly code = "ERR_NET_CONNECTION_RESET";
  constructor(message = "connection reset by peer", options?: TesseraErrorOptions) {
    super(ConnectionResetError.code, message, options);
  }
}

/** The connection closed before the work on it was done (destroyed, or ended too early). */
export class ConnectionClosedError extends TesseraError {
  static override readonly code = "ERR_NET_CONNECTION_CLOSED";
  constructor(message = "connection closed", options?: TesseraErrorOptions) {
    super(ConnectionClosedError.code, message, options);
  }
}

/** Any other failure of a socket or stream; `cause` has the original. */
export class SocketError extends TesseraError {
  static override readonly code = "ERR_NET_SOCKET";
  constructor(message: string, options?: TesseraErrorOptions) {
    super(SocketError.code, message, options);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Listening

/** A listener could not bind or listen. */
export class ListenError extends TesseraError {
  static override readonly code: string = "ERR_NET_LISTEN";
  constructor(message: string, options?: TesseraErrorOptions, code: string = ListenError.code) {
    super(code, message, options);
  }
}

/** The address (or Unix socket path) is already in use (`EADDRINUSE`). */
export class AddressInUseError extends ListenError {
  static override readonly code: string = "ERR_NET_ADDRESS_IN_USE";
  constructor(message: string, options?: TesseraErrorOptions) {
    super(message, options, AddressInUseError.code);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Peeking

/** The peer did not send enough bytes to decide within the peek timeout. The bytes seen were put back. */
export class PeekTimeoutError extends TesseraError {
  static override readonly code = "ERR_NET_PEEK_TIMEOUT";
  readonly timeoutMs: number;
  /** How many bytes had arrived when time ran out. */
  readonly bytesSeen: number;
  constructor(timeoutMs: number, bytesSeen: number) {
    super(PeekTimeoutError.code, `no decision after ${timeoutMs} ms (${bytesSeen} bytes seen)`);
    this.timeoutMs = timeoutMs;
    this.bytesSeen = bytesSeen;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The PROXY protocol (proxy-protocol/)

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

// ---------------------------------------------------------------------------------------------------------
// Mapping Node's errors

const UNREACHABLE = new Set([
  "ENETUNREACH",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  "EAFNOSUPPORT",
]);
const RESET = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ERR_STREAM_WRITE_AFTER_END"]);
// getaddrinfo (dns.lookup) reports EAI_* names as codes, and ENOTFOUND for "no such name"; c-ares (dns.resolve)
// uses its own names. All mean: the name gave no address.
const DNS = new Set([
  "ENOTFOUND",
  "ENODATA",
  "ESERVFAIL",
  "EREFUSED",
  "ETIMEOUT",
  "ENONAME",
  "EBADNAME",
  "EBADRESP",
  "ENOTIMP",
  "EFORMERR",
]);

function isDnsCode(code: string): boolean {
  return code.startsWith("EAI_") || DNS.has(code);
}

function describe(details: ConnectErrorDetails): string {
  const { host, port, address } = details;
  const target = host === undefined ? "" : port === undefined ? host : `${host}:${port}`;
  if (address === undefined || address === host) return target;
  return `${target} (${address})`;
}

/**
 * Map a failure of connecting (socket error, DNS error, anything thrown) to a typed {@link ConnectError}.
 * Tessera errors pass through unchanged; the original error becomes `cause`.
 *
 * @example
 * ```ts
 * socket.once("error", (e) => reject(toConnectError(e, { host: "example.com", port: 443 })));
 * ```
 */
export function toConnectError(error: unknown, details: ConnectErrorDetails = {}): TesseraError {
  if (isTesseraError(error)) return error;
  const code = errorCode(error);
  const full: ConnectErrorDetails = { ...details, cause: error };
  const where = describe(details);
  if (code === "ECONNREFUSED") return new ConnectionRefusedError(`connection refused by ${where}`, full);
  if (code !== undefined && UNREACHABLE.has(code)) {
    return new UnreachableError(`${where} is unreachable (${code})`, full);
  }
  if (code === "ETIMEDOUT")
    return new ConnectTimeoutError(`connecting to ${where} timed out`, undefined, full);
  if (code !== undefined && isDnsCode(code)) {
    return new DnsError(`could not resolve ${details.host ?? where} (${code})`, code, full);
  }
  if (code === "ENOENT") return new ConnectError(`no socket at ${where}`, full);
  const text = error instanceof Error ? error.message : String(error);
  return new ConnectError(`could not connect to ${where}: ${text}`, full);
}

/**
 * Map a failure on an established connection (an `'error'` event of a socket or stream) to a typed error:
 * {@link ConnectionResetError}, {@link ConnectionClosedError} or {@link SocketError}. Tessera errors pass through.
 *
 * @example
 * ```ts
 * stream.once("error", (e) => reject(toSocketError(e)));
 * ```
 */
export function toSocketError(error: unknown): TesseraError {
  if (isTesseraError(error)) return error;
  const code = errorCode(error);
  if (code !== undefined && RESET.has(code)) return new ConnectionResetError(undefined, { cause: error });
  if (code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ERR_STREAM_DESTROYED") {
    return new ConnectionClosedError(undefined, { cause: error });
  }
  const text = error instanceof Error ? error.message : String(error);
  return new SocketError(text, { cause: error });
}

/**
 * Map a failure of `listen()` to {@link AddressInUseError} or {@link ListenError}.
 *
 * @example
 * ```ts
 * server.once("error", (e) => reject(toListenError(e, "127.0.0.1:8080")));
 * ```
 */
export function toListenError(error: unknown, where: string): TesseraError {
  if (isTesseraError(error)) return error;
  const code = errorCode(error);
  if (code === "EADDRINUSE") return new AddressInUseError(`${where} is already in use`, { cause: error });
  const text = error instanceof Error ? error.message : String(error);
  return new ListenError(`could not listen on ${where}: ${text}`, { cause: error });
}
