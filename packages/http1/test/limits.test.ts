import { describe, expect, it } from "vitest";
import {
  ChunkExtensionTooLargeError,
  DEFAULT_LIMITS,
  HeaderTooLargeError,
  type Http1ParseError,
  RequestParser,
  ResponseParser,
  resolveLimits,
  TooManyHeadersError,
  TrailersTooLargeError,
  UriTooLongError,
} from "../src/index.js";
import { parseRequests, parseResponses, Recorder, SPLITS } from "./support/record.js";

// Every limit at its exact boundary (accepted) and one byte past it (rejected, with the right status), and the
// memory the parser holds while a peer streams endless garbage.

/** A request line of exactly `n` bytes including its CRLF. */
function requestLine(n: number): string {
  const fixed = "GET / HTTP/1.1\r\n".length;
  return `GET /${"a".repeat(n - fixed)} HTTP/1.1\r\n`;
}

/** Field lines plus the final CRLF, exactly `n` bytes (n >= 11). */
function headerSection(n: number): string {
  const fixed = "Host: x\r\nX: \r\n\r\n".length;
  return `Host: x\r\nX: ${"v".repeat(n - fixed)}\r\n\r\n`;
}

function stashOf(parser: RequestParser | ResponseParser): number {
  const scanner = (parser as unknown as { scanner: { stash: Buffer | null } }).scanner;
  return scanner.stash === null ? 0 : scanner.stash.length;
}

