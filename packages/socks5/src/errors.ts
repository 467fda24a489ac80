import { TesseraError, type TesseraErrorOptions } from "@tessera/core";
import { replyName } from "./constants.js";

// Every error of this package has a stable `code`. Connect failures of the egress (refused, unreachable, DNS,
// timeout) stay @tessera/net's errors; the server maps them onto reply codes (see reply-code.ts).

/** Why bytes from a SOCKS5 peer were rejected. Stable, like the code. */
export type Socks5ProtocolErrorReason =
  /** The version byte is not 5 (or not 1 in the RFC 1929 sub-negotiation). */
  | "version"
  /** A greeting offering no method at all. */
  | "no-methods"
  /** An address type other than IPv4 (1), domain (3) or IPv6 (4). */
  | "address-type"
  /** A domain name of length 0. */
  | "empty-domain"
  /** A method the client did not offer, or an answer that does not fit the exchange. */
  | "unexpected"
  /** The peer ended or closed the connection in the middle of a message. */
  | "truncated";

/**
 * A SOCKS5 peer sent bytes that break RFC 1928 or RFC 1929. `reason` says what exactly.
 */
export class Socks5ProtocolError extends TesseraError {
  static override readonly code = "ERR_SOCKS5_PROTOCOL";
  readonly reason: Socks5ProtocolErrorReason;
  constructor(reason: Socks5ProtocolErrorReason, message: string, options?: TesseraErrorOptions) {
    super(Socks5ProtocolError.code, message, options);
    this.reason = reason;
  }
}

/** The server accepts none of the authentication methods the client offered (method 0xFF). */
export class Socks5NoAcceptableMethodError extends TesseraError {
  static override readonly code = "ERR_SOCKS5_NO_ACCEPTABLE_METHOD";
  /** The methods the client offered. */
  readonly offered: readonly number[];
  constructor(offered: readonly number[], message?: string) {
    super(
      Socks5NoAcceptableMethodError.code,
      message ?? `no acceptable authentication method among [${offered.join(", ")}]`,
    );
    this.offered = offered;
  }
}

/** Username/password authentication failed (RFC 1929 status other than 0). */
export class Socks5AuthError extends TesseraError {
  static override readonly code = "ERR_SOCKS5_AUTH_FAILED";
  /** The user name that was tried (never the password). */
  readonly username: string;
  constructor(username: string, message = `authentication failed for user ${JSON.stringify(username)}`) {
    super(Socks5AuthError.code, message);
    this.username = username;
  }
}

/** The SOCKS5 handshake did not complete within the handshake timeout. */
export class Socks5HandshakeTimeoutError extends TesseraError {
  static override readonly code = "ERR_SOCKS5_HANDSHAKE_TIMEOUT";
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(Socks5HandshakeTimeoutError.code, `the SOCKS5 handshake did not complete within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A target refused by the server's policy (reply 02, "connection not allowed by ruleset"). Thrown by policies and
 * by guarded lookups (see {@link publicAddressLookup}) so the server answers 02.
 */
export class Socks5NotAllowedError extends TesseraError {
  static override readonly code = "ERR_SOCKS5_NOT_ALLOWED";
  constructor(message = "the target is not allowed by the server's rules", options?: TesseraErrorOptions) {
    super(Socks5NotAllowedError.code, message, options);
  }
}

/** The command (CONNECT, BIND, UDP ASSOCIATE) is not supported or not enabled (reply 07). */
export class Socks5CommandNotSupportedError extends TesseraError {
  static override readonly code = "ERR_SOCKS5_COMMAND_NOT_SUPPORTED";
  readonly command: number;
  constructor(command: number) {
    super(Socks5CommandNotSupportedError.code, `SOCKS5 command ${command} is not supported`);
    this.command = command;
  }
}

/**
 * The proxy answered a request with a reply code other than 0 (succeeded). `reply` is the code from the wire;
 * a server that chains through this client passes the same code on to its own client.
 */
export class Socks5ReplyError extends TesseraError {
  static override readonly code = "ERR_SOCKS5_REPLY";
  readonly reply: number;
  constructor(reply: number, options?: TesseraErrorOptions) {
    super(Socks5ReplyError.code, `the SOCKS5 proxy answered ${reply} (${replyName(reply)})`, options);
    this.reply = reply;
  }
}
