import { describe, expect, it } from "vitest";
import {
  BareCrError,
  BareLfError,
  ContentLengthWithTransferEncodingError,
  DuplicateHostError,
  Http1ParseError,
  Http2PrefaceError,
  InvalidChunkExtensionError,
  InvalidChunkSizeError,
  InvalidChunkTerminatorError,
  InvalidContentLengthError,
  InvalidHeaderNameError,
  InvalidHeaderValueError,
  InvalidHostError,
  InvalidMethodError,
  InvalidStatusLineError,
  InvalidTargetError,
  InvalidTransferEncodingError,
  InvalidVersionError,
  MissingHostError,
  ObsFoldError,
  RequestParser,
  ResponseParser,
  UnsupportedTransferCodingError,
  UnsupportedVersionError,
} from "../src/index.js";
import { parseRequests, parseResponses, Recorder, SPLITS } from "./support/record.js";

// Every strict rule that exists because laxity somewhere has allowed request smuggling or response splitting.
// Each case is followed by a complete, valid request (or response): if a rule failed to stop the parser, that
// second message would be parsed from the same bytes. Each case runs whole, byte by byte and at random splits.

const SMUGGLED_REQUEST = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
const SMUGGLED_RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nsmuggled!";

interface Case {
  name: string;
  input: string;
  code: string;
  /** The status to answer: the request side's own, 502 for responses. */
  status: number;
  /** True if the head is fine and the error comes in the body (the head is reported, the message never completes). */
  inBody?: boolean;
}

const req = (head: string, body = "") => `${head}\r\n\r\n${body}${SMUGGLED_REQUEST}`;
const post = (fields: string, body = "") => req(`POST / HTTP/1.1\r\nHost: x\r\n${fields}`, body);
const chunked = (body: string) => post("Transfer-Encoding: chunked", body);

