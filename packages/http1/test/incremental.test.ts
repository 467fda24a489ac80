import { describe, expect, it } from "vitest";
import {
  BodyFraming,
  IncompleteMessageError,
  type RawHeaders,
  type RequestHead,
  RequestParser,
  type ResponseHead,
  ResponseParser,
} from "../src/index.js";
import { cuts, parseRequests, parseResponses, prng, Recorder, SPLITS, summary } from "./support/record.js";

// Any split of the byte stream must give exactly the same callbacks as one big chunk. The corpus and smuggling
// suites already run every case whole, byte by byte and at random splits; here the inputs are long pipelines
// that cross every state, cut at every single position and at hundreds of random ones.

const REQUESTS = Buffer.from(
  [
    "\r\nGET /first?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n",
    "POST /len HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\nX-Empty:\r\n\r\nhello world",
    "PUT /chunked HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n",
    '5;ext="q\\"v";e2=t\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Sum: 31\r\nX-Other:  two words \r\n\r\n',
    "DELETE /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: example.com\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    "PATCH /chunked-no-trailers HTTP/1.1\r\nHost: h\r\ntransfer-encoding: Chunked\r\n\r\n3\r\nabc\r\n00\r\n\r\n",
    "GET /last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
  ].join(""),
  "latin1",
);

const RESPONSES = Buffer.from(
  [
    "HTTP/1.1 100 Continue\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nhello",
    "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", // answers HEAD: no body
    "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n",
    "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnope\r\n0\r\nX-T: 1\r\n\r\n",
    "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
    "HTTP/1.1 204\r\n\r\n",
    "HTTP/1.0 200 Fine\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.1 200 \r\n\r\nuntil the connection closes",
  ].join(""),
  "latin1",
);
// One per final response: the interim 100 and 103 do not use up a method.
const RESPONSE_METHODS = ["GET", "HEAD", "GET", "GET", "GET", "GET", "GET"];

describe("incrementality", () => {
  const wholeRequests = summary(parseRequests(REQUESTS));
  const wholeResponses = summary(
    parseResponses(RESPONSES, { requestMethods: RESPONSE_METHODS, finish: true }),
  );

  it("parses the request pipeline as expected in one chunk", () => {
    const r = parseRequests(REQUESTS);
    expect(r.outcome).toBe("closed");
    expect(r.leftover.length).toBe(0);
    expect(r.messages.map((m) => [m.method, m.target, m.body, m.complete])).toEqual([
      ["GET", "/first?x=1", "", true],
      ["POST", "/len", "hello world", true],
      ["PUT", "/chunked", "helloabcdefghijklmnopqrstuvwxyz", true],
      ["DELETE", "/x", "", true],
      ["OPTIONS", "*", "abc", true],
      ["PATCH", "/chunked-no-trailers", "abc", true],
      ["GET", "/last", "", true],
    ]);
    expect(r.messages[2]!.trailers).toEqual([
      ["X-Sum", "31"],
      ["X-Other", "two words"],
    ]);
    expect(r.messages[1]!.headers).toEqual([
      ["Host", "example.com"],
      ["Content-Length", "11"],
      ["X-Empty", ""],
    ]);
  });

  it("parses the response pipeline as expected in one chunk", () => {
    const r = parseResponses(RESPONSES, { requestMethods: RESPONSE_METHODS, finish: true });
    expect(r.outcome).toBe("ok");
    expect(r.messages.map((m) => [m.status, m.reason, m.body, m.complete])).toEqual([
      [100, "Continue", "", true],
      [200, "OK", "hello", true],
      [200, "OK", "", true],
      [103, "Early Hints", "", true],
      [404, "Not Found", "nope", true],
      [304, "Not Modified", "", true],
      [204, "", "", true],
      [200, "Fine", "ok", true],
      [200, "", "until the connection closes", true],
    ]);
    expect(r.messages[4]!.trailers).toEqual([["X-T", "1"]]);
  });

  for (const { name, split } of SPLITS) {
    it(`gives the same result ${name}`, () => {
      expect(summary(parseRequests(REQUESTS, { split }))).toEqual(wholeRequests);
      expect(
        summary(parseResponses(RESPONSES, { split, requestMethods: RESPONSE_METHODS, finish: true })),
      ).toEqual(wholeResponses);
    });
  }

  it("gives the same result when cut in two at every position", () => {
    for (const [input, whole, run] of [
      [REQUESTS, wholeRequests, (at: number) => parseRequests(REQUESTS, { split: { at } })],
      [
        RESPONSES,
        wholeResponses,
        (at: number) =>
          parseResponses(RESPONSES, { split: { at }, requestMethods: RESPONSE_METHODS, finish: true }),
      ],
    ] as const) {
      for (let at = 1; at < input.length; at++) {
        expect(summary(run(at)), `cut at ${at}`).toEqual(whole);
      }
    }
  });

  it("gives the same result for 300 more random splits", () => {
    for (let seed = 100; seed < 400; seed++) {
      expect(summary(parseRequests(REQUESTS, { split: { seed } })), `seed ${seed}`).toEqual(wholeRequests);
      expect(
        summary(
          parseResponses(RESPONSES, { split: { seed }, requestMethods: RESPONSE_METHODS, finish: true }),
        ),
        `seed ${seed}`,
      ).toEqual(wholeResponses);
    }
  });

  it("ignores empty chunks anywhere", () => {
    const recorder = new Recorder();
    const parser = new RequestParser(recorder);
    const empty = Buffer.alloc(0);
    let consumed = 0;
    for (const [start, end] of cuts(REQUESTS.length, { seed: 7 })) {
      expect(parser.execute(empty)).toBe(0);
      consumed += parser.execute(REQUESTS.subarray(start, end));
    }
    expect(consumed).toBe(REQUESTS.length);
    expect(recorder.messages.length).toBe(7);
  });
});

