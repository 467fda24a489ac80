import { latin1Slice } from "./latin1.js";
import type { RawHeaders } from "./raw-headers.js";

/**
 * How the body of a message is delimited (RFC 9112 section 6), decided once when the head is complete.
 *
 * - `None`: no body (no Content-Length and no Transfer-Encoding in a request, `Content-Length: 0`, a response
 *   to HEAD, 1xx, 204, 304, a CONNECT request, a 2xx answer to CONNECT, 101).
 * - `Length`: exactly `contentLength` bytes follow.
 * - `Chunked`: chunked transfer coding, possibly with trailers.
 * - `UntilClose`: (responses only) the body runs until the connection closes; call `finish()` at EOF.
 */
export const BodyFraming = {
  None: 0,
  Length: 1,
  Chunked: 2,
  UntilClose: 3,
} as const;
export type BodyFraming = (typeof BodyFraming)[keyof typeof BodyFraming];

/** The framing facts both head classes share (what the parser needs to find the end of the message). */
export interface FramedHead {
  readonly framing: BodyFraming;
  readonly contentLength: number | undefined;
  readonly keepAlive: boolean;
  readonly upgrade: boolean;
}

/**
 * A parsed request head: the request line, the header fields and the framing facts derived from them. One
 * object of one fixed shape per request; header strings are made on access through `headers`.
 *
 * @example
 * ```ts
 * parser.execute(Buffer.from("GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n"));
 * // onHead receives: head.method === "GET", head.target === "/a?b", head.keepAlive === true,
 * //                  head.headers.get("host") === "x", head.framing === BodyFraming.None
 * ```
 */
export class RequestHead implements FramedHead {
  /** The method token exactly as sent (methods are case-sensitive). */
  readonly method: string;
  /** The request-target exactly as sent; origin/absolute/authority/asterisk form is for the router to tell. */
  readonly target: string;
  /** 1. */
  readonly versionMajor: number;
  /** 0 or 1. */
  readonly versionMinor: number;
  /** The header fields in wire order with original casing. */
  readonly headers: RawHeaders;
  /** How the body is delimited. */
  readonly framing: BodyFraming;
  /** The Content-Length value when the header is present, else undefined. */
  readonly contentLength: number | undefined;
  /** True if the body uses the chunked transfer coding. */
  readonly chunked: boolean;
  /**
   * True if the connection may carry another request after this one: HTTP/1.1 without `Connection: close`, or
   * HTTP/1.0 with `Connection: keep-alive`.
   */
  readonly keepAlive: boolean;
  /** True if the Connection header lists `close`. */
  readonly connectionClose: boolean;
  /**
   * True if the bytes after this message may belong to another protocol: a CONNECT request, or an HTTP/1.1
   * request with an Upgrade header and `Connection: upgrade`. The parser stops after such a message (see
   * `Http1Parser.upgraded`); `resume()` goes on with HTTP/1 if the server declines.
   */
  readonly upgrade: boolean;
  /** True for an HTTP/1.1 request with `Expect: 100-continue`. */
  readonly expectContinue: boolean;

  constructor(
    method: string,
    target: string,
    versionMinor: number,
    headers: RawHeaders,
    framing: BodyFraming,
    contentLength: number | undefined,
    keepAlive: boolean,
    connectionClose: boolean,
    upgrade: boolean,
    expectContinue: boolean,
  ) {
    this.method = method;
    this.target = target;
    this.versionMajor = 1;
    this.versionMinor = versionMinor;
    this.headers = headers;
    this.framing = framing;
    this.contentLength = contentLength;
    this.chunked = framing === BodyFraming.Chunked;
    this.keepAlive = keepAlive;
    this.connectionClose = connectionClose;
    this.upgrade = upgrade;
    this.expectContinue = expectContinue;
  }

  /** `"1.0"` or `"1.1"`. */
  get version(): string {
    return this.versionMinor === 1 ? "1.1" : "1.0";
  }
}

/**
 * A parsed response head: the status line, the header fields and the framing facts. The reason phrase is made
 * on access (clients rarely read it).
 *
 * @example
 * ```ts
 * parser.execute(Buffer.from("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
 * // onHead receives: head.status === 404, head.reason === "Not Found", head.contentLength === 0
 * ```
 */
export class ResponseHead implements FramedHead {
  /** The status code, 100-999. */
  readonly status: number;
  /** 1. */
  readonly versionMajor: number;
  /** 0 or 1. */
  readonly versionMinor: number;
  /** The header fields in wire order with original casing. */
  readonly headers: RawHeaders;
  /** How the body is delimited (depends on the request method too: HEAD and CONNECT responses differ). */
  readonly framing: BodyFraming;
  /** The Content-Length value when the header is present (also for HEAD and 304 responses), else undefined. */
  readonly contentLength: number | undefined;
  /** True if the body uses the chunked transfer coding. */
  readonly chunked: boolean;
  /**
   * True if the connection can carry another request after this response: the version and Connection header
   * allow it and the body does not run until close.
   */
  readonly keepAlive: boolean;
  /** True if the Connection header lists `close`. */
  readonly connectionClose: boolean;
  /**
   * True if the bytes after this head belong to another protocol: a 101 (Switching Protocols), or a 2xx answer
   * to CONNECT (the connection is now a tunnel). The parser stops after such a message.
   */
  readonly upgrade: boolean;
  private readonly reasonStart: number;
  private readonly reasonEnd: number;

  constructor(
    status: number,
    versionMinor: number,
    headers: RawHeaders,
    framing: BodyFraming,
    contentLength: number | undefined,
    keepAlive: boolean,
    connectionClose: boolean,
    upgrade: boolean,
    reasonStart: number,
    reasonEnd: number,
  ) {
    this.status = status;
    this.versionMajor = 1;
    this.versionMinor = versionMinor;
    this.headers = headers;
    this.framing = framing;
    this.contentLength = contentLength;
    this.chunked = framing === BodyFraming.Chunked;
    this.keepAlive = keepAlive;
    this.connectionClose = connectionClose;
    this.upgrade = upgrade;
    this.reasonStart = reasonStart;
    this.reasonEnd = reasonEnd;
  }

  /** The reason phrase as sent (may be empty), decoded as latin1. */
  get reason(): string {
    return latin1Slice(this.headers.buffer, this.reasonStart, this.reasonEnd);
  }

  /** `"1.0"` or `"1.1"`. */
  get version(): string {
    return this.versionMinor === 1 ? "1.1" : "1.0";
  }

  /** True for 1xx responses other than 101: interim responses that precede the final one. */
  get informational(): boolean {
    return this.status < 200 && this.status !== 101;
  }
}
