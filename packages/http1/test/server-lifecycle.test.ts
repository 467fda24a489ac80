import { createShutdown, Extensions, service } from "@tessera/core";
import { type Request, Response } from "@tessera/http";
import { Draining } from "@tessera/net";
import { describe, expect, it } from "vitest";
import { HeaderTimeoutError, Http1ParseError } from "../src/index.js";
import { get, header, memoryServer, sleep } from "./support/server-harness.js";

const ok = service((req: Request) => Response.text(`ok ${req.path}`));

describe("http1 server: timeouts", () => {
  it("answers 408 and closes when a request head does not complete in time (slowloris)", async () => {
    const t = memoryServer(ok, { headerTimeout: 80 });
    t.reader.expect("GET");
    const started = Date.now();
    t.send("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");
    const drip = setInterval(() => t.send("a"), 10); // bytes keep coming, the head never completes
    try {
      await t.reader.closed(2000);
    } finally {
      clearInterval(drip);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    const res = await t.reader.response();
    expect(res.status).toBe(408);
    expect(header(res, "connection")).toBe("close");
    expect(t.errors[0]).toBeInstanceOf(HeaderTimeoutError);
    await t.served;
  });

  it("the header timer of a later request starts at its first byte, not at the end of the previous response", async () => {
    const t = memoryServer(ok, { headerTimeout: 100, idleTimeout: 1000 });
    t.reader.expect("GET", "GET");
    t.send(get("/1"));
    await t.reader.response(0);
    await sleep(150); // idle, longer than the header timeout: fine
    t.send(get("/2"));
    expect((await t.reader.response(1)).body.toString()).toBe("ok /2");
  });

  it("closes an idle keep-alive connection quietly after idleTimeout", async () => {
    const t = memoryServer(ok, { idleTimeout: 60 });
    t.reader.expect("GET");
    t.send(get("/"));
    await t.reader.response();
    const started = Date.now();
    await t.reader.closed(2000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect(t.reader.responses).toHaveLength(1);
    expect(t.errors).toEqual([]);
    await t.served;
  });

  it("closes a connection that never sends a byte after headerTimeout, without an answer", async () => {
    const t = memoryServer(ok, { headerTimeout: 50 });
    await t.reader.closed(2000);
    expect(t.reader.text).toBe("");
  });

  it("runs no timer while a handler works", async () => {
    const t = memoryServer(
      service(async () => {
        await sleep(150);
        return Response.text("slow but fine");
      }),
      { headerTimeout: 50, idleTimeout: 50 },
    );
    t.reader.expect("GET");
    t.send(get("/"));
    expect((await t.reader.response()).body.toString()).toBe("slow but fine");
  });
});

describe("http1 server: graceful shutdown", () => {
  it("closes idle connections at once and lets in-flight requests finish with Connection: close", async () => {
    const shutdown = createShutdown();
    let release!: () => void;
    const slow = service(async (req: Request) => {
      if (req.path === "/slow") await new Promise<void>((r) => (release = r));
      return Response.text(req.path);
    });
    const idle = memoryServer(slow, { shutdown });
    const busy = memoryServer(slow, { shutdown });
    idle.reader.expect("GET");
    idle.send(get("/quick"));
    await idle.reader.response();
    busy.reader.expect("GET");
    busy.send(get("/slow"));
    await sleep(10);
    const closing = shutdown.close();
    await idle.reader.closed();
    await idle.served;
    expect(busy.done).toBe(false);
    release();
    const res = await busy.reader.response();
    expect(res.body.toString()).toBe("/slow");
    expect(header(res, "connection")).toBe("close");
    await busy.reader.closed();
    await busy.served;
    await closing;
  });

  it("drains on the listener's Draining signal on the connection's extensions", async () => {
    const stop = new AbortController();
    const t = memoryServer(
      service(async (req: Request) => {
        await sleep(20);
        return Response.text(req.path);
      }),
      {},
      { serverExtensions: new Extensions().insert(Draining, stop.signal) },
    );
    t.reader.expect("GET", "GET");
    t.send(get("/1") + get("/2"));
    await sleep(5);
    stop.abort();
    await t.reader.closed();
    expect(t.reader.responses.map((r) => r.body.toString())).toEqual(["/1", "/2"]);
    expect(header(t.reader.responses[0]!, "connection")).toBeUndefined();
    expect(header(t.reader.responses[1]!, "connection")).toBe("close");
  });

  it("a connection that arrives while draining is closed without reading", async () => {
    const stop = new AbortController();
    stop.abort();
    const t = memoryServer(ok, {}, { serverExtensions: new Extensions().insert(Draining, stop.signal) });
    await t.reader.closed();
    await t.served;
  });
});

describe("http1 server: bad input over a connection pair", () => {
  it("answers a parse error with its status and Connection: close, reports it, and parses nothing after it", async () => {
    let calls = 0;
    const t = memoryServer({
      serve: (req: Request) => {
        calls++;
        return Response.text(req.path);
      },
    });
    t.reader.expect("GET", "GET");
    t.send(`${get("/fine")}GET /bad HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n${get("/smuggled")}`);
    await t.reader.closed();
    expect(t.reader.responses.map((r) => r.status)).toEqual([200, 400]);
    expect(header(t.reader.responses[1]!, "connection")).toBe("close");
    expect(calls).toBe(1);
    expect(t.errors[0]).toBeInstanceOf(Http1ParseError);
    expect((t.errors[0] as Http1ParseError).code).toBe("ERR_HTTP1_INVALID_HEADER_NAME");
    await t.served;
  });

  it.each([
    ["414 for a request line over the limit", `GET /${"a".repeat(9000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
    [
      "431 for a header section over the limit",
      `GET / HTTP/1.1\r\nHost: a\r\nX: ${"a".repeat(17000)}\r\n\r\n`,
      431,
    ],
    ["505 for HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505],
    ["505 for the HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505],
    [
      "501 for an unknown transfer coding",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      501,
    ],
  ])("%s", async (_name, input, status) => {
    const t = memoryServer(ok);
    t.reader.expect("GET");
    t.send(input);
    await t.reader.closed();
    expect(t.reader.responses.map((r) => r.status)).toEqual([status]);
  });
});
