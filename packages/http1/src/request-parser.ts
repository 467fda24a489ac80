import { requestFraming } from "./body-framing.js";
import { Http2PrefaceError, MissingHostError } from "./errors.js";
import { SCAN_REQUEST } from "./head-scanner.js";
import { latin1Slice } from "./latin1.js";
import { BodyFraming, RequestHead } from "./message-head.js";
import { methodName } from "./method-names.js";
import { type Http1Handler, Http1Parser, type Http1ParserOptions } from "./parser.js";
import { RawHeaders } from "./raw-headers.js";

/** Options of {@link RequestParser}. */
export interface RequestParserOptions extends Http1ParserOptions {
  /**
   * Reject an HTTP/1.1 request without a Host field with 400, as RFC 9112 3.2 requires of servers. Default true;
   * turn it off only for tests or for peers known to be broken. Duplicate and malformed Host fields are
   * rejected either way.
   */
  readonly requireHost?: boolean;
}

/**
 * An incremental, strict HTTP/1.1 request parser (RFC 9112), for servers. Feed it socket chunks with
 * `execute()`; it calls `handler.onHead`, `onBody` (zero-copy views of the input) and `onMessageComplete` for
 * every request, pipelined ones included, and throws a typed {@link Http1ParseError} carrying the status to
 * answer (400, 414, 431, 501, 505) for anything malformed or ambiguous.
 *
 * @example
 * ```ts
 * import { RequestParser, type RequestHead, type RawHeaders } from "@tessera/http1";
 *
 * const parser = new RequestParser({
 *   onHead(head: RequestHead) { console.log(head.method, head.target, head.headers.get("host")); },
 *   onBody(data: Buffer) { console.log("body", data.length); },
 *   onMessageComplete(trailers: RawHeaders | null) { console.log("done"); },
 * });
 * const consumed = parser.execute(Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n"));
 * // GET / a, done, GET /b a, done; consumed === 55
 * ```
 */
export class RequestParser extends Http1Parser<RequestHead> {
  private readonly requireHost: boolean;

  constructor(handler: Http1Handler<RequestHead>, options?: RequestParserOptions) {
    super(handler, options, SCAN_REQUEST, undefined);
    this.requireHost = options?.requireHost ?? true;
  }

  protected buildHead(): RequestHead {
    const s = this.scanner;
    const buf = s.buffer;
    const method = methodName(buf, s.methodEnd);
    if (method === "PRI") throw new Http2PrefaceError();
    const headers = new RawHeaders(buf, s.takeOffsets(), s.count);
    const facts = this.facts;
    facts.collect(headers, true, undefined);
    const minor = s.versionMinor;
    let framing = requestFraming(facts, minor);
    if (this.requireHost && minor === 1 && facts.hostCount === 0) throw new MissingHostError();
    const connect = method === "CONNECT";
    // RFC 9110 9.3.6: a CONNECT request has no content; what follows the head is tunnel data.
    if (connect) framing = BodyFraming.None;
    const close = facts.connectionClose;
    return new RequestHead(
      method,
      latin1Slice(buf, s.targetStart, s.targetEnd),
      minor,
      headers,
      framing,
      facts.contentLength === -1 ? undefined : facts.contentLength,
      minor === 1 ? !close : facts.connectionKeepAlive && !close,
      close,
      // RFC 9110 7.8: a server MUST ignore Upgrade in an HTTP/1.0 request.
      connect || (minor === 1 && facts.upgrade && facts.connectionUpgrade),
      // RFC 9110 10.1.1: a server MUST ignore 100-continue in an HTTP/1.0 request.
      minor === 1 && facts.expectContinue,
    );
  }

  protected isFinal(): boolean {
    return true;
  }
}
