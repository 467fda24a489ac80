import { describe, expect, it } from "vitest";
import {
  CHUNK_TERMINATOR,
  chunkHeader,
  encodeChunk,
  encodeHead,
  InvalidOutgoingHeaderError,
  InvalidOutgoingStartLineError,
  LAST_CHUNK,
  lastChunk,
  RawHeaders,
  type RequestHead,
  type ResponseHead,
  STATUS_REASONS,
  serializeRequestHead,
  serializeResponseHead,
} from "../src/index.js";
import { parseRequests, parseResponses, prng, SPLITS } from "./support/record.js";

const FIELDS: [string, string][] = [
  ["Host", "example.com"],
  ["content-TYPE", "text/plain; charset=utf-8"],
  ["X-Custom", "a\tb  c"],
  ["set-cookie", "a=1"],
  ["Set-Cookie", "b=2"],
  ["X-Latin1", "caf\xe9 \xff"],
  ["X-Empty", ""],
];

describe("serializeResponseHead", () => {
  it("writes status line, fields in order with their casing, and the empty line", () => {
    expect(serializeResponseHead(200, ["Content-Type", "text/plain", "Content-Length", "2"])).toBe(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n",
    );
    expect(serializeResponseHead(204)).toBe("HTTP/1.1 204 No Content\r\n\r\n");
  });

  it("uses the registered reason phrases, a custom one, none for unknown codes, and HTTP/1.0", () => {
    for (const [code, reason] of Object.entries(STATUS_REASONS)) {
      expect(serializeResponseHead(Number(code))).toBe(`HTTP/1.1 ${code} ${reason}\r\n\r\n`);
    }
    expect(serializeResponseHead(200, [], { reason: "Fine" })).toBe("HTTP/1.1 200 Fine\r\n\r\n");
    expect(serializeResponseHead(200, [], { reason: "" })).toBe("HTTP/1.1 200 \r\n\r\n");
    expect(serializeResponseHead(299)).toBe("HTTP/1.1 299 \r\n\r\n");
    expect(serializeResponseHead(404, undefined, { versionMinor: 0 })).toBe("HTTP/1.0 404 Not Found\r\n\r\n");
  });

  for (const { name, split } of SPLITS) {
    it(`round-trips through the response parser (${name})`, () => {
      const head = serializeResponseHead(201, FIELDS, { reason: "Made It" });
      const r = parseResponses(head + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", {
        split,
        finish: true,
      });
      expect(r.error).toBeUndefined();
      const parsed = r.messages[0]!.head as ResponseHead;
      expect([parsed.status, parsed.reason]).toEqual([201, "Made It"]);
      expect(parsed.headers.toArray()).toEqual(FIELDS);
      // Forwarding parsed headers (a proxy) gives the same bytes back.
      expect(serializeResponseHead(201, parsed.headers, { reason: parsed.reason })).toBe(head);
    });
  }

  it("rejects invalid status codes and reason phrases", () => {
    for (const status of [99, 1000, 0, -200, 200.5, Number.NaN]) {
      expect(() => serializeResponseHead(status)).toThrow(InvalidOutgoingStartLineError);
    }
    for (const reason of ["OK\r\nX-Injected: 1", "OK\n", "O\rK", "O\x00K", "\u20ac"]) {
      expect(() => serializeResponseHead(200, [], { reason })).toThrow(InvalidOutgoingStartLineError);
    }
  });
});

