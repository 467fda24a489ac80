import { HOST, isOws, LOWER, TCHAR } from "./char-tables.js";
import {
  ContentLengthWithTransferEncodingError,
  DuplicateHostError,
  InvalidContentLengthError,
  InvalidHostError,
  InvalidTransferEncodingError,
  UnsupportedTransferCodingError,
} from "./errors.js";
import { BodyFraming } from "./message-head.js";
import type { RawHeaders } from "./raw-headers.js";

// The header fields that decide how a message is framed and whether the connection survives it. They are found
// with a length switch and a first-byte check before any full comparison, so the common header that is none of
// them costs one switch.

const NAME_HOST = bytes("host");
const NAME_EXPECT = bytes("expect");
const NAME_UPGRADE = bytes("upgrade");
const NAME_CONNECTION = bytes("connection");
const NAME_CONTENT_LENGTH = bytes("content-length");
const NAME_TRANSFER_ENCODING = bytes("transfer-encoding");
const TOKEN_CHUNKED = bytes("chunked");
const TOKEN_CLOSE = bytes("close");
const TOKEN_KEEP_ALIVE = bytes("keep-alive");
const TOKEN_UPGRADE = NAME_UPGRADE;
const TOKEN_100_CONTINUE = bytes("100-continue");

function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

/** Case-insensitive compare of `buf[start, end)` with a lowercase ASCII word. */
function equalsLower(buf: Buffer, start: number, end: number, word: Uint8Array): boolean {
  const n = word.length;
  if (end - start !== n) return false;
  for (let k = 0; k < n; k++) {
    if (LOWER[buf[start + k]!] !== word[k]) return false;
  }
  return true;
}

/**
 * What the framing-relevant fields of one head say. One instance per parser, refilled for every head, so
 * reading them allocates nothing.
 */
export class FieldFacts {
  /** Content-Length value, -1 when absent. */
  contentLength = -1;
  /** A Transfer-Encoding field is present. */
  transferEncoding = false;
  /** `chunked` appears in the combined Transfer-Encoding list. */
  sawChunked = false;
  /** The combined Transfer-Encoding list ends with `chunked`. */
  chunkedLast = false;
  /** `chunked` appears more than once in the list. */
  chunkedTwice = false;
  /** The list holds codings other than `chunked`. */
  otherCodings = false;
  connectionClose = false;
  connectionKeepAlive = false;
  connectionUpgrade = false;
  hostCount = 0;
  /** A non-empty Upgrade field is present. */
  upgrade = false;
  expectContinue = false;
  /** First problem found in Content-Length / Transfer-Encoding values; thrown after the conflict check. */
  private contentLengthProblem: string | null = null;
  private codingsProblem: string | null = null;

