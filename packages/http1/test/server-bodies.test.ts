import { service } from "@tessera/core";
import { Body, type Request, Response } from "@tessera/http";
import type { MemoryStream } from "@tessera/net";
import { describe, expect, it } from "vitest";
import { echoText, get, header, memoryServer, post, sleep } from "./support/server-harness.js";

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe("http1 server: request body backpressure", () => {
  it("pauses the socket while the handler does not read, so memory stays bounded, and resumes when it reads", async () => {
    const g = gate();
    let received = 0;
    const t = memoryServer(
      service(async (req: Request) => {
        await g.opened;
        for await (const chunk of req.body) received += chunk.byteLength;
        return Response.text(String(received));
      }),
      { bodyHighWaterMark: 16 * 1024 },
    );
    // Count what the server side actually took off the connection.
    let taken = 0;
    t.conn.stream.on("data", (c: Buffer) => {
      taken += c.length;
    });
    const total = 4 * 1024 * 1024;
    t.reader.expect("POST");
    t.send(`POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${total}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 1);
    let sent = 0;
    let blocked = false;
    while (sent < total) {
      sent += chunk.length;
      if (!t.client.stream.write(chunk)) {
        blocked = true;
        break;
      }
    }
    await sleep(50);
    expect(blocked).toBe(true);
    // The body channel's mark, plus the pair's buffers and one chunk: far below the 4 MiB on offer.
    expect(taken).toBeLessThan(256 * 1024);
    g.open();
    const pump = async () => {
      while (sent < total) {
        sent += chunk.length;
        if (!t.client.stream.write(chunk)) await new Promise((r) => t.client.stream.once("drain", r));
      }
    };
    await pump();
    const res = await t.reader.response();
    expect(res.body.toString()).toBe(String(total));
  });

  it("honours the socket's backpressure when streaming a response to a client that does not read", async () => {
    let produced = 0;
    const total = 2 * 1024 * 1024;
    async function* big() {
      const chunk = Buffer.alloc(32 * 1024, 2);
      while (produced < total) {
        produced += chunk.length;
        yield chunk;
      }
    }
    const t = memoryServer({
      serve: () => new Response(200, undefined, Body.fromIterable(big(), { length: total })),
    });
    t.client.stream.pause(); // the client does not read
    t.send(get("/"));
    await sleep(80);
    expect(produced).toBeGreaterThan(0);
    expect(produced).toBeLessThan(512 * 1024);
    t.reader.expect("GET");
    t.client.stream.resume();
    const res = await t.reader.response();
    expect(res.body.length).toBe(total);
  });

  it("stops reading pipelined requests while responses pile up unread (write backpressure)", async () => {
    let calls = 0;
    const big = Buffer.alloc(256 * 1024, 3);
    const t = memoryServer({
      serve: () => {
        calls++;
        return new Response(200, undefined, Body.fromBytes(big));
      },
    });
    t.client.stream.pause();
    t.send(Array.from({ length: 30 }, () => get("/")).join(""));
    await sleep(80);
    expect(calls).toBeLessThan(30);
    t.reader.expect(...Array(30).fill("GET"));
    t.client.stream.resume();
    await t.reader.response(29);
    expect(calls).toBe(30);
  });

  it("reads at most maxPipelined requests ahead of their responses", async () => {
    let active = 0;
    let most = 0;
    const t = memoryServer(
      service(async () => {
        active++;
        most = Math.max(most, active);
        await sleep(5);
        active--;
        return Response.text("x");
      }),
      { maxPipelined: 3 },
    );
    t.reader.expect(...Array(12).fill("GET"));
    t.send(Array.from({ length: 12 }, (_, i) => get(`/${i}`)).join(""));
    await t.reader.response(11);
    expect(most).toBe(3);
  });
});

describe("http1 server: Expect: 100-continue", () => {
  it("sends 100 Continue when the handler reads the body, then the answer", async () => {
    const t = memoryServer(echoText);
    t.reader.expect("POST");
    t.send("POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    const interim = await t.reader.response(0);
    expect(interim.status).toBe(100);
    t.send("data");
    const res = await t.reader.response(1);
    expect(res.body.toString()).toBe("POST /e data");
    expect(header(res, "connection")).toBeUndefined();
  });

  it("answers without 100 when the handler refuses the upload, and closes (the client never sends it)", async () => {
    const t = memoryServer({ serve: () => Response.text("too big", { status: 413 }) });
    t.reader.expect("POST");
    t.send("POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n");
    const res = await t.reader.response(0);
    expect(res.status).toBe(413);
    expect(header(res, "connection")).toBe("close");
    await t.reader.closed();
    expect(t.reader.text).not.toContain("100 Continue");
  });

  it("sends 100 before a streamed answer that echoes the request body", async () => {
    const t = memoryServer({ serve: (req: Request) => new Response(200, undefined, req.body) });
    t.reader.expect("POST");
    t.send("POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    expect((await t.reader.response(0)).status).toBe(100);
    t.send("12345");
    const res = await t.reader.response(1);
    expect(res.body.toString()).toBe("12345");
  });
});

describe("http1 server: unread request bodies", () => {
  it("drops a small unread body after the response and keeps the connection", async () => {
    const t = memoryServer({ serve: (req: Request) => Response.text(req.path) });
    t.reader.expect("POST", "GET");
    t.send(post("/ignored", "x".repeat(1000)) + get("/next"));
    expect((await t.reader.response(0)).body.toString()).toBe("/ignored");
    expect((await t.reader.response(1)).body.toString()).toBe("/next");
    expect(header(t.reader.responses[0]!, "connection")).toBeUndefined();
  });

  it("closes instead of reading a large unread body", async () => {
    const t = memoryServer(
      { serve: () => Response.text("no thanks", { status: 413 }) },
      { maxDiscardBytes: 1000 },
    );
    t.reader.expect("POST");
    t.send(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n${"x".repeat(100)}`);
    const res = await t.reader.response();
    expect(res.status).toBe(413);
    expect(header(res, "connection")).toBe("close");
    await t.reader.closed();
    await t.served;
  });

  it("a handler that cancels the body can still answer, and the connection goes on", async () => {
    const t = memoryServer({
      serve: (req: Request) => {
        req.body.cancel();
        return Response.text("cancelled");
      },
    });
    t.reader.expect("POST", "GET");
    t.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    await t.reader.response(0);
    t.send(`0\r\n\r\n${get("/after")}`);
    const next = await t.reader.response(1);
    expect(next.body.toString()).toBe("cancelled");
  });

  it("a client that half-closes mid-body fails the handler's read (incomplete message), which can still answer", async () => {
    let readError: unknown;
    const t = memoryServer(
      service(async (req: Request) => {
        readError = await req.body.text().catch((e: unknown) => e);
        return Response.text("late");
      }),
    );
    t.reader.expect("POST");
    t.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
    await sleep(10);
    t.client.stream.end();
    const res = await t.reader.response();
    expect(res.body.toString()).toBe("late");
    await t.served;
    expect((readError as { code?: string }).code).toBe("ERR_HTTP1_INCOMPLETE_MESSAGE");
  });

  it("a client that goes away mid-body fails the handler's read and aborts its signal", async () => {
    let readError: unknown;
    let aborted = false;
    const t = memoryServer(
      service(async (req: Request) => {
        try {
          await req.body.text();
        } catch (error) {
          readError = error;
          aborted = req.signal.aborted;
        }
        return Response.text("late");
      }),
    );
    t.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
    await sleep(20);
    (t.client.stream as MemoryStream).resetAndDestroy();
    await t.served;
    expect(readError).toBeInstanceOf(Error);
    expect(aborted).toBe(true);
  });
});
