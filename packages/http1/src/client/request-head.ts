import type { HeaderMap, Request } from "@tessera/http";
import { TARGET } from "../char-tables.js";
import { Http1RequestInvalidError } from "./errors.js";

/** How the body of an outgoing request is delimited. */
export const RequestFraming = {
  /** No body and no framing header. */
  None: 0,
  /** `Content-Length: length`, then exactly that many bytes. */
  Length: 1,
  /** `Transfer-Encoding: chunked`. */
  Chunked: 2,
} as const;
export type RequestFraming = (typeof RequestFraming)[keyof typeof RequestFraming];

// Methods whose empty body is still announced with `Content-Length: 0` (RFC 9110 8.6: a user agent sends it when
// the method defines a meaning for content); GET, HEAD, DELETE, OPTIONS, TRACE and CONNECT go without.
function announcesEmptyBody(method: string): boolean {
  return !(
    method === "GET" ||
    method === "HEAD" ||
    method === "DELETE" ||
    method === "OPTIONS" ||
    method === "TRACE" ||
    method === "CONNECT"
  );
}

// ASCII case-insensitive compare of a header name (a validated token) with a lower-case literal. OR-ing 0x20 folds
// letters; no other token character differs from a literal's character by that bit alone.
function nameIs(name: string, lower: string): boolean {
  const n = lower.length;
  if (name.length !== n) return false;
  for (let i = 0; i < n; i++) if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

const CLOSE_TOKEN = /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i;
const CONTINUE = /^[ \t]*100-continue[ \t]*$/i;
const DIGITS = /^[0-9]{1,15}$/;

function checkTarget(target: string): void {
  const n = target.length;
  if (n === 0) throw new Http1RequestInvalidError("the request target is empty");
  for (let i = 0; i < n; i++) {
    const c = target.charCodeAt(i);
    if (c > 0x7f || TARGET[c] === 0) {
      throw new Http1RequestInvalidError(
        `the request target ${JSON.stringify(target)} has a character that is not visible ASCII`,
      );
    }
  }
}

/**
 * Builds the head of an outgoing request and records what the connection needs to know about it. One instance
 * per connection, reused for every request (its fields describe the last head built), so building a head
 * allocates only the string.
 *
 * What it writes, in order: the request line (origin form, or absolute form to a forward proxy), `Host` (from
 * the target's authority) unless the request has one, the request's fields in their order and casing, then the
 * framing field. Framing comes from the body: `Content-Length` for a known length, else `Transfer-Encoding:
 * chunked`; the request's own `Content-Length` is used only for a streamed body of unknown length, and its own
 * `Transfer-Encoding` is dropped (the connection frames the body, and two framings would be a smuggling risk).
 *
 * @example
 * ```ts
 * const builder = new RequestHeadBuilder();
 * builder.build(Request.get("http://example.com/a?b"), false, 0);
 * // "GET /a?b HTTP/1.1\r\nHost: example.com\r\n\r\n"
 * ```
 */
export class RequestHeadBuilder {
  /** The request asks to close the connection after this exchange (`Connection: close`, HTTP/1.0). */
  close = false;
  /** The request carries `Expect: 100-continue`. */
  expectContinue = false;
  /** How the body is framed. */
  framing: RequestFraming = RequestFraming.None;
  /** The body length announced with Content-Length (Length framing), else -1. */
  length = -1;

  /**
   * The head as a latin1 string. `bodyLength` is the body's length when known. Throws
   * {@link Http1RequestInvalidError} for a target that cannot be written, or `InvalidUriError` from the model for
   * an absolute target that does not parse.
   */
  build(request: Request, absoluteForm: boolean, bodyLength: number | undefined): string {
    const method = request.method;
    const headers: HeaderMap = request.headers;
    let target = request.target;
    let authority: string | undefined;
    if (target.charCodeAt(0) === 0x2f /* "/" */ || target === "*") {
      checkTarget(target);
    } else if (method === "CONNECT" && !target.includes("/")) {
      checkTarget(target);
      authority = target;
    } else {
      const uri = request.uri; // validates every character
      if (uri.form !== "absolute") {
        throw new Http1RequestInvalidError(`cannot send a request with target ${JSON.stringify(target)}`);
      }
      authority = uri.authority;
      if (!absoluteForm) target = uri.pathAndQuery;
    }

    let fields = "";
    let hasHost = false;
    let close = request.version === "HTTP/1.0";
    let expectContinue = false;
    let userLength = -1;
    const n = headers.size;
    for (let i = 0; i < n; i++) {
      const name = headers.name(i);
      const value = headers.value(i);
      switch (name.length) {
        case 4:
          if (nameIs(name, "host")) hasHost = true;
          break;
        case 6:
          if (nameIs(name, "expect") && CONTINUE.test(value)) expectContinue = true;
          break;
        case 10:
          if (nameIs(name, "connection") && CLOSE_TOKEN.test(value)) close = true;
          break;
        case 14:
          if (nameIs(name, "content-length")) {
            if (DIGITS.test(value)) userLength = Number(value);
            continue;
          }
          break;
        case 17:
          if (nameIs(name, "transfer-encoding")) continue;
          break;
      }
      fields += name + ": " + value + "\r\n";
    }

    if (!hasHost && authority === undefined) {
      throw new Http1RequestInvalidError("an origin-form request needs a Host header or an absolute target");
    }
    if (absoluteForm && target.charCodeAt(0) === 0x2f) {
      // A forward proxy needs the absolute form; an origin-form target is completed with the request's Host.
      target = `http://${headers.get("host") ?? authority}${target}`;
    }
    let head = `${method} ${target} ${request.version === "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1"}\r\n`;
    if (!hasHost) head += "Host: " + authority + "\r\n";
    head += fields;

    let framing: RequestFraming;
    let length = bodyLength ?? userLength;
    if (length > 0 || (length === 0 && bodyLength === undefined)) {
      framing = RequestFraming.Length;
      head += "Content-Length: " + length + "\r\n";
    } else if (length === 0) {
      framing = RequestFraming.None;
      if (announcesEmptyBody(method)) head += "Content-Length: 0\r\n";
    } else {
      if (request.version === "HTTP/1.0") {
        throw new Http1RequestInvalidError("an HTTP/1.0 request cannot carry a body of unknown length");
      }
      framing = RequestFraming.Chunked;
      length = -1;
      head += "Transfer-Encoding: chunked\r\n";
    }
    this.close = close;
    this.expectContinue = expectContinue && framing !== RequestFraming.None;
    this.framing = framing;
    this.length = framing === RequestFraming.Length ? length : -1;
    return head + "\r\n";
  }
}
