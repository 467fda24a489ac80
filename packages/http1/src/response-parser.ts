import { responseFraming } from "./body-framing.js";
import { SCAN_RESPONSE } from "./head-scanner.js";
import { BodyFraming, ResponseHead } from "./message-head.js";
import { type Http1Handler, Http1Parser, type Http1ParserOptions } from "./parser.js";
import { RawHeaders } from "./raw-headers.js";

/** Errors of the response parser carry 502: what a proxy answers when its upstream sends a broken response. */
const BAD_GATEWAY = 502;

/**
 * An incremental, strict HTTP/1.1 response parser (RFC 9112), for clients and proxies. Whether a response has
 * a body depends on the request it answers (HEAD, CONNECT), so tell the parser each request method, in order,
 * with {@link ResponseParser.pushRequestMethod} as you send the requests; a response with no method queued is
 * read as an answer to GET. Interim 1xx responses (except 101) are reported as messages of their own and do not
 * use up a queued method.
 *
 * @example
 * ```ts
 * import { ResponseParser } from "@tessera/http1";
 *
 * const parser = new ResponseParser({
 *   onHead(head) { console.log(head.status, head.reason, head.contentLength); },
 *   onBody(data) {},
 *   onMessageComplete() {},
 * });
 * parser.pushRequestMethod("HEAD");
 * parser.execute(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"));
 * // 200 OK 1234, and the message is complete at once: a response to HEAD has no body
 * ```
 */
export class ResponseParser extends Http1Parser<ResponseHead> {
  private readonly methods: string[] = [];
  private nextMethod = 0;

  constructor(handler: Http1Handler<ResponseHead>, options?: Http1ParserOptions) {
    super(handler, options, SCAN_RESPONSE, BAD_GATEWAY);
  }

  /** Queues the method of a request sent on this connection; responses use them up in order. */
  pushRequestMethod(method: string): void {
    this.methods.push(method);
  }

  /** Number of queued request methods not yet matched with a final response. */
  get pendingRequests(): number {
    return this.methods.length - this.nextMethod;
  }

  protected buildHead(): ResponseHead {
    const s = this.scanner;
    const status = s.status;
    const minor = s.versionMinor;
    const headers = new RawHeaders(s.buffer, s.takeOffsets(), s.count);
    const facts = this.facts;
    facts.collect(headers, false, BAD_GATEWAY);
    const interim = status < 200 && status !== 101;
    const method = interim ? this.peekMethod() : this.takeMethod();
    const framing = responseFraming(facts, minor, status, method);
    const close = facts.connectionClose;
    const keepAlive =
      (minor === 1 ? !close : facts.connectionKeepAlive && !close) && framing !== BodyFraming.UntilClose;
    return new ResponseHead(
      status,
      minor,
      headers,
      framing,
      facts.contentLength === -1 ? undefined : facts.contentLength,
      keepAlive,
      close,
      status === 101 || (method === "CONNECT" && status >= 200 && status < 300),
      s.reasonStart,
      s.reasonEnd,
    );
  }

  protected isFinal(head: ResponseHead): boolean {
    return !head.informational;
  }

  private peekMethod(): string {
    return this.nextMethod < this.methods.length ? this.methods[this.nextMethod]! : "GET";
  }

  private takeMethod(): string {
    if (this.nextMethod === this.methods.length) return "GET";
    const method = this.methods[this.nextMethod++]!;
    if (this.nextMethod === this.methods.length) {
      this.methods.length = 0;
      this.nextMethod = 0;
    }
    return method;
  }
}