describe("defaults", () => {
  it("are documented values", () => {
    expect(DEFAULT_LIMITS).toEqual({
      maxStartLineBytes: 8192,
      maxHeaderBytes: 16384,
      maxHeaderCount: 100,
      maxChunkExtensionBytes: 16384,
      maxTrailerBytes: 16384,
    });
  });

  it("reject limits that are not positive integers", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => resolveLimits({ maxHeaderBytes: bad })).toThrow(RangeError);
      expect(() => new RequestParser(new Recorder(), { maxHeaderCount: bad })).toThrow(RangeError);
    }
    expect(resolveLimits({ maxHeaderCount: 7 })).toEqual({ ...DEFAULT_LIMITS, maxHeaderCount: 7 });
  });

  it("give 414 just past an 8 KiB request line and 431 just past 16 KiB of headers", () => {
    expect(parseRequests(requestLine(8192) + headerSection(100)).error).toBeUndefined();
    const uri = parseRequests(requestLine(8193) + headerSection(100));
    expect(uri.error).toBeInstanceOf(UriTooLongError);
    expect((uri.error as Http1ParseError).status).toBe(414);
    expect(parseRequests(requestLine(100) + headerSection(16384)).error).toBeUndefined();
    const big = parseRequests(requestLine(100) + headerSection(16385));
    expect(big.error).toBeInstanceOf(HeaderTooLargeError);
    expect((big.error as Http1ParseError).status).toBe(431);
  });

  it("give 431 for the 101st header field", () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-${i}: ${i}\r\n`).join("");
    expect(parseRequests(`GET / HTTP/1.1\r\nHost: x\r\n${fields(99)}\r\n`).error).toBeUndefined();
    const r = parseRequests(`GET / HTTP/1.1\r\nHost: x\r\n${fields(100)}\r\n`);
    expect(r.error).toBeInstanceOf(TooManyHeadersError);
    expect((r.error as Http1ParseError).status).toBe(431);
  });
});

describe("configured limits, at and past the boundary, with every split", () => {
  for (const { name, split } of SPLITS) {
    it(`maxStartLineBytes (${name})`, () => {
      const opts = { maxStartLineBytes: 40 };
      expect(parseRequests(requestLine(40) + headerSection(20), { split }, opts).error).toBeUndefined();
      // Leading empty lines count against the same budget.
      expect(
        parseRequests(`\r\n${requestLine(38)}${headerSection(20)}`, { split }, opts).error,
      ).toBeUndefined();
      for (const input of [requestLine(41), `\r\n${requestLine(39)}`, `${"\r\n".repeat(20)}GET`]) {
        const r = parseRequests(input + headerSection(20), { split }, opts);
        expect(r.error).toBeInstanceOf(UriTooLongError);
        expect(r.messages).toEqual([]);
      }
      const status = parseResponses(`HTTP/1.1 200 ${"O".repeat(30)}\r\n\r\n`, { split }, opts);
      expect(status.error).toBeInstanceOf(HeaderTooLargeError);
      expect((status.error as Http1ParseError).status).toBe(502);
    });

    it(`maxHeaderBytes (${name})`, () => {
      const opts = { maxHeaderBytes: 64 };
      expect(parseRequests(requestLine(30) + headerSection(64), { split }, opts).error).toBeUndefined();
      const r = parseRequests(requestLine(30) + headerSection(65), { split }, opts);
      expect(r.error).toBeInstanceOf(HeaderTooLargeError);
      expect((r.error as Http1ParseError).status).toBe(431);
    });

    it(`maxHeaderCount (${name})`, () => {
      const opts = { maxHeaderCount: 3 };
      expect(
        parseRequests("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n", { split }, opts).error,
      ).toBeUndefined();
      const r = parseRequests("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", { split }, opts);
      expect(r.error).toBeInstanceOf(TooManyHeadersError);
      // Trailers have their own count, with the same limit.
      const chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
      expect(parseRequests(`${chunked}A: 1\r\nB: 2\r\nC: 3\r\n\r\n`, { split }, opts).error).toBeUndefined();
      const t = parseRequests(`${chunked}A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n`, { split }, opts);
      expect(t.error).toBeInstanceOf(TooManyHeadersError);
    });

    it(`maxTrailerBytes (${name})`, () => {
      const opts = { maxTrailerBytes: 20 };
      const chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n";
      // "X-T: 12345678901\r\n\r\n" is 20 bytes.
      const ok = parseRequests(`${chunked}X-T: 12345678901\r\n\r\n`, { split }, opts);
      expect(ok.error).toBeUndefined();
      expect(ok.messages[0]!.trailers).toEqual([["X-T", "12345678901"]]);
      const r = parseRequests(`${chunked}X-T: 123456789012\r\n\r\n`, { split }, opts);
      expect(r.error).toBeInstanceOf(TrailersTooLargeError);
      expect((r.error as Http1ParseError).status).toBe(431);
      expect(r.messages.map((m) => [m.body, m.complete])).toEqual([["z", false]]);
    });

    it(`maxChunkExtensionBytes, summed over the message (${name})`, () => {
      const opts = { maxChunkExtensionBytes: 8 };
      const head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
      // ";a=b" is 4 extension bytes; ";a=b" twice is 8.
      expect(
        parseRequests(`${head}1;a=b\r\nx\r\n1;a=b\r\ny\r\n0\r\n\r\n`, { split }, opts).error,
      ).toBeUndefined();
      const r = parseRequests(`${head}1;a=b\r\nx\r\n1;a=bc\r\ny\r\n0\r\n\r\n`, { split }, opts);
      expect(r.error).toBeInstanceOf(ChunkExtensionTooLargeError);
      expect((r.error as Http1ParseError).status).toBe(400);
      // The budget is per message: the next message starts from zero.
      const two = `${head}1;a=b\r\nx\r\n0\r\n\r\n`;
      expect(parseRequests(two + two + two, { split }, opts).error).toBeUndefined();
    });
  }
});

describe("bounded memory under endless input", () => {
  function pump(
    parser: RequestParser | ResponseParser,
    head: string,
    filler: (i: number) => string,
    chunkSize: number,
    maxBytes: number,
  ): { error: unknown; fed: number; maxStash: number } {
    let fed = 0;
    let maxStash = 0;
    try {
      parser.execute(Buffer.from(head, "latin1"));
      fed += head.length;
      for (let i = 0; fed < maxBytes; i++) {
        const chunk = Buffer.from(
          filler(i)
            .repeat(Math.ceil(chunkSize / filler(i).length))
            .slice(0, chunkSize),
          "latin1",
        );
        parser.execute(chunk);
        fed += chunk.length;
        maxStash = Math.max(maxStash, stashOf(parser));
      }
    } catch (err) {
      return { error: err, fed, maxStash };
    }
    return { error: undefined, fed, maxStash };
  }

  it("stops an endless header value after the header budget, holding at most the head budget", () => {
    const parser = new RequestParser(new Recorder());
    const r = pump(parser, "GET / HTTP/1.1\r\nHost: x\r\nX-Endless: ", () => "a", 4096, 8 * 1024 * 1024);
    expect(r.error).toBeInstanceOf(HeaderTooLargeError);
    expect(r.fed).toBeLessThanOrEqual(DEFAULT_LIMITS.maxHeaderBytes + 8192);
    expect(r.maxStash).toBeLessThanOrEqual(DEFAULT_LIMITS.maxStartLineBytes + DEFAULT_LIMITS.maxHeaderBytes);
  });

  it("stops an endless header stream fed one byte at a time", () => {
    const parser = new RequestParser(new Recorder(), { maxHeaderCount: 10_000 });
    const r = pump(
      parser,
      "GET / HTTP/1.1\r\nHost: x\r\n",
      (i) => "X-Some-Header: some value\r\n"[i % 27]!,
      1,
      1e6,
    );
    expect(r.error).toBeInstanceOf(HeaderTooLargeError);
    expect(r.fed).toBeLessThanOrEqual(DEFAULT_LIMITS.maxHeaderBytes + 100);
    expect(r.maxStash).toBeLessThanOrEqual(DEFAULT_LIMITS.maxStartLineBytes + DEFAULT_LIMITS.maxHeaderBytes);
  });

  it("stops an endless request target with 414", () => {
    const parser = new RequestParser(new Recorder());
    const r = pump(parser, "GET /", () => "x", 1000, 1e6);
    expect(r.error).toBeInstanceOf(UriTooLongError);
    expect(r.fed).toBeLessThanOrEqual(DEFAULT_LIMITS.maxStartLineBytes + 1000);
    expect(r.maxStash).toBeLessThanOrEqual(DEFAULT_LIMITS.maxStartLineBytes + DEFAULT_LIMITS.maxHeaderBytes);
  });

  it("stops endless empty lines before a request", () => {
    const parser = new RequestParser(new Recorder());
    const r = pump(parser, "", () => "\r\n", 512, 1e6);
    expect(r.error).toBeInstanceOf(UriTooLongError);
    expect(r.maxStash).toBe(0);
  });

  it("stops endless chunk extensions without buffering them", () => {
    const parser = new RequestParser(new Recorder());
    const head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;x=";
    const r = pump(parser, head, () => "y", 4096, 1e6);
    expect(r.error).toBeInstanceOf(ChunkExtensionTooLargeError);
    expect(r.fed).toBeLessThanOrEqual(head.length + DEFAULT_LIMITS.maxChunkExtensionBytes + 4096);
  });

  it("stops endless trailers", () => {
    const parser = new ResponseParser(new Recorder());
    const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: ";
    const r = pump(parser, head, () => "t", 1024, 1e6);
    expect(r.error).toBeInstanceOf(TrailersTooLargeError);
    expect(r.fed).toBeLessThanOrEqual(head.length + DEFAULT_LIMITS.maxTrailerBytes + 1024);
  });

  it("never buffers body bytes, however large the body", () => {
    const recorder = {
      bytes: 0,
      done: false,
      onHead() {},
      onBody(b: Buffer) {
        this.bytes += b.length;
      },
      onMessageComplete() {
        this.done = true;
      },
    };
    const parser = new RequestParser(recorder);
    const size = 64 * 1024 * 1024;
    const r = pump(
      parser,
      `PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`,
      () => "b",
      65536,
      size,
    );
    expect(r.error).toBeUndefined();
    expect(recorder.bytes).toBe(size);
    expect(recorder.done).toBe(true);
    expect(r.maxStash).toBe(0);
  });
});
