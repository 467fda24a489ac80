import { signalOf } from "@tessera/core";
import type { Conn } from "./conn.js";
import { type PeekStatus, peekConn } from "./peek.js";
import { PROXY_V1_PREFIX, PROXY_V2_SIGNATURE } from "./proxy-protocol/header.js";

/** What the first bytes a client sent look like. */
export type SniffedProtocol =
  /** A TLS record carrying a handshake (ClientHello): `16 03 0x`. */
  | "tls"
  /** The HTTP/2 prior-knowledge preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (h2c without upgrade). */
  | "http2"
  /** An HTTP/1.x request line: a method token and a space (`GET `, `CONNECT `, ...). */
  | "http1"
  /** A SOCKS5 greeting: version 5 and at least one auth method. */
  | "socks5"
  /** A SOCKS4 request: version 4, command CONNECT or BIND. */
  | "socks4"
  /** A HAProxy PROXY protocol v1 header (`PROXY `). */
  | "proxy-v1"
  /** A HAProxy PROXY protocol v2 header (its 12-byte signature). */
  | "proxy-v2"
  /** None of the above. */
  | "unknown";

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
// The longest method we wait for before calling the bytes "unknown" (the longest registered one is 17).
const MAX_METHOD = 24;

/**
 * -1: `bytes` diverges from `signature`; 0: a proper prefix so far (need more); 1: starts with all of it.
 * Shared with the PROXY protocol parser inside the package (not exported from index.ts).
 */
export function matchPrefix(bytes: Uint8Array, signature: Uint8Array): -1 | 0 | 1 {
  const n = Math.min(bytes.length, signature.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== signature[i]) return -1;
  return bytes.length >= signature.length ? 1 : 0;
}

// RFC 9110 tchar: the characters of a method token.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}

/**
 * Classify the first bytes of a connection, or return `undefined` when more bytes are needed to decide. Works
 * incrementally: feeding a longer prefix never changes a decision already made.
 *
 * @example
 * ```ts
 * detectProtocol(Buffer.from("GET / HTTP/1.1\r\n")); // "http1"
 * detectProtocol(Buffer.from("PRI * HT")); // undefined: could still be the HTTP/2 preface
 * detectProtocol(Buffer.from([0x16, 0x03, 0x01])); // "tls"
 * ```
 */
export function detectProtocol(bytes: Uint8Array): SniffedProtocol | undefined {
  if (bytes.length === 0) return undefined;
  const first = bytes[0]!;
  switch (first) {
    case 0x16: // TLS handshake record; the record version's major byte is 3 (SSL 3.0 to TLS 1.3).
      if (bytes.length < 3) return bytes.length === 2 && bytes[1] !== 0x03 ? "unknown" : undefined;
      return bytes[1] === 0x03 && bytes[2]! <= 0x04 ? "tls" : "unknown";
    case 0x05: // SOCKS5: VER, NMETHODS (at least one)
      if (bytes.length < 2) return undefined;
      return bytes[1]! >= 1 ? "socks5" : "unknown";
    case 0x04: // SOCKS4: VER, CD (1 CONNECT, 2 BIND)
      if (bytes.length < 2) return undefined;
      return bytes[1] === 1 || bytes[1] === 2 ? "socks4" : "unknown";
    case 0x0d: {
      const v2 = matchPrefix(bytes, PROXY_V2_SIGNATURE);
      return v2 === 1 ? "proxy-v2" : v2 === 0 ? undefined : "unknown";
    }
  }
  // Text protocols. The HTTP/2 preface and "PROXY " also look like an HTTP/1 method and a space, so they are
  // tried first and, while the bytes are still a prefix of them, we wait.
  const h2 = matchPrefix(bytes, H2_PREFACE);
  if (h2 === 1) return "http2";
  const v1 = matchPrefix(bytes, PROXY_V1_PREFIX);
  if (v1 === 1) return "proxy-v1";
  if (h2 === 0 || v1 === 0) return undefined;
  const n = Math.min(bytes.length, MAX_METHOD + 1);
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if (c === 0x20) return i > 0 ? "http1" : "unknown";
    if (c >= 128 || TCHAR[c] !== 1) return "unknown";
  }
  return bytes.length > MAX_METHOD ? "unknown" : undefined;
}

export interface SniffOptions {
  /** Read at most this many bytes while deciding. Default 64 (enough for every protocol above). */
  readonly max?: number;
  /** Give up after this many milliseconds (a {@link PeekTimeoutError}, bytes put back). Default 10 000. */
  readonly timeout?: number;
  /** Cancel; default: the connection's own signal. */
  readonly signal?: AbortSignal;
}

export interface Sniffed {
  /** What the bytes look like (`"unknown"` also when the peer ended or `max` came first without a match). */
  readonly protocol: SniffedProtocol;
  /** The bytes read; `conn` replays them. */
  readonly bytes: Buffer;
  readonly status: PeekStatus;
  /** The connection to go on with: same extensions, stream replaying `bytes` (usually the same object). */
  readonly conn: Conn;
}

/**
 * Read just enough of a new connection to tell TLS from plain text, the HTTP/2 preface from HTTP/1, SOCKS from
 * HTTP, or a PROXY protocol header, then hand the connection on with those bytes put back.
 *
 * @example
 * ```ts
 * const server = service(async (conn: Conn) => {
 *   const sniffed = await sniff(conn, { timeout: 5_000 });
 *   return sniffed.protocol === "tls" ? tlsServer.serve(sniffed.conn) : plainServer.serve(sniffed.conn);
 * });
 * ```
 */
export async function sniff(conn: Conn, options?: SniffOptions): Promise<Sniffed> {
  let protocol: SniffedProtocol | undefined;
  const peeked = await peekConn(conn, {
    max: options?.max ?? 64,
    timeout: options?.timeout ?? 10_000,
    signal: options?.signal ?? signalOf(conn),
    until: (seen) => {
      protocol = detectProtocol(seen);
      return protocol !== undefined;
    },
  });
  return {
    protocol: protocol ?? "unknown",
    bytes: peeked.bytes,
    status: peeked.status,
    conn: peeked.conn,
  };
}
