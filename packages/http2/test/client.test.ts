import { appendSignal, Extensions, service } from "@tessera/core";
import {
  Body,
  type ClientConnection,
  type ClientConnectionListener,
  ConnectionExtensions,
  HeaderMap,
  Request,
  Response,
} from "@tessera/http";
import { memoryConnPair, PeerAddr } from "@tessera/net";
import { afterEach, describe, expect, it } from "vitest";
import {
  clientConnection,
  ErrorCode,
  type Http2ClientConnection,
  type Http2ClientOptions,
  type Http2ServerOptions,
  Http2StreamResetError,
  server,
} from "../src/index.js";

const open: Http2ClientConnection[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.destroy();
});

/** Our client and our server over an in-memory connection. */
async function pair(
  handler: (req: Request) => Response | Promise<Response>,
  serverOptions?: Http2ServerOptions,
  clientOptions?: Http2ClientOptions,
): Promise<Http2ClientConnection> {
  const [a, b] = memoryConnPair({
    clientExtensions: new Extensions().insert(PeerAddr, { family: "IPv4", host: "10.0.0.1", port: 443 }),
  });
  void server(service(handler), serverOptions).serve(b);
  const client = await clientConnection(a, clientOptions);
  open.push(client);
  return client;
}

const echo = async (req: Request): Promise<Response> => {
  const body = await req.body.text();
  return Response.json({
    method: req.method,
    target: req.target,
    host: req.headers.get("host"),
    headers: [...req.headers.entries()],
    body,
  });
};

