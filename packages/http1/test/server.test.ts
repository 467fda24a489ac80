import { Extensions, key, service, signalOf } from "@tessera/core";
import { Body, HeaderMap, InvalidUriError, type Request, Response } from "@tessera/http";
import { describe, expect, it } from "vitest";
import { HandlerError, InvalidResponseError, ResponseBodyError, server } from "../src/index.js";
import { echoText, get, header, memoryServer, post, sleep } from "./support/server-harness.js";

const hello = service((req: Request) => Response.text("hello", { request: req }));

describe("http1 server: keep-alive and framing", () => {
  it("answers with Content-Length, Date and the body, and keeps the connection for the next request", async () => {
    const t = memoryServer(echoText);
    t.reader.expect("GET", "POST");
    t.send(get("/a"));
    const first = await t.reader.response(0);
    expect(first.status).toBe(200);
    expect(first.body.toString()).toBe("GET /a ");
    expect(header(first, "content-length")).toBe("7");
    expect(header(first, "content-type")).toBe("text/plain; charset=utf-8");
    expect(header(first, "date")).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(header(first, "connection")).toBeUndefined();
    t.send(post("/b", "payload"));
    const second = await t.reader.response(1);
    expect(second.body.toString()).toBe("POST /b payload");
    expect(t.reader.ended).toBe(false);
    t.client.stream.end();
    await t.served;
    expect(t.errors).toEqual([]);
  });

  it("writes a small response (head and body) in one socket write", async () => {
    const t = memoryServer({ serve: () => Response.text("hi") });
    const writes: number[] = [];
    const write = t.conn.stream.write.bind(t.conn.stream);
    t.conn.stream.write = ((chunk: Buffer, ...rest: unknown[]) => {
      writes.push(chunk.length);
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof t.conn.stream.write;
    t.reader.expect("GET");
    t.send(get("/"));
    const res = await t.reader.response();
    expect(res.body.toString()).toBe("hi");
    expect(writes).toHaveLength(1);
  });

  it("answers pipelined requests in order, batched into one write, even when handlers finish out of order", async () => {
    const delays = [40, 0, 25, 5, 10];
    const handler = service(async (req: Request) => {
      const i = Number(req.path.slice(1));
      await sleep(delays[i]!);
      return Response.text(`r${i}`);
    });
    const t = memoryServer(handler);
    t.reader.expect("GET", "GET", "GET", "GET", "GET");
    let writes = 0;
    const write = t.conn.stream.write.bind(t.conn.stream);
    t.conn.stream.write = ((...a: unknown[]) => {
      writes++;
      return (write as (...a: unknown[]) => boolean)(...a);
    }) as typeof t.conn.stream.write;
    t.send([0, 1, 2, 3, 4].map((i) => get(`/${i}`)).join(""));
    await t.reader.response(4);
    expect(t.reader.responses.map((r) => r.body.toString())).toEqual(["r0", "r1", "r2", "r3", "r4"]);
    // r0 is slowest: r1..r4 wait behind it and leave together with it.
    expect(writes).toBe(1);
  });

  it("batches the responses of synchronous handlers to a pipelined chunk into one write", async () => {
    const t = memoryServer({ serve: (req: Request) => Response.text(req.path) });
    let writes = 0;
    const write = t.conn.stream.write.bind(t.conn.stream);
    t.conn.stream.write = ((...a: unknown[]) => {
      writes++;
      return (write as (...a: unknown[]) => boolean)(...a);
    }) as typeof t.conn.stream.write;
    t.reader.expect(...Array(10).fill("GET"));
    t.send(Array.from({ length: 10 }, (_, i) => get(`/${i}`)).join(""));
    await t.reader.response(9);
    expect(t.reader.responses.map((r) => r.body.toString())).toEqual(
      Array.from({ length: 10 }, (_, i) => `/${i}`),
    );
    expect(writes).toBe(1);
  });

  it("HEAD: Content-Length of the body that GET would send, no body bytes, and the next request still parses", async () => {
    const t = memoryServer(hello);
    t.reader.expect("HEAD", "GET");
    t.send(`HEAD / HTTP/1.1\r\nHost: a\r\n\r\n${get("/")}`);
    const head = await t.reader.response(0);
    expect(header(head, "content-length")).toBe("5");
    expect(head.body.length).toBe(0);
    const next = await t.reader.response(1);
    expect(next.body.toString()).toBe("hello");
  });

  it("HEAD keeps a Content-Length the handler set (a proxy forwarding a HEAD response)", async () => {
    const t = memoryServer({
      serve: () => new Response(200, HeaderMap.fromPairs([["Content-Length", "1234"]])),
    });
    t.reader.expect("HEAD");
    t.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(header(await t.reader.response(), "content-length")).toBe("1234");
  });

  it("204 and 304 carry no body and no framing the handler did not ask for", async () => {
    const t = memoryServer({
      serve: (req: Request) =>
        req.path === "/204"
          ? new Response(204, undefined, Body.fromText("ignored"))
          : new Response(304, HeaderMap.fromPairs([["ETag", '"x"']])),
    });
    t.reader.expect("GET", "GET", "GET");
    t.send(get("/204") + get("/304") + get("/204"));
    const [a, b, c] = [await t.reader.response(0), await t.reader.response(1), await t.reader.response(2)];
    expect(a.status).toBe(204);
    expect(a.body.length).toBe(0);
    expect(header(a, "content-length")).toBeUndefined();
    expect(header(a, "transfer-encoding")).toBeUndefined();
    expect(b.status).toBe(304);
    expect(header(b, "etag")).toBe('"x"');
    expect(header(b, "content-length")).toBeUndefined();
    expect(c.status).toBe(204);
  });

  it("replaces framing and connection fields the handler set with its own", async () => {
    const t = memoryServer({
      serve: () =>
        new Response(
          200,
          HeaderMap.fromPairs([
            ["Content-Length", "999"],
            ["Transfer-Encoding", "chunked"],
            ["Keep-Alive", "timeout=5"],
            ["X-Order", "1"],
          ]),
          Body.fromText("abc"),
        ),
    });
    t.reader.expect("GET");
    t.send(get("/"));
    const res = await t.reader.response();
    expect(res.headers.map(([n]) => n)).toEqual(["X-Order", "Date", "Content-Length"]);
    expect(header(res, "content-length")).toBe("3");
  });

  it("streams a body of unknown length chunked, with trailers", async () => {
    async function* parts() {
      yield "one,";
      await sleep(5);
      yield "two";
    }
    const trailers = HeaderMap.fromPairs([["Checksum", "42"]]);
    const t = memoryServer({
      serve: () => new Response(200, undefined, Body.fromIterable(parts(), { trailers })),
    });
    t.reader.expect("GET");
    t.send(get("/"));
    const res = await t.reader.response();
    expect(header(res, "transfer-encoding")).toBe("chunked");
    expect(res.body.toString()).toBe("one,two");
    expect(res.trailers).toEqual([["Checksum", "42"]]);
  });

  it("streams a body of known length with Content-Length", async () => {
    async function* parts() {
      yield "ab";
      yield "cd";
    }
    const t = memoryServer({
      serve: () => new Response(200, undefined, Body.fromIterable(parts(), { length: 4 })),
    });
    t.reader.expect("GET", "GET");
    t.send(get("/") + get("/"));
    const res = await t.reader.response(0);
    expect(header(res, "content-length")).toBe("4");
    expect(res.body.toString()).toBe("abcd");
    expect((await t.reader.response(1)).body.toString()).toBe("abcd");
  });

  it("reads request bodies: Content-Length and chunked with trailers", async () => {
    let trailers: [string, string][] | undefined;
    const t = memoryServer(
      service(async (req: Request) => {
        const text = await req.body.text();
        trailers = req.body.trailers?.toJSON();
        return Response.text(text);
      }),
    );
    t.reader.expect("POST", "POST");
    t.send(post("/", "hello"));
    t.send(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 9\r\n\r\n",
    );
    expect((await t.reader.response(0)).body.toString()).toBe("hello");
    expect((await t.reader.response(1)).body.toString()).toBe("abcde");
    expect(trailers).toEqual([["X-Sum", "9"]]);
  });
});

describe("http1 server: HTTP/1.0 and Connection: close", () => {
  it("closes after an HTTP/1.0 request without keep-alive", async () => {
    const t = memoryServer(hello);
    t.reader.expect("GET");
    t.send("GET / HTTP/1.0\r\n\r\n");
    const res = await t.reader.response();
    expect(res.body.toString()).toBe("hello");
    expect(header(res, "connection")).toBe("close");
    await t.reader.closed();
    await t.served;
  });

  it("keeps an HTTP/1.0 connection that asked for keep-alive, saying so", async () => {
    const t = memoryServer(hello);
    t.reader.expect("GET", "GET");
    t.send(
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    );
    const a = await t.reader.response(0);
    expect(header(a, "connection")).toBe("keep-alive");
    expect((await t.reader.response(1)).body.toString()).toBe("hello");
    expect(t.reader.ended).toBe(false);
  });

  it("sends a streamed body of unknown length to HTTP/1.0 until close", async () => {
    async function* parts() {
      yield "a";
      yield "b";
    }
    const t = memoryServer({ serve: () => new Response(200, undefined, Body.fromIterable(parts())) });
    t.reader.expect("GET");
    t.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    await t.reader.closed();
    const res = await t.reader.response();
    expect(header(res, "transfer-encoding")).toBeUndefined();
    expect(header(res, "connection")).toBe("close");
    expect(res.body.toString()).toBe("ab");
  });

  it("honours Connection: close from the client and from the handler", async () => {
    const a = memoryServer(hello);
    a.reader.expect("GET");
    a.send(get("/", "Connection: close") + get("/never"));
    expect(header(await a.reader.response(), "connection")).toBe("close");
    await a.reader.closed();
    expect(a.reader.responses).toHaveLength(1);

    const b = memoryServer({
      serve: () => new Response(200, HeaderMap.fromPairs([["Connection", "close"]]), Body.fromText("x")),
    });
    b.reader.expect("GET", "GET");
    b.send(get("/") + get("/never"));
    expect(header(await b.reader.response(), "connection")).toBe("close");
    await b.reader.closed();
    expect(b.reader.responses).toHaveLength(1);
    await b.served;
  });

  it("answers what is in flight when the client half-closes, then closes", async () => {
    const t = memoryServer(
      service(async (req: Request) => {
        await sleep(10);
        return Response.text(req.path);
      }),
    );
    t.reader.expect("GET", "GET", "GET");
    t.client.stream.end(get("/1") + get("/2") + get("/3"));
    await t.reader.closed();
    expect(t.reader.responses.map((r) => r.body.toString())).toEqual(["/1", "/2", "/3"]);
    await t.served;
  });
});

describe("http1 server: handlers", () => {
  it("answers 500 without leaking the error, reports it typed, and keeps the connection", async () => {
    const t = memoryServer(
      service((req: Request): Response => {
        if (req.path === "/boom") throw new Error("secret database password");
        return Response.text("fine");
      }),
    );
    t.reader.expect("GET", "GET");
    t.send(get("/boom") + get("/ok"));
    const res = await t.reader.response(0);
    expect(res.status).toBe(500);
    expect(t.reader.text).not.toContain("secret");
    expect((await t.reader.response(1)).body.toString()).toBe("fine");
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0]).toBeInstanceOf(HandlerError);
    expect((t.errors[0]!.cause as Error).message).toBe("secret database password");
  });

  it("answers the 4xx a Tessera error carries (an unparsable target read through req.uri)", async () => {
    const t = memoryServer({ serve: (req: Request) => Response.text(req.path) });
    t.reader.expect("GET");
    t.send("GET http://[bad HTTP/1.1\r\nHost: a\r\n\r\n");
    const res = await t.reader.response();
    expect(res.status).toBe(400);
    expect((t.errors[0]!.cause as Error) instanceof InvalidUriError).toBe(true);
  });

  it("answers 500 for a response it cannot send (not a Response, interim status, 101 without upgrade)", async () => {
    const t = memoryServer({
      serve: (req: Request) =>
        (req.path === "/nothing" ? undefined : new Response(req.path === "/100" ? 100 : 101)) as Response,
    });
    t.reader.expect("GET", "GET", "GET");
    t.send(get("/nothing") + get("/100") + get("/101"));
    for (let i = 0; i < 3; i++) expect((await t.reader.response(i)).status).toBe(500);
    expect(t.errors.map((e) => e.constructor)).toEqual([
      InvalidResponseError,
      InvalidResponseError,
      InvalidResponseError,
    ]);
  });

  it("closes the connection when a streamed body fails after the head was sent", async () => {
    async function* broken() {
      yield "partial";
      throw new Error("disk gone");
    }
    const t = memoryServer({ serve: () => new Response(200, undefined, Body.fromIterable(broken())) });
    t.reader.expect("GET");
    t.send(get("/"));
    await t.reader.closed();
    expect(t.reader.responses[0]?.complete).toBe(false);
    expect(t.reader.text).not.toContain("0\r\n\r\n");
    expect(t.errors[0]).toBeInstanceOf(ResponseBodyError);
    await t.served;
  });

  it("requests fork the connection's extensions and share its signal", async () => {
    const Tenant = key<string>("test.Tenant");
    const Seen = key<string>("test.Seen");
    const seen: { tenant?: string; previous?: string; signal: boolean }[] = [];
    const serverExt = new Extensions().insert(Tenant, "acme");
    let connExt: Extensions | undefined;
    const t = memoryServer(
      {
        serve: (req: Request) => {
          seen.push({
            tenant: req.extensions.get(Tenant),
            previous: req.extensions.get(Seen),
            signal: req.signal === signalOf(connExt!),
          });
          req.extensions.insert(Seen, req.path);
          return Response.text("ok");
        },
      },
      {},
      { serverExtensions: serverExt },
    );
    connExt = t.conn.extensions;
    t.reader.expect("GET", "GET");
    t.send(get("/1") + get("/2"));
    await t.reader.response(1);
    expect(seen).toEqual([
      { tenant: "acme", previous: undefined, signal: true },
      { tenant: "acme", previous: undefined, signal: true },
    ]);
    expect(t.conn.extensions.get(Seen)).toBeUndefined();
  });

  it("the server is a Service<Conn, void> usable over any connection", () => {
    const s = server(hello);
    expect(typeof s.serve).toBe("function");
  });
});