const REQUEST_CASES: Case[] = [
  // --- Content-Length together with Transfer-Encoding ---
  {
    name: "Content-Length then Transfer-Encoding",
    input: post("Content-Length: 5\r\nTransfer-Encoding: chunked", "0\r\n\r\n"),
    code: ContentLengthWithTransferEncodingError.code,
    status: 400,
  },
  {
    name: "Transfer-Encoding then Content-Length",
    input: post("Transfer-Encoding: chunked\r\nContent-Length: 5", "0\r\n\r\n"),
    code: ContentLengthWithTransferEncodingError.code,
    status: 400,
  },
  {
    name: "Content-Length with an empty Transfer-Encoding",
    input: post("Content-Length: 5\r\nTransfer-Encoding:", "hello"),
    code: ContentLengthWithTransferEncodingError.code,
    status: 400,
  },
  // --- Transfer-Encoding other than a final chunked ---
  {
    name: "unknown coding without chunked (length undeterminable)",
    input: post("Transfer-Encoding: gzip", "0\r\n\r\n"),
    code: InvalidTransferEncodingError.code,
    status: 400,
  },
  {
    name: "chunked not last",
    input: post("Transfer-Encoding: chunked, gzip", "0\r\n\r\n"),
    code: InvalidTransferEncodingError.code,
    status: 400,
  },
  {
    name: "chunked not last across two fields",
    input: post("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity", "0\r\n\r\n"),
    code: InvalidTransferEncodingError.code,
    status: 400,
  },
  {
    name: "chunked twice in one field",
    input: post("Transfer-Encoding: chunked, chunked", "0\r\n\r\n"),
    code: InvalidTransferEncodingError.code,
    status: 400,
  },
  {
    name: "chunked twice in two fields",
    input: post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", "0\r\n\r\n"),
    code: InvalidTransferEncodingError.code,
    status: 400,
  },
  {
    name: "unknown coding before chunked: 501",
    input: post("Transfer-Encoding: gzip, chunked", "0\r\n\r\n"),
    code: UnsupportedTransferCodingError.code,
    status: 501,
  },
  {
    name: "Transfer-Encoding in HTTP/1.0",
    input: req("POST / HTTP/1.0\r\nTransfer-Encoding: chunked", "0\r\n\r\n"),
    code: InvalidTransferEncodingError.code,
    status: 400,
  },
  // --- obfuscated Transfer-Encoding ---
  {
    name: "`chunked , ` (empty list element)",
    input: post("Transfer-Encoding: chunked , ", "0\r\n\r\n"),
    code: InvalidTransferEncodingError.code,
    status: 400,
  },
  {
    name: "`, chunked` (leading empty element)",
    input: post("Transfer-Encoding: , chunked", "0\r\n\r\n"),
    code: InvalidTransferEncodingError.code,
    status: 400,
  },
  {
    name: "`xchunked`",
    input: post("Transfer-Encoding: xchunked", "0\r\n\r\n"),
    code: InvalidTransferEncodingError.code,
    status: 400,
  },
  {
    name: "`chunkedchunked`",
    input: post("Transfer-Encoding: chunkedchunked", "0\r\n\r\n"),
    code: InvalidTransferEncodingError.code,
    status: 400,
  },
  {
    name: "`chunked;x=1` (parameters)",
    input: post("Transfer-Encoding: chunked;x=1", "0\r\n\r\n"),
    code: InvalidTransferEncodingError.code,
    status: 400,
  },
  {
    name: '`"chunked"` (quoted)',
    input: post('Transfer-Encoding: "chunked"', "0\r\n\r\n"),
    code: InvalidTransferEncodingError.code,
    status: 400,
  },
  {
    name: "`chunked` followed by a vertical tab",
    input: post("Transfer-Encoding: chunked\x0b", "0\r\n\r\n"),
    code: InvalidHeaderValueError.code,
    status: 400,
  },
  {
    name: "`chunked` preceded by a form feed",
    input: post("Transfer-Encoding: \x0cchunked", "0\r\n\r\n"),
    code: InvalidHeaderValueError.code,
    status: 400,
  },
  {
    name: "space between Transfer-Encoding and the colon",
    input: post("Transfer-Encoding : chunked", "0\r\n\r\n"),
    code: InvalidHeaderNameError.code,
    status: 400,
  },
  {
    name: "tab between Transfer-Encoding and the colon",
    input: post("Transfer-Encoding\t: chunked", "0\r\n\r\n"),
    code: InvalidHeaderNameError.code,
    status: 400,
  },
  {
    name: "space between Content-Length and the colon",
    input: post("Content-Length : 5", "hello"),
    code: InvalidHeaderNameError.code,
    status: 400,
  },
  // --- obs-fold and leading whitespace ---
  {
    name: "obs-fold continuing Transfer-Encoding",
    input: post("Transfer-Encoding:\r\n chunked", "0\r\n\r\n"),
    code: ObsFoldError.code,
    status: 400,
  },
  {
    name: "obs-fold with a tab",
    input: post("X-A: 1\r\n\tContent-Length: 5", "hello"),
    code: ObsFoldError.code,
    status: 400,
  },
  {
    name: "whitespace before the first header line",
    input: req("GET / HTTP/1.1\r\n Host: x"),
    code: ObsFoldError.code,
    status: 400,
  },
  // --- Content-Length ---
  {
    name: "duplicate Content-Length with different values",
    input: post("Content-Length: 5\r\nContent-Length: 6", "hello!"),
    code: InvalidContentLengthError.code,
    status: 400,
  },
  {
    name: "Content-Length list with different values",
    input: post("Content-Length: 5, 6", "hello!"),
    code: InvalidContentLengthError.code,
    status: 400,
  },
  ...[
    "+5",
    "-1",
    "0x5",
    "5 5",
    "5a",
    "1e3",
    "",
    "5,",
    ",5",
    "5,,5",
    "9007199254740992",
    "99999999999999999999",
  ].map(
    (value): Case => ({
      name: `malformed Content-Length ${JSON.stringify(value)}`,
      input: post(`Content-Length: ${value}`, "hello"),
      code: InvalidContentLengthError.code,
      status: 400,
    }),
  ),
  // --- chunk sizes ---
  ...[
    ["non-hex", "z"],
    ["0x prefix", "0x5"],
    ["minus sign", "-5"],
    ["plus sign", "+5"],
    ["leading space", " 5"],
    ["leading tab", "\t5"],
    ["empty", ""],
    ["over 2^53-1", "20000000000000"],
    ["absurdly long", "1".repeat(40)],
    ["trailing junk", "5x"],
    ["trailing whitespace without an extension", "5 "],
  ].map(
    ([what, size]): Case => ({
      name: `chunk size: ${what}`,
      input: chunked(`${size}\r\nhello\r\n0\r\n\r\n`),
      code:
        what === "trailing whitespace without an extension"
          ? InvalidChunkExtensionError.code
          : InvalidChunkSizeError.code,
      status: 400,
      inBody: true,
    }),
  ),
  {
    name: "missing last-chunk (an empty line where a size is due)",
    input: chunked("5\r\nhello\r\n\r\n"),
    code: InvalidChunkSizeError.code,
    status: 400,
    inBody: true,
  },
  {
    name: "chunk data longer than its size (no CRLF after the data)",
    input: chunked("5\r\nhello world\r\n0\r\n\r\n"),
    code: InvalidChunkTerminatorError.code,
    status: 400,
    inBody: true,
  },
  {
    name: "chunk data ended by a bare LF",
    input: chunked("5\r\nhello\n0\r\n\r\n"),
    code: InvalidChunkTerminatorError.code,
    status: 400,
    inBody: true,
  },
  {
    name: "chunk data ended by a bare CR",
    input: chunked("5\r\nhello\r0\r\n\r\n"),
    code: InvalidChunkTerminatorError.code,
    status: 400,
    inBody: true,
  },
  {
    name: "chunk size line ended by a bare LF",
    input: chunked("5\nhello\r\n0\r\n\r\n"),
    code: BareLfError.code,
    status: 400,
    inBody: true,
  },
  {
    name: "chunk size line ended by a bare CR",
    input: chunked("5\rhello\r\n0\r\n\r\n"),
    code: BareCrError.code,
    status: 400,
    inBody: true,
  },
  // --- chunk extensions ---
  ...[
    ["`;` without a name", "5;"],
    ["unterminated quoted value", '5;a="abc'],
    ["junk after a value", "5;a=b c"],
    ["whitespace before CRLF", "5;a=b "],
    ["control byte", "5;a\x01"],
    ["NUL in a quoted value", '5;a="\x00"'],
    ["`=` without a value", "5;a="],
  ].map(
    ([what, line]): Case => ({
      name: `chunk extension: ${what}`,
      input: chunked(`${line}\r\nhello\r\n0\r\n\r\n`),
      code: InvalidChunkExtensionError.code,
      status: 400,
      inBody: true,
    }),
  ),
  {
    name: "bare LF inside a chunk extension",
    input: chunked("5;a\nhello\r\n0\r\n\r\n"),
    code: BareLfError.code,
    status: 400,
    inBody: true,
  },
  // --- line endings ---
  {
    name: "bare LF ending the request line",
    input: `GET / HTTP/1.1\nHost: x\r\n\r\n${SMUGGLED_REQUEST}`,
    code: BareLfError.code,
    status: 400,
  },
  {
    name: "bare LF ending a header line",
    input: req("POST / HTTP/1.1\r\nHost: x\nContent-Length: 5", "hello"),
    code: BareLfError.code,
    status: 400,
  },
  {
    name: "bare LF ending an empty header line (x:\\n)",
    input: req("POST / HTTP/1.1\r\nHost: x\r\nx:\nTransfer-Encoding: chunked", "0\r\n\r\n"),
    code: BareLfError.code,
    status: 400,
  },
  {
    name: "bare LF ending the head",
    input: `GET / HTTP/1.1\r\nHost: x\r\n\n${SMUGGLED_REQUEST}`,
    code: BareLfError.code,
    status: 400,
  },
  {
    name: "only LFs",
    input: `GET / HTTP/1.1\nHost: x\n\n${SMUGGLED_REQUEST}`,
    code: BareLfError.code,
    status: 400,
  },
  {
    name: "bare CR inside a header value",
    input: req("POST / HTTP/1.1\r\nHost: x\r\nX-A: a\rContent-Length: 5", "hello"),
    code: BareCrError.code,
    status: 400,
  },
  {
    name: "bare CR after an empty value (x:\\r)",
    input: req("POST / HTTP/1.1\r\nHost: x\r\nx:\rTransfer-Encoding: chunked", "0\r\n\r\n"),
    code: BareCrError.code,
    status: 400,
  },
  {
    name: "bare CR ending the request line",
    input: req("GET / HTTP/1.1\rHost: x"),
    code: BareCrError.code,
    status: 400,
  },
  {
    name: "CR followed by junk instead of the final CRLF",
    input: `GET / HTTP/1.1\r\nHost: x\r\n\rZGET /evil HTTP/1.1\r\nHost: x\r\n\r\n`,
    code: BareCrError.code,
    status: 400,
  },
  {
    name: "bare CR before the request line",
    input: `\rGET / HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED_REQUEST}`,
    code: BareCrError.code,
    status: 400,
  },
  // --- tokens and characters ---
  {
    name: "invalid character in the method",
    input: req("G(ET / HTTP/1.1\r\nHost: x"),
    code: InvalidMethodError.code,
    status: 400,
  },
  {
    name: "tab after the method",
    input: req("GET\t/ HTTP/1.1\r\nHost: x"),
    code: InvalidMethodError.code,
    status: 400,
  },
  {
    name: "NUL in the method",
    input: req("GE\x00T / HTTP/1.1\r\nHost: x"),
    code: InvalidMethodError.code,
    status: 400,
  },
  {
    name: "invalid character in a header name",
    input: req("GET / HTTP/1.1\r\nHost: x\r\nX(A: 1"),
    code: InvalidHeaderNameError.code,
    status: 400,
  },
  {
    name: "space inside a header name",
    input: req("GET / HTTP/1.1\r\nHost: x\r\nContent Length: 5"),
    code: InvalidHeaderNameError.code,
    status: 400,
  },
  {
    name: "empty header name",
    input: req("GET / HTTP/1.1\r\nHost: x\r\n: value"),
    code: InvalidHeaderNameError.code,
    status: 400,
  },
  {
    name: "NUL in a header name",
    input: req("GET / HTTP/1.1\r\nHost: x\r\nX\x00A: 1"),
    code: InvalidHeaderNameError.code,
    status: 400,
  },
  {
    name: "header line without a colon",
    input: req("GET / HTTP/1.1\r\nHost: x\r\nContent-Length 5"),
    code: InvalidHeaderNameError.code,
    status: 400,
  },
  ...[
    ["NUL", "a\x00b"],
    ["SOH", "a\x01b"],
    ["ESC", "\x1b[31m"],
    ["DEL", "a\x7fb"],
  ].map(
    ([what, value]): Case => ({
      name: `${what} in a header value`,
      input: req(`GET / HTTP/1.1\r\nHost: x\r\nX-A: ${value}`),
      code: InvalidHeaderValueError.code,
      status: 400,
    }),
  ),
  // --- request line ---
  {
    name: "space inside the request target (the rest is no HTTP version)",
    input: req("GET /a b HTTP/1.1\r\nHost: x"),
    code: InvalidVersionError.code,
    status: 400,
  },
  {
    name: "two spaces after the method (empty target)",
    input: req("GET  / HTTP/1.1\r\nHost: x"),
    code: InvalidTargetError.code,
    status: 400,
  },
  {
    name: "tab inside the request target",
    input: req("GET /a\tb HTTP/1.1\r\nHost: x"),
    code: InvalidTargetError.code,
    status: 400,
  },
  {
    name: "NUL in the request target",
    input: req("GET /a\x00b HTTP/1.1\r\nHost: x"),
    code: InvalidTargetError.code,
    status: 400,
  },
  {
    name: "non-ASCII byte in the request target",
    input: req("GET /caf\xe9 HTTP/1.1\r\nHost: x"),
    code: InvalidTargetError.code,
    status: 400,
  },
  {
    name: "two spaces before the version",
    input: req("GET /  HTTP/1.1\r\nHost: x"),
    code: InvalidVersionError.code,
    status: 400,
  },
  {
    name: "space after the version",
    input: req("GET / HTTP/1.1 \r\nHost: x"),
    code: InvalidVersionError.code,
    status: 400,
  },
  {
    name: "lowercase http/1.1",
    input: req("GET / http/1.1\r\nHost: x"),
    code: InvalidVersionError.code,
    status: 400,
  },
  {
    name: "two-digit major version",
    input: req("GET / HTTP/11.1\r\nHost: x"),
    code: InvalidVersionError.code,
    status: 400,
  },
  {
    name: "HTTP/0.9 request line (no version)",
    input: `GET /\r\n\r\n${SMUGGLED_REQUEST}`,
    code: InvalidVersionError.code,
    status: 400,
  },
  ...["2.0", "1.2", "0.9", "3.0"].map(
    (v): Case => ({
      name: `unsupported version HTTP/${v}: 505`,
      input: req(`GET / HTTP/${v}\r\nHost: x`),
      code: UnsupportedVersionError.code,
      status: 505,
    }),
  ),
  {
    name: "HTTP/2 connection preface",
    input: `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n${SMUGGLED_REQUEST}`,
    code: UnsupportedVersionError.code,
    status: 505,
  },
  {
    name: "PRI method over HTTP/1.1",
    input: `PRI * HTTP/1.1\r\nHost: x\r\n\r\nSM\r\n\r\n${SMUGGLED_REQUEST}`,
    code: Http2PrefaceError.code,
    status: 505,
  },
  // --- Host ---
  {
    name: "HTTP/1.1 request without Host",
    input: `GET / HTTP/1.1\r\n\r\n${SMUGGLED_REQUEST}`,
    code: MissingHostError.code,
    status: 400,
  },
  {
    name: "two Host fields",
    input: req("GET / HTTP/1.1\r\nHost: a\r\nHost: b"),
    code: DuplicateHostError.code,
    status: 400,
  },
  {
    name: "two identical Host fields",
    input: req("GET / HTTP/1.1\r\nHost: a\r\nhost: a"),
    code: DuplicateHostError.code,
    status: 400,
  },
  {
    name: "two Host fields in HTTP/1.0",
    input: req("GET / HTTP/1.0\r\nHost: a\r\nHost: b"),
    code: DuplicateHostError.code,
    status: 400,
  },
  ...["a b", "a@b", "a/b", "evil.com\t"].map(
    (host): Case => ({
      name: `invalid Host ${JSON.stringify(host)}`,
      input: req(`GET / HTTP/1.1\r\nHost: ${host}x`),
      code: InvalidHostError.code,
      status: 400,
    }),
  ),
];