describe("http2 client against our server (in memory)", () => {
  it("sends a GET and reads the response; the response's extensions hold the connection's", async () => {
    const client = await pair(echo);
    const res = await client.serve(Request.get("http://example.com/a?b=1", { headers: { "X-Test": "1" } }));
    expect(res.status).toBe(200);
    expect(res.version).toBe("HTTP/2");
    const json = (await res.body.json()) as Record<string, unknown>;
    expect(json).toMatchObject({ method: "GET", target: "/a?b=1", host: "example.com", body: "" });
    // Names go lower case on the wire (RFC 9113 8.2.1).
    expect(json.headers).toContainEqual(["x-test", "1"]);
    expect(res.extensions.get(ConnectionExtensions)?.get(PeerAddr)).toMatchObject({ host: "10.0.0.1" });
  });

  it("sends a buffered body with content-length and a streamed body without", async () => {
    const client = await pair(echo);
    const a = await client.serve(Request.post("http://x/p", "hello"));
    const posted = (await a.body.json()) as { body: string; headers: [string, string][] };
    expect(posted.body).toBe("hello");
    expect(posted.headers).toContainEqual(["content-length", "5"]);
    async function* parts() {
      yield new TextEncoder().encode("one ");
      yield new TextEncoder().encode("two");
    }
    const b = await client.serve(Request.post("http://x/p", Body.fromIterable(parts())));
    const streamed = (await b.body.json()) as { body: string; headers: [string, string][] };
    expect(streamed.body).toBe("one two");
    expect(streamed.headers.map(([n]) => n)).not.toContain("content-length");
  });

  it("multiplexes: 50 concurrent requests on one connection, each gets its own answer", async () => {
    const client = await pair(async (req) => {
      await new Promise((r) => setTimeout(r, Math.random() * 10));
      return Response.text(req.target);
    });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        client.serve(Request.get(`http://x/${i}`)).then((r) => r.body.text()),
      ),
    );
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => `/${i}`));
    expect(client.inFlight).toBe(0);
  });

  it("capacity follows the server's MAX_CONCURRENT_STREAMS and goes back up when an exchange is over", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const available: number[] = [];
    const listener: ClientConnectionListener = {
      onAvailable: (c: ClientConnection) => available.push(c.capacity),
      onClose: () => {},
    };
    const client = await pair(
      async () => {
        await gate;
        return Response.text("ok");
      },
      { maxConcurrentStreams: 2 },
      { listener },
    );
    expect(client.capacity).toBe(2);
    const one = client.serve(Request.get("http://x/1"));
    const two = client.serve(Request.get("http://x/2"));
    expect(client.capacity).toBe(0);
    await expect(client.serve(Request.get("http://x/3"))).rejects.toMatchObject({
      code: "ERR_HTTP2_CONNECTION_BUSY",
      requestSent: false,
    });
    release();
    await (await one).body.text();
    await (await two).body.text();
    expect(client.capacity).toBe(2);
    expect(available.length).toBeGreaterThanOrEqual(1);
  });

  it("moves 4 MiB each way through small windows (flow control both ways)", async () => {
    const size = 4 * 1024 * 1024;
    const client = await pair(
      async (req) => {
        const bytes = await req.body.bytes({ limit: size });
        return new Response(200, HeaderMap.fromPairs([]), Body.fromBytes(bytes));
      },
      { initialWindowSize: 16_384, connectionWindowSize: 65_535 },
      { initialWindowSize: 16_384, windowUpdate: 0 },
    );
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = i & 0xff;
    const res = await client.serve(Request.post("http://x/", data));
    const back = await res.body.bytes({ limit: size });
    expect(back.byteLength).toBe(size);
    expect(Buffer.compare(Buffer.from(back), Buffer.from(data))).toBe(0);
  });

  it("trailers go both ways", async () => {
    const client = await pair(async (req) => {
      await req.body.text();
      const trailers = req.body.trailers;
      const channel = Body.channel();
      channel.push(new TextEncoder().encode("body"));
      channel.end(HeaderMap.fromPairs([["x-checksum", `got ${trailers?.get("x-sent") ?? "none"}`]]));
      return new Response(200, HeaderMap.fromPairs([]), channel.body);
    });
    const channel = Body.channel();
    const req = Request.post("http://x/", channel.body);
    const pending = client.serve(req);
    channel.push(new TextEncoder().encode("abc"));
    channel.end(HeaderMap.fromPairs([["x-sent", "yes"]]));
    const res = await pending;
    expect(await res.body.text()).toBe("body");
    expect(res.body.trailers?.get("x-checksum")).toBe("got yes");
  });

  it("HEAD and 204 responses have empty bodies", async () => {
    const client = await pair((req) =>
      req.target === "/none" ? new Response(204) : Response.text("twelve bytes"),
    );
    const head = await client.serve(Request.head("http://x/"));
    expect(head.headers.get("content-length")).toBe("12");
    expect(await head.body.text()).toBe("");
    const none = await client.serve(Request.get("http://x/none"));
    expect(none.status).toBe(204);
    expect(await none.body.text()).toBe("");
  });

  it("an aborted request resets its stream (the server's handler sees its signal fire)", async () => {
    let serverSignal: AbortSignal | undefined;
    const client = await pair(
      (req) =>
        new Promise<Response>((resolve) => {
          serverSignal = req.signal;
          req.signal.addEventListener("abort", () => resolve(Response.text("late")));
        }),
    );
    const controller = new AbortController();
    const req = Request.get("http://x/slow", {
      extensions: appendSignal(new Extensions(), controller.signal),
    });
    const pending = client.serve(req);
    await new Promise((r) => setTimeout(r, 20));
    controller.abort(new Error("user gave up"));
    const error = await pending.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ERR_ABORTED", cause: new Error("user gave up") });
    await new Promise((r) => setTimeout(r, 20));
    expect(serverSignal?.aborted).toBe(true);
    expect(client.inFlight).toBe(0);
    // The connection carries on.
    expect(client.closed).toBe(false);
  });

  it("cancelling a response body resets the stream and frees its slot", async () => {
    const client = await pair(() => {
      const channel = Body.channel();
      channel.push(new Uint8Array(1000));
      return new Response(200, HeaderMap.fromPairs([]), channel.body);
    });
    const res = await client.serve(Request.get("http://x/endless"));
    expect(client.inFlight).toBe(1);
    await res.body.cancel();
    expect(client.inFlight).toBe(0);
    const next = await client.serve(Request.get("http://x/again"));
    expect(next.status).toBe(200);
    await next.body.cancel();
  });

  it("a handler error reaches the client as a 500, a reset after headers as a stream reset", async () => {
    const client = await pair((req) => {
      if (req.target === "/throw") throw new Error("boom");
      const channel = Body.channel();
      channel.push(new TextEncoder().encode("partial"));
      setTimeout(() => channel.error(new Error("producer died")), 10);
      return new Response(200, HeaderMap.fromPairs([]), channel.body);
    });
    const a = await client.serve(Request.get("http://x/throw"));
    expect(a.status).toBe(500);
    const b = await client.serve(Request.get("http://x/broken"));
    const error = await b.body.text().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Http2StreamResetError);
    expect((error as Http2StreamResetError).errorCode).toBe(ErrorCode.INTERNAL_ERROR);
  });

  it("close() lets in-flight exchanges finish, then the connection closes and onClose fires once", async () => {
    let closes = 0;
    const listener: ClientConnectionListener = { onAvailable: () => {}, onClose: () => closes++ };
    const client = await pair(
      async () => {
        await new Promise((r) => setTimeout(r, 30));
        return Response.text("done");
      },
      undefined,
      { listener },
    );
    const pending = client.serve(Request.get("http://x/"));
    client.close();
    expect(client.closed).toBe(true);
    await expect(client.serve(Request.get("http://x/"))).rejects.toMatchObject({
      code: "ERR_HTTP2_CONNECTION_CLOSED",
      requestSent: false,
    });
    expect(await (await pending).body.text()).toBe("done");
    await new Promise((r) => setTimeout(r, 20));
    expect(closes).toBe(1);
  });

  it("the server's graceful shutdown (GOAWAY) lets the request in flight finish and closes the connection", async () => {
    const { createShutdown } = await import("@tessera/core");
    const shutdown = createShutdown();
    const client = await pair(
      async () => {
        await new Promise((r) => setTimeout(r, 50));
        return Response.text("finished");
      },
      { shutdown },
    );
    const pending = client.serve(Request.get("http://x/"));
    await new Promise((r) => setTimeout(r, 10));
    void shutdown.close({ timeout: 2000 });
    expect(await (await pending).body.text()).toBe("finished");
    await new Promise((r) => setTimeout(r, 50));
    expect(client.closed).toBe(true);
  });
});