  /**
   * Reads the framing-relevant fields of `headers`. Throws for a malformed or conflicting Content-Length, a
   * malformed Transfer-Encoding, Content-Length together with Transfer-Encoding, and (in requests) a bad or
   * duplicate Host. `errStatus` overrides the errors' status (502 in the response parser).
   */
  collect(headers: RawHeaders, isRequest: boolean, errStatus: number | undefined): void {
    this.contentLength = -1;
    this.transferEncoding = false;
    this.sawChunked = false;
    this.chunkedLast = false;
    this.chunkedTwice = false;
    this.otherCodings = false;
    this.connectionClose = false;
    this.connectionKeepAlive = false;
    this.connectionUpgrade = false;
    this.hostCount = 0;
    this.upgrade = false;
    this.expectContinue = false;
    this.contentLengthProblem = null;
    this.codingsProblem = null;

    const buf = headers.buffer;
    const offsets = headers.offsets;
    const count = headers.count;
    for (let i = 0; i < count; i++) {
      const o = i * 4;
      const ns = offsets[o]!;
      const ne = offsets[o + 1]!;
      const first = LOWER[buf[ns]!];
      switch (ne - ns) {
        case 4:
          if (first === 0x68 && isRequest && equalsLower(buf, ns, ne, NAME_HOST)) {
            this.hostCount++;
            if (this.hostCount > 1) throw new DuplicateHostError(errStatus);
            checkHost(buf, offsets[o + 2]!, offsets[o + 3]!, errStatus);
          }
          break;
        case 6:
          if (first === 0x65 && equalsLower(buf, ns, ne, NAME_EXPECT)) {
            if (equalsLower(buf, offsets[o + 2]!, offsets[o + 3]!, TOKEN_100_CONTINUE))
              this.expectContinue = true;
          }
          break;
        case 7:
          if (first === 0x75 && equalsLower(buf, ns, ne, NAME_UPGRADE)) {
            if (offsets[o + 3]! > offsets[o + 2]!) this.upgrade = true;
          }
          break;
        case 10:
          if (first === 0x63 && equalsLower(buf, ns, ne, NAME_CONNECTION)) {
            this.connectionTokens(buf, offsets[o + 2]!, offsets[o + 3]!);
          }
          break;
        case 14:
          if (first === 0x63 && equalsLower(buf, ns, ne, NAME_CONTENT_LENGTH)) {
            this.contentLengthProblem ??= this.addContentLength(buf, offsets[o + 2]!, offsets[o + 3]!);
          }
          break;
        case 17:
          if (first === 0x74 && equalsLower(buf, ns, ne, NAME_TRANSFER_ENCODING)) {
            this.transferEncoding = true;
            this.codingsProblem ??= this.addCodings(buf, offsets[o + 2]!, offsets[o + 3]!);
          }
          break;
      }
    }
    // RFC 9112 6.1: a sender MUST NOT send both, and a message with both "might indicate an attempt to perform
    // request smuggling or response splitting". Rejected in both directions, and reported in preference to a
    // malformed value of either, since it is the more telling diagnosis.
    if (this.transferEncoding && (this.contentLength !== -1 || this.contentLengthProblem !== null)) {
      throw new ContentLengthWithTransferEncodingError(errStatus);
    }
    if (this.contentLengthProblem !== null)
      throw new InvalidContentLengthError(this.contentLengthProblem, errStatus);
    if (this.codingsProblem !== null) throw new InvalidTransferEncodingError(this.codingsProblem, errStatus);
  }

  /**
   * Content-Length = 1*DIGIT. A comma list or repeated fields are accepted only when every value is the same
   * (RFC 9110 8.6 allows this; it happens when an intermediary merges duplicates). Anything else, including
   * signs, spaces inside the number, empty elements and values above 2^53-1, is an error.
   */
  private addContentLength(buf: Buffer, start: number, end: number): string | null {
    let i = start;
    for (;;) {
      let value = 0;
      const digitsStart = i;
      while (i < end) {
        const d = buf[i]! - 0x30;
        if (d < 0 || d > 9) break;
        value = value * 10 + d;
        i++;
      }
      if (i === digitsStart) return "not a number";
      if (value > Number.MAX_SAFE_INTEGER) return "larger than 2^53-1";
      if (this.contentLength !== -1 && this.contentLength !== value) return "several different values";
      this.contentLength = value;
      while (i < end && isOws(buf[i]!)) i++;
      if (i === end) return null;
      if (buf[i] !== 0x2c) return "not a number";
      i++;
      while (i < end && isOws(buf[i]!)) i++;
    }
  }

