// Bad input over real sockets: every request-smuggling shape gets exactly one 4xx answer with
// `Connection: close`, then a clean close; the bytes after it (a smuggled request) are never handled.
import { service } from "@tessera/core";
import { type Request, Response } from "@tessera/http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Http1ParseError } from "../src/index.js";
import { header, parseResponses, rawExchange, tcpServer } from "./support/server-harness.js";

const SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

const cases: [name: string, request: string, code: string][] = [
  [
    "Content-Length with Transfer-Encoding (CL.TE)",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "ERR_HTTP1_CONTENT_LENGTH_AND_TRANSFER_ENCODING",
  ],
  [
    "Transfer-Encoding with Content-Length (TE.CL)",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n",
    "ERR_HTTP1_CONTENT_LENGTH_AND_TRANSFER_ENCODING",
  ],
  [
    "Transfer-Encoding not ending in chunked",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    "ERR_HTTP1_INVALID_TRANSFER_ENCODING",
  ],
  [
    "chunked twice",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "ERR_HTTP1_INVALID_TRANSFER_ENCODING",
  ],
  [
    "obfuscated Transfer-Encoding: xchunked",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "ERR_HTTP1_INVALID_TRANSFER_ENCODING",
  ],
  [
    "obfuscated Transfer-Encoding: space before the colon",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "ERR_HTTP1_INVALID_HEADER_NAME",
  ],
  [
    "obfuscated Transfer-Encoding: a trailing comma",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked ,\r\n\r\n0\r\n\r\n",
    "ERR_HTTP1_INVALID_TRANSFER_ENCODING",
  ],
  [
    "obfuscated Transfer-Encoding: a vertical tab",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n",
    "ERR_HTTP1_INVALID_HEADER_VALUE",
  ],
  [
    "Transfer-Encoding in HTTP/1.0",
    "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "ERR_HTTP1_INVALID_TRANSFER_ENCODING",
  ],
  ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n", "ERR_HTTP1_OBS_FOLD"],
  ["whitespace before the first header", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", "ERR_HTTP1_OBS_FOLD"],
  [
    "two different Content-Length fields",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
    "ERR_HTTP1_INVALID_CONTENT_LENGTH",
  ],
  [
    "a Content-Length list that differs",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 5\r\n\r\nabcde",
    "ERR_HTTP1_INVALID_CONTENT_LENGTH",
  ],
  [
    "a signed Content-Length",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc",
    "ERR_HTTP1_INVALID_CONTENT_LENGTH",
  ],
  [
    "a hexadecimal Content-Length",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc",
    "ERR_HTTP1_INVALID_CONTENT_LENGTH",
  ],
  [
    "a Content-Length with inner space",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\nabc",
    "ERR_HTTP1_INVALID_CONTENT_LENGTH",
  ],
  [
    "a negative chunk size",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nabcde\r\n0\r\n\r\n",
    "ERR_HTTP1_INVALID_CHUNK_SIZE",
  ],
  [
    "a 0x-prefixed chunk size",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nabcde\r\n0\r\n\r\n",
    "ERR_HTTP1_INVALID_CHUNK_SIZE",
  ],
  [
    "a chunk size with whitespace",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nabcde\r\n0\r\n\r\n",
    "ERR_HTTP1_INVALID_CHUNK_EXTENSION",
  ],
  [
    "an overflowing chunk size",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nabc\r\n",
    "ERR_HTTP1_INVALID_CHUNK_SIZE",
  ],
  [
    "chunk data longer than its size",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
    "ERR_HTTP1_INVALID_CHUNK_TERMINATOR",
  ],
  ["a bare CR ending the request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", "ERR_HTTP1_BARE_CR"],
  ["a bare CR inside a header value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", "ERR_HTTP1_BARE_CR"],
  [
    "a bare CR in a chunk line",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\rabc\r\n0\r\n\r\n",
    "ERR_HTTP1_BARE_CR",
  ],
  ["a bare CR ending a header line", "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", "ERR_HTTP1_BARE_CR"],
  ["a bare LF ending a header line", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", "ERR_HTTP1_BARE_LF"],
  ["a bare LF ending the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", "ERR_HTTP1_BARE_LF"],
  ["a bare LF ending the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", "ERR_HTTP1_BARE_LF"],
  [
    "a non-token header name",
    "GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n",
    "ERR_HTTP1_INVALID_HEADER_NAME",
  ],
  [
    "a NUL in a header value",
    "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n",
    "ERR_HTTP1_INVALID_HEADER_VALUE",
  ],
  [
    "a DEL in a header value",
    "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n",
    "ERR_HTTP1_INVALID_HEADER_VALUE",
  ],
  ["a non-token method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "ERR_HTTP1_INVALID_METHOD"],
  [
    "a control character in the target",
    "GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n",
    "ERR_HTTP1_INVALID_TARGET",
  ],
  ["a missing Host in HTTP/1.1", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", "ERR_HTTP1_MISSING_HOST"],
  ["a duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "ERR_HTTP1_DUPLICATE_HOST"],
  ["a malformed Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "ERR_HTTP1_INVALID_HOST"],
];

describe("http1 server: malformed input over real sockets", () => {
  const handled: string[] = [];
  let srv: Awaited<ReturnType<typeof tcpServer>>;
  beforeAll(async () => {
    // Reads every body, so a framing error inside a body reaches the handler (which then fails).
    srv = await tcpServer(
      service(async (req: Request) => {
        handled.push(req.target);
        await req.body.bytes();
        return Response.text("handled");
      }),
    );
  });
  afterAll(async () => {
    await srv.close();
  });

  it.each(cases)(
    "%s: one 4xx answer with Connection: close, then a clean close",
    async (_name, request, code) => {
      handled.length = 0;
      srv.errors.length = 0;
      const { bytes, reset } = await rawExchange(srv.port, request + SMUGGLED);
      const { responses, error } = parseResponses(bytes, ["POST"]);
      expect(error).toBeNull();
      expect(responses).toHaveLength(1);
      const res = responses[0]!;
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.complete).toBe(true);
      expect(header(res, "connection")).toBe("close");
      expect(reset).toBe(false);
      expect(handled).not.toContain("/smuggled");
      const parseError = srv.errors.find((e) => e instanceof Http1ParseError) as Http1ParseError | undefined;
      expect(parseError?.code).toBe(code);
    },
  );

  it("the same holds when the bad request arrives one byte at a time", async () => {
    for (const [, request, code] of cases.filter((_, i) => i % 4 === 0)) {
      handled.length = 0;
      srv.errors.length = 0;
      const { bytes } = await rawExchange(srv.port, request + SMUGGLED, { byteByByte: true });
      const { responses } = parseResponses(bytes, ["POST"]);
      expect(responses.map((r) => r.status)).toHaveLength(1);
      expect(responses[0]!.status).toBe(400);
      expect(handled).not.toContain("/smuggled");
      expect((srv.errors.find((e) => e instanceof Http1ParseError) as Http1ParseError).code).toBe(code);
    }
  });
});