const res = (head: string, body = "") => `${head}\r\n\r\n${body}${SMUGGLED_RESPONSE}`;

const RESPONSE_CASES: Case[] = [
  {
    name: "Content-Length with Transfer-Encoding",
    input: res("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked", "0\r\n\r\n"),
    code: ContentLengthWithTransferEncodingError.code,
    status: 502,
  },
  {
    name: "differing Content-Length values",
    input: res("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 50", "hello"),
    code: InvalidContentLengthError.code,
    status: 502,
  },
  {
    name: "malformed Content-Length",
    input: res("HTTP/1.1 200 OK\r\nContent-Length: 5x", "hello"),
    code: InvalidContentLengthError.code,
    status: 502,
  },
  {
    name: "chunked twice",
    input: res("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked", "0\r\n\r\n"),
    code: InvalidTransferEncodingError.code,
    status: 502,
  },
  {
    name: "obfuscated Transfer-Encoding",
    input: res("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked , ", "0\r\n\r\n"),
    code: InvalidTransferEncodingError.code,
    status: 502,
  },
  {
    name: "obs-fold",
    input: res("HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 5", "hello"),
    code: ObsFoldError.code,
    status: 502,
  },
  {
    name: "bare LF ending the status line",
    input: res("HTTP/1.1 200 OK\nContent-Length: 5", "hello"),
    code: BareLfError.code,
    status: 502,
  },
  {
    name: "bare CR in the status line",
    input: res("HTTP/1.1 200 OK\rContent-Length: 5", "hello"),
    code: BareCrError.code,
    status: 502,
  },
  ...["20", "2000", "abc", "099", " 200"].map(
    (status): Case => ({
      name: `status code ${JSON.stringify(status)}`,
      input: res(`HTTP/1.1 ${status} OK\r\nContent-Length: 0`),
      code: InvalidStatusLineError.code,
      status: 502,
    }),
  ),
  {
    name: "NUL in the reason phrase",
    input: res("HTTP/1.1 200 O\x00K\r\nContent-Length: 0"),
    code: InvalidStatusLineError.code,
    status: 502,
  },
  {
    name: "tab after the version",
    input: res("HTTP/1.1\t200 OK\r\nContent-Length: 0"),
    code: InvalidVersionError.code,
    status: 502,
  },
  {
    name: "chunk data not followed by CRLF",
    input: res("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked", "5\r\nhelloXX0\r\n\r\n"),
    code: InvalidChunkTerminatorError.code,
    status: 502,
    inBody: true,
  },
];