describe("serializeRequestHead", () => {
  it("writes the request line and fields", () => {
    expect(
      serializeRequestHead("GET", "/search?q=1", [
        ["Host", "example.com"],
        ["Accept", "text/html"],
      ]),
    ).toBe("GET /search?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: text/html\r\n\r\n");
    expect(serializeRequestHead("OPTIONS", "*", ["Host", "h"], { versionMinor: 0 })).toBe(
      "OPTIONS * HTTP/1.0\r\nHost: h\r\n\r\n",
    );
  });

  it("round-trips through the request parser", () => {
    const head = serializeRequestHead("PROPFIND", "http://example.com/a%20b?c", FIELDS);
    const r = parseRequests(head);
    const parsed = r.messages[0]!.head as RequestHead;
    expect([parsed.method, parsed.target]).toEqual(["PROPFIND", "http://example.com/a%20b?c"]);
    expect(parsed.headers.toArray()).toEqual(FIELDS);
    expect(serializeRequestHead(parsed.method, parsed.target, parsed.headers)).toBe(head);
  });

  it("rejects methods and targets that could split the request line", () => {
    for (const method of ["", "GET /evil", "GE\rT", "G\nET", "GET\t", "G(T", "M\xe9THOD"]) {
      expect(() => serializeRequestHead(method, "/", [])).toThrow(InvalidOutgoingStartLineError);
    }
    for (const target of ["", "/a b", "/a\r\nHost: evil", "/\n", "/\x00", "/caf\xe9", "/\u2603"]) {
      expect(() => serializeRequestHead("GET", target, [])).toThrow(InvalidOutgoingStartLineError);
    }
  });
});

describe("header injection is impossible", () => {
  const badValues = [
    "a\r\nX-Injected: 1",
    "a\r\n\r\nGET /smuggled HTTP/1.1",
    "a\nb",
    "a\rb",
    "a\x00b",
    "a\x7fb",
    "a\x0bb",
    "\u0100",
    "emoji \u{1f600}",
  ];
  const badNames = ["", "X Y", "X:Y", "X\r\nY", "X\nY", "X(Y)", "X\x00", "Caf\xe9", "X\tY", ":authority"];

  for (const [what, build] of [
    ["serializeResponseHead", (h: [string, string][]) => serializeResponseHead(200, h)],
    ["serializeRequestHead", (h: [string, string][]) => serializeRequestHead("GET", "/", h)],
    ["lastChunk (trailers)", (h: [string, string][]) => lastChunk(h)],
    ["RawHeaders.from", (h: [string, string][]) => RawHeaders.from(h)],
  ] as const) {
    it(`${what} throws a typed error for CR, LF, NUL and controls in values and non-token names`, () => {
      for (const value of badValues) {
        let error: unknown;
        try {
          build([
            ["X-Ok", "fine"],
            ["X-Bad", value],
          ]);
        } catch (err) {
          error = err;
        }
        expect(error, JSON.stringify(value)).toBeInstanceOf(InvalidOutgoingHeaderError);
        expect((error as InvalidOutgoingHeaderError).code).toBe("ERR_HTTP1_INVALID_OUTGOING_HEADER");
        expect((error as InvalidOutgoingHeaderError).headerName).toBe("X-Bad");
      }
      for (const name of badNames) {
        expect(() => build([[name, "v"]]), JSON.stringify(name)).toThrow(InvalidOutgoingHeaderError);
      }
    });
  }

  it("accepts the flat list shape and rejects an odd one", () => {
    expect(serializeResponseHead(200, ["A", "1", "b", "2"])).toBe("HTTP/1.1 200 OK\r\nA: 1\r\nb: 2\r\n\r\n");
    expect(() => serializeResponseHead(200, ["A", "1", "b"])).toThrow(TypeError);
    expect(serializeResponseHead(200, new Map([["A", "1"]]))).toBe("HTTP/1.1 200 OK\r\nA: 1\r\n\r\n");
  });
});

describe("encodeHead", () => {
  it("puts head and small body into one Buffer", () => {
    const head = serializeResponseHead(200, ["Content-Length", "5"]);
    expect(encodeHead(head).toString("latin1")).toBe(head);
    expect(encodeHead(head, Buffer.from("hello")).toString()).toBe(`${head}hello`);
    expect(
      encodeHead(head, "h\u00e9").equals(Buffer.concat([Buffer.from(head), Buffer.from("h\u00e9", "utf8")])),
    ).toBe(true);
    const latin = serializeResponseHead(200, ["X", "\xe9"]);
    expect(encodeHead(latin).includes(Buffer.from([0xe9]))).toBe(true);
  });
});

