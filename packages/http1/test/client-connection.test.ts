import { once } from "node:events";
import { AbortedError, appendSignal, Extensions } from "@tessera/core";
import { Body, ConnectionExtensions, HeaderMap, Request } from "@tessera/http";
import { connectRequest, memoryConnPair, PeerAddr, tcpConnector } from "@tessera/net";
import { afterEach, describe, expect, it } from "vitest";
import {
  clientConnection,
  type Http1ClientConnection,
  Http1ConnectionBusyError,
  Http1ConnectionClosedError,
  Http1RequestInvalidError,
  Http1ResponseInvalidError,
} from "../src/index.js";
import { nodeServer, rawServer, readAll, type TestServer } from "./support/client-servers.js";

const servers: TestServer[] = [];
const connections: Http1ClientConnection[] = [];
afterEach(async () => {
  for (const c of connections.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve<T extends TestServer>(server: Promise<T>): Promise<T> {
  const s = await server;
  servers.push(s);
  return s;
}

async function connect(server: TestServer, listener?: Parameters<typeof clientConnection>[1]) {
  const conn = await tcpConnector().serve(connectRequest(`127.0.0.1:${server.port}`));
  const h1 = clientConnection(conn, listener);
  connections.push(h1);
  return h1;
}

function signalAfter(ms: number): { extensions: Extensions; controller: AbortController } {
  const controller = new AbortController();
  if (ms >= 0) setTimeout(() => controller.abort(new AbortedError("test abort")), ms);
  return { extensions: appendSignal(new Extensions(), controller.signal), controller };
}

describe("HTTP/1.1 client connection against node:http", () => {
  it("reuses one connection for sequential requests (content-length and chunked bodies)", async () => {
    const server = await serve(
      nodeServer((req, res) => {
        if (req.url === "/chunked") {
          res.write("hel");
          setTimeout(() => res.end("lo"), 5);
        } else {
          res.setHeader("Content-Length", "5");
          res.end("fixed");
        }
      }),
    );
    const h1 = await connect(server);
    for (let i = 0; i < 3; i++) {
      const a = await h1.serve(Request.get(server.url("/fixed")));
      expect(a.status).toBe(200);
      expect(a.headers.get("content-length")).toBe("5");
      expect(a.body.length).toBe(5);
      expect(await a.body.text()).toBe("fixed");
      const b = await h1.serve(Request.get(server.url("/chunked")));
      expect(b.headers.get("transfer-encoding")).toBe("chunked");
      expect(b.body.length).toBeUndefined();
      expect(await b.body.text()).toBe("hello");
    }
    expect(server.accepted()).toBe(1);
    expect(h1.capacity).toBe(1);
    expect(h1.inFlight).toBe(0);
  });

  it("keeps header casing and order and reports the connection on the response", async () => {
    const server = await serve(
      nodeServer((_req, res) => {
        res.writeHead(201, "Made It", [
          "X-First",
          "1",
          "set-cookie",
          "a=1",
          "Set-Cookie",
          "b=2",
          "Content-Length",
          "0",
        ]);
        res.end();
      }),
    );
    const h1 = await connect(server);
    const res = await h1.serve(Request.get(server.url("/")));
    expect(res.status).toBe(201);
    expect(res.reasonPhrase).toBe("Made It");
    expect([...res.headers].slice(0, 3)).toEqual([
      ["X-First", "1"],
      ["set-cookie", "a=1"],
      ["Set-Cookie", "b=2"],
    ]);
    const conn = res.extensions.get(ConnectionExtensions);
    expect(conn?.get(PeerAddr)).toEqual({ family: "IPv4", host: "127.0.0.1", port: server.port });
  });

  it("sends buffered and streamed bodies with Content-Length or chunked, as the length is known", async () => {
    const seen: { method: string; te?: string; cl?: string; body: string }[] = [];
    const server = await serve(
      nodeServer(async (req, res) => {
        const body = await readAll(req);
        seen.push({
          method: req.method!,
          te: req.headers["transfer-encoding"],
          cl: req.headers["content-length"],
          body,
        });
        res.end(`got ${body.length}`);
      }),
    );
    const h1 = await connect(server);
    const big = "x".repeat(100_000);
    async function* parts() {
      yield "str";
      yield Buffer.from("eam");
      yield Buffer.alloc(40_000, 0x61);
    }
    const results = [
      await h1.serve(Request.post(server.url("/"), "small")),
      await h1.serve(Request.put(server.url("/"), big)),
      await h1.serve(Request.post(server.url("/"), Body.fromIterable(parts()))),
      await h1.serve(Request.post(server.url("/"), Body.fromIterable(parts(), { length: 40_006 }))),
      await h1.serve(Request.post(server.url("/"), "")),
      await h1.serve(Request.get(server.url("/"))),
    ];
    const texts = await Promise.all(results.map((r) => r.body.text()));
    expect(texts).toEqual(["got 5", "got 100000", "got 40006", "got 40006", "got 0", "got 0"]);
    expect(seen.map((s) => [s.method, s.te, s.cl])).toEqual([
      ["POST", undefined, "5"],
      ["PUT", undefined, "100000"],
      ["POST", "chunked", undefined],
      ["POST", undefined, "40006"],
      ["POST", undefined, "0"],
      ["GET", undefined, undefined],
    ]);
    expect(seen[2]!.body.startsWith("stream")).toBe(true);
    expect(seen[1]!.body).toBe(big);
    expect(server.accepted()).toBe(1);
  });

  it("HEAD, 204 and 304 have no body whatever their headers say, and the connection is reused", async () => {
    const server = await serve(
      nodeServer((req, res) => {
        if (req.url === "/204") res.writeHead(204).end();
        else if (req.url === "/304") res.writeHead(304, { ETag: '"x"' }).end();
        else
          res
            .writeHead(200, { "Content-Length": "1234" })
            .end(req.method === "HEAD" ? undefined : "x".repeat(1234));
      }),
    );
    const h1 = await connect(server);
    const head = await h1.serve(Request.head(server.url("/")));
    expect(head.headers.get("content-length")).toBe("1234");
    expect(head.body.length).toBe(0);
    expect(await head.body.text()).toBe("");
    expect(h1.capacity).toBe(1); // no body: available as soon as the head arrived
    for (const path of ["/204", "/304", "/"]) {
      const res = await h1.serve(Request.get(server.url(path)));
      const text = await res.body.text();
      expect(text.length).toBe(path === "/" ? 1234 : 0);
    }
    expect(server.accepted()).toBe(1);
  });

  it("is reusable only once the response body has ended, not when the head arrived", async () => {
    let finish: (() => void) | undefined;
    const server = await serve(
      nodeServer((_req, res) => {
        res.write("part");
        finish = () => res.end("rest");
      }),
    );
    const available: number[] = [];
    const h1 = await connect(server, {
      listener: { onAvailable: () => available.push(Date.now()), onClose: () => {} },
    });
    const res = await h1.serve(Request.get(server.url("/")));
    expect(h1.capacity).toBe(0);
    await expect(h1.serve(Request.get(server.url("/")))).rejects.toBeInstanceOf(Http1ConnectionBusyError);
    const text = res.body.text();
    await new Promise((r) => setTimeout(r, 20));
    expect(available).toHaveLength(0);
    finish!();
    expect(await text).toBe("partrest");
    expect(available).toHaveLength(1);
    expect(h1.capacity).toBe(1);
  });

  it("honours Connection: close from the server and from the request", async () => {
    const server = await serve(
      nodeServer((req, res) => {
        if (req.url === "/close") res.setHeader("Connection", "close");
        res.end("ok");
      }),
    );
    let closes = 0;
    const listener = { onAvailable: () => {}, onClose: () => closes++ };
    const a = await connect(server, { listener });
    expect(await (await a.serve(Request.get(server.url("/close")))).body.text()).toBe("ok");
    expect(a.closed).toBe(true);
    expect(a.capacity).toBe(0);
    const b = await connect(server, { listener });
    const res = await b.serve(Request.get(server.url("/"), { headers: { Connection: "close" } }));
    expect(await res.body.text()).toBe("ok");
    expect(b.closed).toBe(true);
    expect(closes).toBe(2);
    await server.drained();
    expect(server.open()).toBe(0);
    await expect(b.serve(Request.get(server.url("/")))).rejects.toMatchObject({
      code: "ERR_HTTP1_CONNECTION_CLOSED",
      requestSent: false,
    });
  });

  it("waits for 100 Continue before sending the body", async () => {
    const events: string[] = [];
    const server = await serve(
      nodeServer(
        async (req, res) => res.end(`got ${(await readAll(req)).length}`),
        {},
        (s) =>
          s.on("checkContinue", (req, res) => {
            events.push(`expect ${req.headers.expect}`);
            setTimeout(() => {
              events.push("continue");
              res.writeContinue();
              s.emit("request", req, res);
            }, 30);
          }),
      ),
    );
    const h1 = await connect(server);
    const res = await h1.serve(
      Request.post(server.url("/"), "x".repeat(1000), { headers: { Expect: "100-continue" } }),
    );
    expect(await res.body.text()).toBe("got 1000");
    expect(events).toEqual(["expect 100-continue", "continue"]);
    expect(h1.capacity).toBe(1);
  });

  it("does not send the body when the server answers before 100 Continue, and closes after", async () => {
    let bodyBytes = 0;
    const server = await serve(
      nodeServer(
        (_req, res) => res.end(),
        {},
        (s) =>
          s.on("checkContinue", (req, res) => {
            req.on("data", (d: Buffer) => (bodyBytes += d.length));
            res.writeHead(417, { "Content-Length": "4" }).end("nope");
          }),
      ),
    );
    const h1 = await connect(server, { expectContinueTimeout: 5_000 });
    const res = await h1.serve(
      Request.post(server.url("/"), "x".repeat(1000), { headers: { Expect: "100-continue" } }),
    );
    expect(res.status).toBe(417);
    expect(await res.body.text()).toBe("nope");
    expect(h1.closed).toBe(true);
    expect(bodyBytes).toBe(0);
  });

  it("sends the body after expectContinueTimeout when the server never answers the expectation", async () => {
    const server = await serve(
      rawServer((socket, _i, head) => {
        if (!/expect: 100-continue/i.test(head)) return;
        socket.once("data", (body: string) => {
          socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        });
      }),
    );
    const h1 = await connect(server, { expectContinueTimeout: 30 });
    const res = await h1.serve(
      Request.post(server.url("/"), "late", { headers: { Expect: "100-continue" } }),
    );
    expect(await res.body.text()).toBe("late");
  });

  it("pauses the socket while the response body is not read (backpressure)", async () => {
    const total = 32 * 1024 * 1024;
    let written = 0;
    let blocked = false;
    const server = await serve(
      nodeServer((_req, res) => {
        res.setHeader("Content-Length", String(total));
        const chunk = Buffer.alloc(64 * 1024, 0x62);
        const pump = () => {
          while (written < total) {
            written += chunk.length;
            if (!res.write(chunk)) {
              blocked = true;
              res.once("drain", pump);
              return;
            }
          }
          res.end();
        };
        pump();
      }),
    );
    const h1 = await connect(server);
    const res = await h1.serve(Request.get(server.url("/")));
    await new Promise((r) => setTimeout(r, 100));
    // Nothing read: the server is stalled well before the end (socket buffers plus the channel's 64 KiB).
    expect(blocked).toBe(true);
    expect(written).toBeLessThan(total / 2);
    let read = 0;
    for await (const chunk of res.body) read += chunk.byteLength;
    expect(read).toBe(total);
    expect(h1.capacity).toBe(1);
  });

  it("writes a streamed request body no faster than the server reads it (backpressure)", async () => {
    const total = 32 * 1024 * 1024;
    let received = 0;
    let reading = false;
    const server = await serve(
      nodeServer((req, res) => {
        req.pause();
        setTimeout(() => {
          reading = true;
          req.on("data", (d: Buffer) => (received += d.length));
          req.on("end", () => res.end(`got ${received}`));
          req.resume();
        }, 150);
      }),
    );
    let produced = 0;
    let producedBeforeReading = 0;
    async function* upload() {
      const chunk = Buffer.alloc(64 * 1024, 0x63);
      while (produced < total) {
        produced += chunk.length;
        if (!reading) producedBeforeReading = produced;
        yield chunk;
      }
    }
    const h1 = await connect(server);
    const res = await h1.serve(Request.post(server.url("/"), Body.fromIterable(upload(), { length: total })));
    expect(await res.body.text()).toBe(`got ${total}`);
    // While the server did not read, only what the socket buffers hold was produced.
    expect(producedBeforeReading).toBeLessThan(total / 2);
  });

  it("cancellation destroys the connection mid-flight: before the head and while the body streams", async () => {
    const server = await serve(
      nodeServer((req, res) => {
        if (req.url === "/slow-body") res.write("start");
        // never ends
      }),
    );
    const a = await connect(server);
    const { extensions } = signalAfter(30);
    const started = Date.now();
    await expect(a.serve(Request.get(server.url("/hang"), { extensions }))).rejects.toBeInstanceOf(
      AbortedError,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(a.closed).toBe(true);

    const b = await connect(server);
    const second = signalAfter(-1);
    const res = await b.serve(Request.get(server.url("/slow-body"), { extensions: second.extensions }));
    const text = res.body.text();
    second.controller.abort(new AbortedError("stop"));
    await expect(text).rejects.toBeInstanceOf(AbortedError);
    expect(b.closed).toBe(true);
    await server.drained();
    expect(server.open()).toBe(0);
  });

  it("an already-aborted signal fails at once and keeps the connection", async () => {
    const server = await serve(nodeServer((_req, res) => res.end("ok")));
    const h1 = await connect(server);
    const controller = new AbortController();
    controller.abort(new AbortedError("early"));
    const extensions = appendSignal(new Extensions(), controller.signal);
    await expect(h1.serve(Request.get(server.url("/"), { extensions }))).rejects.toThrow("early");
    expect(await (await h1.serve(Request.get(server.url("/")))).body.text()).toBe("ok");
  });

  it("a response body cancelled by its reader closes the connection", async () => {
    const server = await serve(
      nodeServer((_req, res) => {
        res.write("x".repeat(1000));
      }),
    );
    const h1 = await connect(server);
    const res = await h1.serve(Request.get(server.url("/")));
    res.body.cancel();
    expect(h1.closed).toBe(true);
    await server.drained();
    expect(server.open()).toBe(0);
  });
});

describe("HTTP/1.1 client connection against scripted servers", () => {
  it("rejects an invalid response with ERR_HTTP1_RESPONSE_INVALID and closes", async () => {
    const server = await serve(
      rawServer((socket) => socket.write("HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n")),
    );
    const h1 = await connect(server);
    const error = await h1.serve(Request.get(server.url("/"))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Http1ResponseInvalidError);
    expect((error as Http1ResponseInvalidError).code).toBe("ERR_HTTP1_RESPONSE_INVALID");
    expect(h1.closed).toBe(true);
  });

  it("a reused connection closed before any response byte is stale; a fresh one is not", async () => {
    const server = await serve(
      rawServer((socket, index) => {
        if (index === 0) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        else socket.destroy();
      }),
    );
    const h1 = await connect(server);
    expect(await (await h1.serve(Request.get(server.url("/")))).body.text()).toBe("ok");
    const error = await h1.serve(Request.get(server.url("/"))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Http1ConnectionClosedError);
    expect(error).toMatchObject({
      staleConnection: true,
      reused: true,
      requestSent: true,
      responseStarted: false,
    });

    const fresh = await serve(rawServer((socket) => socket.destroy()));
    const other = await connect(fresh);
    const error2 = await other.serve(Request.get(fresh.url("/"))).catch((e: unknown) => e);
    expect(error2).toMatchObject({ code: "ERR_HTTP1_CONNECTION_CLOSED", staleConnection: false });
  });

  it("a body cut short by a close errors the body with ERR_HTTP1_CONNECTION_CLOSED", async () => {
    const server = await serve(
      rawServer((socket) => socket.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")),
    );
    const h1 = await connect(server);
    const res = await h1.serve(Request.get(server.url("/")));
    await expect(res.body.text()).rejects.toMatchObject({
      code: "ERR_HTTP1_CONNECTION_CLOSED",
      responseStarted: true,
      staleConnection: false,
    });
  });

  it("reads a body that runs until close, then closes", async () => {
    const server = await serve(rawServer((socket) => socket.end("HTTP/1.1 200 OK\r\n\r\nuntil the end")));
    const h1 = await connect(server);
    const res = await h1.serve(Request.get(server.url("/")));
    expect(await res.body.text()).toBe("until the end");
    expect(h1.closed).toBe(true);
  });

  it("skips interim 1xx responses and reads chunked trailers", async () => {
    const server = await serve(
      rawServer((socket) =>
        socket.write(
          "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" +
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nChecksum: 42\r\n\r\n",
        ),
      ),
    );
    const h1 = await connect(server);
    const res = await h1.serve(Request.get(server.url("/")));
    expect(res.status).toBe(200);
    expect(await res.body.text()).toBe("abc");
    expect(res.body.trailers?.get("checksum")).toBe("42");
    expect(h1.capacity).toBe(1);
  });

  it("does not reuse a connection whose server sent bytes nobody asked for", async () => {
    const server = await serve(
      rawServer((socket) =>
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n"),
      ),
    );
    const h1 = await connect(server);
    expect(await (await h1.serve(Request.get(server.url("/")))).body.text()).toBe("ok");
    expect(h1.closed).toBe(true);
  });

  it("rejects a 101 the request did not ask for", async () => {
    const server = await serve(
      rawServer((socket) =>
        socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n"),
      ),
    );
    const h1 = await connect(server);
    await expect(h1.serve(Request.get(server.url("/")))).rejects.toBeInstanceOf(Http1ResponseInvalidError);
  });
});

describe("HTTP/1.1 client connection: the bytes it writes", () => {
  async function wire(request: Request, options?: Parameters<typeof clientConnection>[1]): Promise<string> {
    const [client, server] = memoryConnPair();
    const h1 = clientConnection(client, options);
    connections.push(h1);
    let text = "";
    server.stream.setEncoding("latin1");
    server.stream.on("data", (d: string) => {
      text += d;
    });
    void h1.serve(request).catch(() => {});
    await new Promise((r) => setTimeout(r, 20));
    h1.destroy();
    return text;
  }

  it("origin form, Host first, the request's fields in order and casing, framing last", async () => {
    const text = await wire(
      Request.post("http://example.com:8080/a/b?c=d", "hi", {
        headers: [
          ["X-Trace", "1"],
          ["content-length", "999"],
          ["Transfer-Encoding", "gzip"],
          ["accept", "*/*"],
        ],
      }),
    );
    expect(text).toBe(
      "POST /a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\nX-Trace: 1\r\naccept: */*\r\nContent-Length: 2\r\n\r\nhi",
    );
  });

  it("keeps a Host the request set, and sends absolute form to a forward proxy", async () => {
    expect(await wire(Request.get("http://a.example/x", { headers: { host: "b.example" } }))).toBe(
      "GET /x HTTP/1.1\r\nhost: b.example\r\n\r\n",
    );
    expect(await wire(Request.get("http://a.example/x?y"), { absoluteForm: true })).toBe(
      "GET http://a.example/x?y HTTP/1.1\r\nHost: a.example\r\n\r\n",
    );
    const origin = new Request("GET", "/p", new HeaderMap([["host", "h2.example"]]), Body.empty());
    expect(await wire(origin, { absoluteForm: true })).toBe(
      "GET http://h2.example/p HTTP/1.1\r\nhost: h2.example\r\n\r\n",
    );
  });

  it("rejects targets that cannot be written", async () => {
    const [client] = memoryConnPair();
    const h1 = clientConnection(client);
    connections.push(h1);
    const base = Request.get("http://h/");
    await expect(h1.serve(new Request("GET", "/a b", base.headers, base.body))).rejects.toBeInstanceOf(
      Http1RequestInvalidError,
    );
    await expect(h1.serve(new Request("GET", "/a", base.headers, base.body))).rejects.toThrow(/Host header/);
    await expect(h1.serve(new Request("GET", "/a\r\nX: y", base.headers, base.body))).rejects.toBeInstanceOf(
      Http1RequestInvalidError,
    );
    expect(h1.capacity).toBe(1); // nothing was written: the connection is still good
  });

  it("a streamed body of unknown length goes chunked, with the body's trailers", async () => {
    async function* parts() {
      yield "ab";
      yield "c";
    }
    const body = Body.fromIterable(parts(), {
      trailers: () => Request.get("http://h/", { headers: { "X-Sum": "3" } }).headers,
    });
    expect(await wire(Request.post("http://h/", body))).toBe(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\nX-Sum: 3\r\n\r\n",
    );
  });

  it("a streamed body that breaks its declared length fails the request and closes", async () => {
    const [client, server] = memoryConnPair();
    server.stream.resume();
    const h1 = clientConnection(client);
    connections.push(h1);
    async function* parts() {
      yield "abc";
    }
    const request = Request.post("http://h/", Body.fromIterable(parts(), { length: 5 }));
    await expect(h1.serve(request)).rejects.toMatchObject({ code: "ERR_HTTP_BODY_LENGTH_MISMATCH" });
    expect(h1.closed).toBe(true);
  });

  it("an idle connection does not hold the process: the socket is unref'd between exchanges", async () => {
    const [client, server] = memoryConnPair();
    const states: string[] = [];
    Object.assign(client.stream, { ref: () => states.push("ref"), unref: () => states.push("unref") });
    const h1 = clientConnection(client);
    connections.push(h1);
    server.stream.on("data", () => server.stream.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    for (let i = 0; i < 2; i++) await (await h1.serve(Request.get("http://h/"))).body.text();
    expect(states).toEqual(["unref", "ref", "unref", "ref", "unref"]);
  });

  it("a response body complete but unread does not stall the next exchange", async () => {
    const [client, server] = memoryConnPair();
    const h1 = clientConnection(client);
    connections.push(h1);
    const big = "b".repeat(200 * 1024); // over the channel's 64 KiB mark, in one chunk
    let n = 0;
    server.stream.on("data", () => {
      const body = n++ === 0 ? big : "second";
      server.stream.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    });
    const first = await h1.serve(Request.get("http://h/1"));
    await new Promise((r) => setTimeout(r, 20));
    expect(h1.capacity).toBe(1); // the whole body arrived: the exchange is over
    const second = await h1.serve(Request.get("http://h/2"));
    expect(await second.body.text()).toBe("second");
    expect((await first.body.text()).length).toBe(big.length);
  });

  it("the peer closing an idle connection is reported once through the listener", async () => {
    const [client, server] = memoryConnPair();
    let closes = 0;
    const h1 = clientConnection(client, { listener: { onAvailable: () => {}, onClose: () => closes++ } });
    server.stream.end();
    await once(client.stream, "close");
    expect(h1.closed).toBe(true);
    expect(closes).toBe(1);
  });
});