function check(c: Case, kind: "request" | "response"): void {
  for (const { name, split } of SPLITS) {
    const input = Buffer.from(c.input, "latin1");
    const r = kind === "request" ? parseRequests(input, { split }, {}) : parseResponses(input, { split });
    const where = `[${name}]`;
    expect(r.outcome, where).toBe("error");
    expect(r.error, where).toBeInstanceOf(Http1ParseError);
    expect((r.error as Http1ParseError).code, where).toBe(c.code);
    expect((r.error as Http1ParseError).status, where).toBe(c.status);
    // Nothing from the bytes after the error: at most the head of the broken message, never completed.
    expect(
      r.messages.filter((m) => m.complete),
      where,
    ).toEqual([]);
    expect(r.messages.length, where).toBe(c.inBody === true ? 1 : 0);
  }
}

describe("request smuggling defences (RequestParser)", () => {
  for (const c of REQUEST_CASES) it(c.name, () => check(c, "request"));
});

describe("response splitting defences (ResponseParser)", () => {
  for (const c of RESPONSE_CASES) it(c.name, () => check(c, "response"));
});

describe("a parser that failed stays dead", () => {
  it("rethrows the same error on every later call and never parses again", () => {
    const recorder = new Recorder();
    const parser = new RequestParser(recorder);
    const bad = Buffer.from(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    let first: unknown;
    try {
      parser.execute(bad);
    } catch (err) {
      first = err;
    }
    expect(first).toBeInstanceOf(ContentLengthWithTransferEncodingError);
    expect(parser.error).toBe(first);
    expect(parser.closed).toBe(true);
    expect(() => parser.execute(Buffer.from(SMUGGLED_REQUEST))).toThrow(first as Error);
    expect(() => parser.finish()).toThrow(first as Error);
    parser.resume();
    expect(() => parser.execute(Buffer.from(SMUGGLED_REQUEST))).toThrow(first as Error);
    expect(recorder.messages).toEqual([]);
  });

  it("treats an exception thrown by a callback as fatal too", () => {
    const boom = new Error("handler bug");
    const parser = new ResponseParser({
      onHead() {
        throw boom;
      },
      onBody() {},
      onMessageComplete() {},
    });
    expect(() => parser.execute(Buffer.from(SMUGGLED_RESPONSE))).toThrow(boom);
    expect(() => parser.execute(Buffer.from(SMUGGLED_RESPONSE))).toThrow(boom);
  });
});

describe("strict, but not stricter than the RFC", () => {
  const accepted: [string, string, (r: ReturnType<typeof parseRequests>) => void][] = [
    [
      "identical duplicate Content-Length fields (RFC 9110 8.6)",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
      (r) => expect(r.messages[0]?.body).toBe("hello"),
    ],
    [
      "an identical Content-Length list",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5 ,\t5\r\n\r\nhello",
      (r) => expect(r.messages[0]?.head.contentLength).toBe(5),
    ],
    [
      "Content-Length with leading zeros and surrounding whitespace",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \t 005 \t\r\n\r\nhello",
      (r) => expect(r.messages[0]?.body).toBe("hello"),
    ],
    [
      "Transfer-Encoding in another case, with whitespace around",
      "POST / HTTP/1.1\r\nHost: x\r\ntransfer-encoding:  CHUNKED \t\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      (r) => expect(r.messages[0]?.body).toBe("hello"),
    ],
    [
      "chunk extensions with BWS, tokens and quoted strings",
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 ; a = b ;c="d \\"e\\" ;f"\r\nhello\r\n000\r\n\r\n',
      (r) => expect(r.messages[0]?.body).toBe("hello"),
    ],
    [
      "obs-text (0x80-0xFF) in a header value",
      "GET / HTTP/1.1\r\nHost: x\r\nX-Name: D\xfcsseldorf \xff\r\n\r\n",
      (r) => expect(r.messages[0]?.head.headers.get("x-name")).toBe("D\xfcsseldorf \xff"),
    ],
    [
      "an empty Host in HTTP/1.1",
      "OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n",
      (r) => expect(r.messages[0]?.target).toBe("*"),
    ],
    [
      "an IPv6 Host with a port",
      "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
      (r) => expect(r.messages[0]?.head.headers.get("host")).toBe("[::1]:8080"),
    ],
    ["HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", (r) => expect(r.messages[0]?.versionMinor).toBe(0)],
    [
      "empty lines before the request line",
      "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
      (r) => expect(r.messages[0]?.target).toBe("/"),
    ],
  ];
  for (const [name, input, verify] of accepted) {
    it(`accepts ${name}`, () => {
      for (const { name: splitName, split } of SPLITS) {
        const r = parseRequests(input, { split }, {});
        expect(r.error, splitName).toBeUndefined();
        expect(
          r.messages.map((m) => m.complete),
          splitName,
        ).toEqual([true]);
        verify(r);
      }
    });
  }
});

describe("field values are checked byte-exactly at every position", () => {
  // Long values are checked four bytes at a time; this covers every alignment of every forbidden byte.
  const forbidden = [...Array.from({ length: 0x20 }, (_, b) => b).filter((b) => b !== 0x09), 0x7f];
  const value = (bad: number, at: number, length: number) => {
    const bytes = Buffer.alloc(length, 0x61);
    bytes[at] = bad;
    return bytes.toString("latin1");
  };

  it("rejects every control byte and DEL at every position of a 48-byte value", () => {
    for (const bad of forbidden) {
      for (let at = 1; at < 47; at++) {
        for (const lead of ["", "  ", "\t "]) {
          const r = parseRequests(
            `GET / HTTP/1.1\r\nHost: x\r\nX-V:${lead}${value(bad, at, 48)}\r\n\r\n${SMUGGLED_REQUEST}`,
          );
          const code = (r.error as Http1ParseError | undefined)?.code;
          const expected =
            bad === 0x0d ? BareCrError.code : bad === 0x0a ? BareLfError.code : InvalidHeaderValueError.code;
          expect(code, `byte 0x${bad.toString(16)} at ${at}`).toBe(expected);
          expect(r.messages).toEqual([]);
        }
      }
    }
  });

  it("keeps every allowed byte (HTAB, SP, VCHAR, obs-text) at every position and trims only the ends", () => {
    const allowed = [0x09, 0x20, 0x21, 0x41, 0x7e, 0x80, 0xc3, 0xff];
    for (const ok of allowed) {
      for (let at = 1; at < 47; at++) {
        const v = value(ok, at, 48);
        for (const trail of ["", " ", "\t \t", "     "]) {
          const r = parseRequests(`GET / HTTP/1.1\r\nHost: x\r\nX-V: ${v}${trail}\r\n\r\n`);
          expect(r.error).toBeUndefined();
          expect(r.messages[0]!.head.headers.get("x-v"), `byte 0x${ok.toString(16)} at ${at}`).toBe(v);
        }
      }
    }
    // A value that ends in whitespace spread over a long run, also split at every point.
    const input = `GET / HTTP/1.1\r\nHost: x\r\nX-V: ${"ab\t".repeat(20)}${" ".repeat(20)}\r\n\r\n`;
    for (let at = 1; at < input.length; at++) {
      const r = parseRequests(input, { split: { at } });
      expect(r.messages[0]!.head.headers.get("x-v")).toBe(`${"ab\t".repeat(19)}ab`);
    }
  });
});