describe("chunked encoder", () => {
  it("formats size lines, chunks and the last chunk", () => {
    expect(chunkHeader(1)).toBe("1\r\n");
    expect(chunkHeader(255)).toBe("ff\r\n");
    expect(chunkHeader(2 ** 40)).toBe("10000000000\r\n");
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 53]) expect(() => chunkHeader(bad)).toThrow(RangeError);
    expect(encodeChunk(Buffer.from("hello")).toString()).toBe("5\r\nhello\r\n");
    expect(encodeChunk(Buffer.alloc(0)).length).toBe(0);
    expect(CHUNK_TERMINATOR).toBe("\r\n");
    expect(LAST_CHUNK).toBe("0\r\n\r\n");
    expect(lastChunk()).toBe("0\r\n\r\n");
    expect(lastChunk(["Checksum", "abc", "X-N", "1"])).toBe("0\r\nChecksum: abc\r\nX-N: 1\r\n\r\n");
  });

  it("round-trips random bodies and trailers through the parser", () => {
    const rand = prng(99);
    for (let round = 0; round < 30; round++) {
      const pieces: Buffer[] = [];
      const n = Math.floor(rand() * 6);
      for (let i = 0; i < n; i++) {
        const piece = Buffer.alloc(Math.floor(rand() * 5000));
        for (let k = 0; k < piece.length; k++) piece[k] = Math.floor(rand() * 256);
        pieces.push(piece);
      }
      const trailers: [string, string][] =
        round % 2 === 0
          ? []
          : [
              ["X-Checksum", String(round)],
              ["x-more", "yes"],
            ];
      const wire = Buffer.concat([
        encodeHead(
          serializeRequestHead("POST", "/up", [
            ["Host", "x"],
            ["Transfer-Encoding", "chunked"],
          ]),
        ),
        ...pieces.map((p, i) =>
          i % 2 === 0
            ? encodeChunk(p)
            : Buffer.concat(
                p.length === 0 ? [] : [Buffer.from(chunkHeader(p.length)), p, Buffer.from(CHUNK_TERMINATOR)],
              ),
        ),
        Buffer.from(lastChunk(trailers), "latin1"),
      ]);
      const r = parseRequests(wire, { split: { seed: round } });
      expect(r.error).toBeUndefined();
      expect(Buffer.from(r.messages[0]!.body, "latin1").equals(Buffer.concat(pieces))).toBe(true);
      expect(r.messages[0]!.trailers).toEqual(trailers);
    }
  });
});

describe("RawHeaders", () => {
  const h = RawHeaders.from(FIELDS);

  it("reads names and values by index in wire order with original casing", () => {
    expect(h.count).toBe(FIELDS.length);
    expect(h.name(1)).toBe("content-TYPE");
    expect(h.value(1)).toBe("text/plain; charset=utf-8");
    expect(h.valueBytes(5).equals(Buffer.from("caf\xe9 \xff", "latin1"))).toBe(true);
    expect([...h]).toEqual(FIELDS);
    expect(h.toArray()).toEqual(FIELDS);
    expect(h.toFlatArray()).toEqual(FIELDS.flat());
    expect(() => h.name(FIELDS.length)).toThrow(RangeError);
    expect(() => h.value(-1)).toThrow(RangeError);
  });

  it("looks names up ignoring ASCII case only", () => {
    expect(h.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(h.get("CONTENT-TYPE")).toBe("text/plain; charset=utf-8");
    expect(h.get("set-cookie")).toBe("a=1, b=2");
    expect(h.getAll("SET-COOKIE")).toEqual(["a=1", "b=2"]);
    expect(h.get("x-empty")).toBe("");
    expect(h.get("missing")).toBeUndefined();
    expect(h.getAll("missing")).toEqual([]);
    expect(h.has("host")).toBe(true);
    expect(h.indexOf("set-cookie")).toBe(3);
    expect(h.indexOf("set-cookie", 4)).toBe(4);
    expect(h.nameIs(0, "HOST")).toBe(true);
    // Case folding is for letters only: "^" and "~" differ by 0x20 but are different characters.
    const odd = RawHeaders.from([["X^Y", "1"]]);
    expect(odd.get("x~y")).toBeUndefined();
    expect(odd.get("x^Y")).toBe("1");
    expect(odd.get("x\u0178y")).toBeUndefined();
  });

  it("has an empty instance", () => {
    expect(RawHeaders.EMPTY.count).toBe(0);
    expect([...RawHeaders.EMPTY]).toEqual([]);
  });
});