describe("zero copy and ownership", () => {
  it("hands body bytes on as views of the input chunk", () => {
    const input = Buffer.from("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    const views: Buffer[] = [];
    const parser = new RequestParser({ onHead() {}, onBody: (b) => views.push(b), onMessageComplete() {} });
    parser.execute(input);
    expect(views.length).toBe(1);
    expect(views[0]!.buffer).toBe(input.buffer);
    expect(views[0]!.byteOffset).toBe(input.byteOffset + input.length - 5);
  });

  it("copies the head once so headers outlive the chunk", () => {
    const input = Buffer.from("GET /p HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n");
    let head: RequestHead | undefined;
    const parser = new RequestParser({ onHead: (h) => (head = h), onBody() {}, onMessageComplete() {} });
    parser.execute(input);
    input.fill(0);
    // Small buffers may share Node's allocation pool, but the byte ranges must not overlap.
    const copy = head!.headers.buffer;
    const disjoint =
      copy.byteOffset + copy.length <= input.byteOffset || input.byteOffset + input.length <= copy.byteOffset;
    expect(copy.buffer !== input.buffer || disjoint).toBe(true);
    expect(head!.headers.toArray()).toEqual([
      ["Host", "x"],
      ["X-A", "1"],
    ]);
    expect(head!.target).toBe("/p");
    // The offsets point into the head copy, which starts with the request line.
    expect(head!.headers.buffer.toString("latin1", 0, 15)).toBe("GET /p HTTP/1.1");
  });
});

describe("pipelining, pause and resume", () => {
  const TWO = Buffer.from(
    "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const FIRST_END = TWO.indexOf("GET /b");
  const SECOND_END = TWO.indexOf("GET /c");

  it("parses pipelined requests in order from one chunk", () => {
    const r = parseRequests(TWO);
    expect(r.messages.map((m) => m.target)).toEqual(["/a", "/b", "/c"]);
    expect(r.consumed).toBe(TWO.length);
  });

  it("stops after onMessageComplete when paused there, and continues after resume", () => {
    const targets: string[] = [];
    const parser: RequestParser = new RequestParser({
      onHead: (h) => targets.push(h.target),
      onBody() {},
      onMessageComplete: () => parser.pause(),
    });
    let n = parser.execute(TWO);
    expect(n).toBe(FIRST_END);
    expect(parser.paused).toBe(true);
    expect(targets).toEqual(["/a"]);
    // While paused, nothing more is consumed.
    expect(parser.execute(TWO.subarray(n))).toBe(0);
    parser.resume();
    n += parser.execute(TWO.subarray(n));
    expect(n).toBe(SECOND_END);
    expect(targets).toEqual(["/a", "/b"]);
    parser.resume();
    n += parser.execute(TWO.subarray(n));
    expect(n).toBe(TWO.length);
    expect(targets).toEqual(["/a", "/b", "/c"]);
  });

  it("finishes the current message when paused in onHead, then stops", () => {
    const events: string[] = [];
    const parser: RequestParser = new RequestParser({
      onHead: (h) => {
        events.push(`head ${h.target}`);
        parser.pause();
      },
      onBody: (b) => events.push(`body ${b}`),
      onMessageComplete: () => events.push("complete"),
    });
    expect(parser.execute(TWO)).toBe(FIRST_END);
    expect(events).toEqual(["head /a", "body hi", "complete"]);
  });

  it("refuses to be fed from its own callbacks", () => {
    const parser: RequestParser = new RequestParser({
      onHead: () => parser.execute(Buffer.from("GET /nested HTTP/1.1\r\nHost: x\r\n\r\n")),
      onBody() {},
      onMessageComplete() {},
    });
    expect(() => parser.execute(TWO)).toThrow(/own callbacks/);
    expect(parser.closed).toBe(true);
  });

  it("consumes nothing when paused between messages", () => {
    const recorder = new Recorder();
    const parser = new RequestParser(recorder);
    parser.pause();
    expect(parser.execute(TWO)).toBe(0);
    expect(recorder.messages).toEqual([]);
    parser.resume();
    expect(parser.execute(TWO)).toBe(TWO.length);
  });

  it("pairs pipelined responses with the queued request methods", () => {
    const recorder = new Recorder();
    const parser = new ResponseParser(recorder);
    for (const m of ["GET", "HEAD", "GET"]) parser.pushRequestMethod(m);
    expect(parser.pendingRequests).toBe(3);
    parser.execute(
      Buffer.from("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
    );
    expect(parser.pendingRequests).toBe(2); // the interim 100 used up nothing
    parser.execute(
      Buffer.from(
        "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
      ),
    );
    expect(parser.pendingRequests).toBe(0);
    expect(recorder.messages.map((m) => [m.status, m.body, m.head.framing])).toEqual([
      [100, "", BodyFraming.None],
      [200, "hi", BodyFraming.Length],
      [200, "", BodyFraming.None],
      [200, "x", BodyFraming.Length],
    ]);
    expect(recorder.messages[2]!.head.contentLength).toBe(50);
  });
});

describe("upgrades, CONNECT and connection close: the rest is left unconsumed", () => {
  const WS_HEAD =
    "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: k\r\n\r\n";
  const WS_FRAME = "\x81\x05hello";

  for (const { name, split } of SPLITS) {
    it(`stops after an Upgrade request and reports the new protocol's bytes (${name})`, () => {
      const r = parseRequests(WS_HEAD + WS_FRAME, { split });
      expect(r.outcome).toBe("upgraded");
      expect(r.consumed).toBe(WS_HEAD.length);
      expect(r.leftover.toString("latin1")).toBe(WS_FRAME);
      expect(r.messages.length).toBe(1);
      expect(r.messages[0]!.head.upgrade).toBe(true);
      expect(r.messages[0]!.complete).toBe(true);
    });
  }

  it("goes on with HTTP/1 after resume() when the server declines the upgrade", () => {
    const recorder = new Recorder();
    const parser = new RequestParser(recorder);
    const input = Buffer.from(WS_HEAD + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    const n = parser.execute(input);
    expect(n).toBe(WS_HEAD.length);
    expect(parser.upgraded).toBe(true);
    expect(parser.execute(input.subarray(n))).toBe(0);
    parser.resume();
    expect(parser.upgraded).toBe(false);
    expect(parser.execute(input.subarray(n))).toBe(input.length - n);
    expect(recorder.messages.map((m) => m.target)).toEqual(["/chat", "/next"]);
  });

  it("reads an Upgrade request's body before stopping", () => {
    const head =
      "POST /up HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 4\r\n\r\n";
    const r = parseRequests(`${head}bodyPRI * HTTP/2.0`);
    expect(r.outcome).toBe("upgraded");
    expect(r.messages[0]!.body).toBe("body");
    expect(r.leftover.toString()).toBe("PRI * HTTP/2.0");
  });

  it("ignores Upgrade without `Connection: upgrade` and in HTTP/1.0", () => {
    for (const head of [
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n",
      "GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade, keep-alive\r\n\r\n",
    ]) {
      const r = parseRequests(`${head}${head}`);
      expect(r.outcome).toBe("ok");
      expect(r.messages.map((m) => m.head.upgrade)).toEqual([false, false]);
    }
  });

  it("stops right after a CONNECT head: no body even with Content-Length, the rest is tunnel data", () => {
    const head = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 10\r\n\r\n";
    const tls = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    for (const { name, split } of SPLITS) {
      const r = parseRequests(head + tls, { split });
      expect(r.outcome, name).toBe("upgraded");
      expect(r.consumed, name).toBe(head.length);
      expect(r.leftover.toString("latin1"), name).toBe(tls);
      expect(r.messages[0]!.head.framing, name).toBe(BodyFraming.None);
      expect(r.messages[0]!.complete, name).toBe(true);
    }
  });

  it("stops after 101 Switching Protocols and after a 2xx to CONNECT, not after other answers", () => {
    const r101 = parseResponses(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00",
    );
    expect(r101.outcome).toBe("upgraded");
    expect(r101.leftover.toString("latin1")).toBe("\x81\x00");
    expect(r101.messages[0]!.head.upgrade).toBe(true);

    const tunnel = parseResponses("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03", {
      requestMethods: ["CONNECT"],
    });
    expect(tunnel.outcome).toBe("upgraded");
    expect(tunnel.leftover.toString("latin1")).toBe("\x16\x03\x03");

    const refused = parseResponses(
      "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\nnopeHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
      { requestMethods: ["CONNECT", "GET"] },
    );
    expect(refused.outcome).toBe("ok");
    expect(refused.messages.map((m) => [m.status, m.body])).toEqual([
      [407, "nope"],
      [200, ""],
    ]);

    const notSwitching = parseResponses(
      "HTTP/1.1 200 OK\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\nbody",
      {
        finish: true,
      },
    );
    expect(notSwitching.outcome).toBe("ok");
    expect(notSwitching.messages[0]!.body).toBe("body");
  });

  it("never parses what follows a message that closes the connection", () => {
    const first = "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi";
    for (const { name, split } of SPLITS) {
      const r = parseRequests(`${first}GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n`, { split });
      expect(r.outcome, name).toBe("closed");
      expect(r.consumed, name).toBe(first.length);
      expect(r.leftover.toString(), name).toBe("GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
      expect(
        r.messages.map((m) => m.target),
        name,
      ).toEqual(["/"]);
    }
    const r10 = parseRequests("GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
    expect(r10.outcome).toBe("closed");
    expect(r10.messages.map((m) => m.target)).toEqual(["/a"]);
  });
});

describe("finish (end of input)", () => {
  function responseParser() {
    const recorder = new Recorder();
    return { recorder, parser: new ResponseParser(recorder) };
  }

  it("completes a body that runs until close", () => {
    const { recorder, parser } = responseParser();
    parser.execute(Buffer.from("HTTP/1.1 200 OK\r\n\r\nsome"));
    parser.execute(Buffer.from(" bytes"));
    expect(recorder.messages[0]!.complete).toBe(false);
    expect(recorder.messages[0]!.head.keepAlive).toBe(false);
    parser.finish();
    expect(recorder.messages[0]!.complete).toBe(true);
    expect(recorder.messages[0]!.body).toBe("some bytes");
    expect(parser.closed).toBe(true);
    expect(parser.execute(Buffer.from("more"))).toBe(0);
  });

  it("is fine between messages, also after leading empty lines", () => {
    const { parser } = responseParser();
    parser.execute(Buffer.from("HTTP/1.1 204 No Content\r\n\r\n\r\n"));
    expect(() => parser.finish()).not.toThrow();
  });

  for (const [what, input] of [
    ["inside a head", "HTTP/1.1 200 OK\r\nContent-Le"],
    ["inside a Content-Length body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"],
    ["inside a chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"],
    ["inside trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n"],
  ]) {
    it(`throws IncompleteMessageError ${what}`, () => {
      const { parser } = responseParser();
      parser.execute(Buffer.from(input!));
      expect(() => parser.finish()).toThrow(IncompleteMessageError);
      expect((parser.error as IncompleteMessageError).status).toBe(502);
    });
  }

  it("reports 400 for a truncated request", () => {
    const parser = new RequestParser(new Recorder());
    parser.execute(Buffer.from("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nab"));
    expect(() => parser.finish()).toThrow(IncompleteMessageError);
    expect((parser.error as IncompleteMessageError).status).toBe(400);
  });
});

describe("head facts", () => {
  function head(input: string): RequestHead {
    const r = parseRequests(input);
    if (r.error !== undefined) throw r.error;
    return r.messages[0]!.head as RequestHead;
  }
  function response(input: string, method = "GET"): ResponseHead {
    const r = parseResponses(input, { requestMethods: [method] });
    if (r.error !== undefined) throw r.error;
    return r.messages[0]!.head as ResponseHead;
  }

  it("derives keep-alive from the version and the Connection tokens", () => {
    expect(head("GET / HTTP/1.1\r\nHost: x\r\n\r\n").keepAlive).toBe(true);
    expect(head("GET / HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, CLOSE\r\n\r\n").keepAlive).toBe(false);
    expect(head("GET / HTTP/1.1\r\nHost: x\r\nconnection: close\r\n\r\n").connectionClose).toBe(true);
    expect(head("GET / HTTP/1.0\r\n\r\n").keepAlive).toBe(false);
    expect(head("GET / HTTP/1.0\r\nConnection: ,keep-alive,\r\n\r\n").keepAlive).toBe(true);
    expect(head("GET / HTTP/1.1\r\nHost: x\r\nConnection: closed\r\n\r\n").keepAlive).toBe(true);
  });

  it("reports framing, Content-Length and chunked", () => {
    const get = head("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    expect([get.framing, get.contentLength, get.chunked]).toEqual([BodyFraming.None, undefined, false]);
    const zero = head("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    expect([zero.framing, zero.contentLength]).toEqual([BodyFraming.None, 0]);
    const len = head("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n1234567");
    expect([len.framing, len.contentLength]).toEqual([BodyFraming.Length, 7]);
    const ch = head("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    expect([ch.framing, ch.contentLength, ch.chunked]).toEqual([BodyFraming.Chunked, undefined, true]);
  });

  it("reports Expect: 100-continue only in HTTP/1.1", () => {
    expect(head("PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n\r\n").expectContinue).toBe(true);
    expect(head("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expectContinue).toBe(false);
    expect(head("PUT / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n").expectContinue).toBe(false);
  });

  it("interns common methods and keeps others as sent", () => {
    for (const m of [
      "GET",
      "PUT",
      "POST",
      "HEAD",
      "PATCH",
      "DELETE",
      "OPTIONS",
      "TRACE",
      "PROPFIND",
      "get",
    ]) {
      expect(head(`${m} / HTTP/1.1\r\nHost: x\r\n\r\n`).method).toBe(m);
    }
  });

  it("reports version and reason on responses", () => {
    const r = response("HTTP/1.0 500 Internal \xe9rror\r\nContent-Length: 0\r\n\r\n");
    expect([r.status, r.reason, r.version, r.versionMajor, r.versionMinor]).toEqual([
      500,
      "Internal \xe9rror",
      "1.0",
      1,
      0,
    ]);
    expect(r.keepAlive).toBe(false);
    expect(response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").keepAlive).toBe(true);
    expect(response("HTTP/1.1 200 OK\r\n\r\n").framing).toBe(BodyFraming.UntilClose);
    expect(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n").framing).toBe(
      BodyFraming.UntilClose,
    );
    expect(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").framing).toBe(
      BodyFraming.Chunked,
    );
    expect(response("HTTP/1.1 100 Continue\r\n\r\n").informational).toBe(true);
    expect(response("HTTP/1.1 101 Switching Protocols\r\n\r\n").informational).toBe(false);
  });

  it("passes trailers as RawHeaders and null when there are none", () => {
    const seen: (RawHeaders | null)[] = [];
    const parser = new RequestParser({ onHead() {}, onBody() {}, onMessageComplete: (t) => seen.push(t) });
    parser.execute(
      Buffer.from(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nb: 2\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
      ),
    );
    expect(seen.length).toBe(2);
    expect(seen[0]!.toFlatArray()).toEqual(["A", "1", "b", "2"]);
    expect(seen[1]).toBeNull();
  });

  it("keeps parsing random valid bodies of random sizes exactly", () => {
    const rand = prng(5);
    for (let round = 0; round < 50; round++) {
      const body = Buffer.alloc(Math.floor(rand() * 3000));
      for (let i = 0; i < body.length; i++) body[i] = Math.floor(rand() * 256);
      let chunked = "";
      for (let pos = 0; pos < body.length; ) {
        const n = Math.min(body.length - pos, 1 + Math.floor(rand() * 700));
        chunked += `${n.toString(16)}\r\n${body.toString("latin1", pos, pos + n)}\r\n`;
        pos += n;
      }
      const input = Buffer.from(
        `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body.toString("latin1")}` +
          `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}0\r\n\r\n`,
        "latin1",
      );
      const r = parseRequests(input, { split: { seed: round } });
      expect(r.messages.map((m) => Buffer.from(m.body, "latin1").equals(body))).toEqual([true, true]);
    }
  });
});