  /**
   * Transfer-Encoding = #transfer-coding, combined over all its fields. Strict: every element must be a bare
   * token (no parameters, no empty elements like `chunked , `), so there is exactly one reading of the list.
   */
  private addCodings(buf: Buffer, start: number, end: number): string | null {
    let i = start;
    for (;;) {
      const s = i;
      while (i < end && TCHAR[buf[i]!] === 1) i++;
      if (i === s) return "empty or malformed coding";
      if (equalsLower(buf, s, i, TOKEN_CHUNKED)) {
        if (this.sawChunked) this.chunkedTwice = true;
        this.sawChunked = true;
        this.chunkedLast = true;
      } else {
        this.otherCodings = true;
        this.chunkedLast = false;
      }
      while (i < end && isOws(buf[i]!)) i++;
      if (i === end) return null;
      if (buf[i] !== 0x2c) return "empty or malformed coding";
      i++;
      while (i < end && isOws(buf[i]!)) i++;
    }
  }
  /** Connection = #token; only close, keep-alive and upgrade matter here (case-insensitive). */
  private connectionTokens(buf: Buffer, start: number, end: number): void {
    let i = start;
    while (i < end) {
      while (i < end && (buf[i] === 0x2c || isOws(buf[i]!))) i++;
      const s = i;
      while (i < end && buf[i] !== 0x2c && !isOws(buf[i]!)) i++;
      if (equalsLower(buf, s, i, TOKEN_CLOSE)) this.connectionClose = true;
      else if (equalsLower(buf, s, i, TOKEN_KEEP_ALIVE)) this.connectionKeepAlive = true;
      else if (equalsLower(buf, s, i, TOKEN_UPGRADE)) this.connectionUpgrade = true;
    }
  }
}

/** Host = uri-host [ ":" port ]; an empty value is allowed (RFC 9112 3.2: a target without authority). */
function checkHost(buf: Buffer, start: number, end: number, errStatus: number | undefined): void {
  for (let i = start; i < end; i++) {
    if (HOST[buf[i]!] === 0) throw new InvalidHostError(errStatus);
  }
}

/**
 * Body framing of a request (RFC 9112 6.3), strict: Transfer-Encoding must be exactly `chunked`. A list that
 * does not end with `chunked` (or names it twice) leaves the length undeterminable: 400. A list that ends with
 * `chunked` after other codings is well framed but asks us to undo codings we do not implement: 501, as RFC 9112
 * 6.1 recommends (and as Go's net/http does). Transfer-Encoding in HTTP/1.0 is faulty framing (RFC 9112 6.1).
 */
export function requestFraming(facts: FieldFacts, versionMinor: number): BodyFraming {
  if (facts.transferEncoding) {
    if (versionMinor === 0) throw new InvalidTransferEncodingError("not allowed in HTTP/1.0");
    if (!facts.chunkedLast || facts.chunkedTwice) {
      throw new InvalidTransferEncodingError(
        facts.sawChunked ? "chunked is not the final coding, or is repeated" : "chunked is missing",
      );
    }
    if (facts.otherCodings) throw new UnsupportedTransferCodingError("only chunked is supported");
    return BodyFraming.Chunked;
  }
  return facts.contentLength > 0 ? BodyFraming.Length : BodyFraming.None;
}

/**
 * Body framing of a response (RFC 9112 6.3), given the method of the request it answers. Responses to HEAD,
 * 1xx, 204 and 304 have no body whatever their headers say; a 2xx to CONNECT turns the connection into a tunnel.
 * Transfer-Encoding ending in `chunked` means chunked (earlier codings are the client's business); any other
 * Transfer-Encoding, or neither header, means the body runs until the connection closes.
 */
export function responseFraming(
  facts: FieldFacts,
  versionMinor: number,
  status: number,
  requestMethod: string,
): BodyFraming {
  if (facts.transferEncoding) {
    if (versionMinor === 0) throw new InvalidTransferEncodingError("not allowed in HTTP/1.0", 502);
    if (facts.chunkedTwice) throw new InvalidTransferEncodingError("chunked is repeated", 502);
  }
  if (status < 200 || status === 204 || status === 304 || requestMethod === "HEAD") return BodyFraming.None;
  if (requestMethod === "CONNECT" && status < 300) return BodyFraming.None;
  if (facts.transferEncoding) return facts.chunkedLast ? BodyFraming.Chunked : BodyFraming.UntilClose;
  if (facts.contentLength === -1) return BodyFraming.UntilClose;
  return facts.contentLength > 0 ? BodyFraming.Length : BodyFraming.None;
}
