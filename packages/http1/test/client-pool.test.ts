import type http from "node:http";
import { AbortedError } from "@tessera/core";
import { Body, type HttpClient, type HttpClientOptions, httpClient, Request } from "@tessera/http";
import { afterEach, describe, expect, it } from "vitest";
import { clientConnection } from "../src/index.js";
import { nodeServer, readAll, type TestServer } from "./support/client-servers.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function server(handler: http.RequestListener, options?: http.ServerOptions): Promise<TestServer> {
  const s = await nodeServer(handler, options);
  cleanups.push(() => s.close());
  return s;
}

function client(options: Partial<HttpClientOptions> = {}): HttpClient {
  const c = httpClient({ http1: clientConnection, ...options });
  cleanups.push(() => c.close());
  return c;
}

describe("httpClient over HTTP/1.1 against node:http", () => {
  it("reuses keep-alive connections: the server sees one connection per concurrent request, at most", async () => {
    const s = await server((req, res) => res.end(`hello ${req.url}`));
    const c = client({ pool: { maxConnectionsPerAuthority: 4 } });
    for (let i = 0; i < 20; i++) expect(await (await c.get(s.url(`/${i}`))).body.text()).toBe(`hello /${i}`);
    expect(s.accepted()).toBe(1);
    const texts = await Promise.all(
      Array.from({ length: 50 }, (_, i) => c.get(s.url(`/p${i}`)).then((r) => r.body.text())),
    );
    expect(texts[49]).toBe("hello /p49");
    expect(s.accepted()).toBe(4);
    expect(c.stats()).toMatchObject({ connections: 4, idle: 4, waiting: 0 });
  });

  it("moves content-length and chunked bodies both ways", async () => {
    const s = await server(async (req, res) => {
      const body = await readAll(req);
      const framing = req.headers["transfer-encoding"] ?? `length ${req.headers["content-length"]}`;
      if (req.url === "/chunked") {
        res.write(`${framing}:`);
        res.end(body);
      } else {
        res.setHeader("Content-Length", Buffer.byteLength(`${framing}:${body}`));
        res.end(`${framing}:${body}`);
      }
    });
    const c = client();
    async function* parts() {
      yield "a";
      yield "b";
    }
    const a = await c.request("POST", s.url("/length"), { body: "fixed" });
    expect(a.headers.get("content-length")).toBeDefined();
    expect(await a.body.text()).toBe("length 5:fixed");
    const b = await c.request("POST", s.url("/chunked"), { body: Body.fromIterable(parts()) });
    expect(b.headers.get("transfer-encoding")).toBe("chunked");
    expect(await b.body.text()).toBe("chunked:ab");
    expect(s.accepted()).toBe(1);
  });

  it("HEAD, 204 and 304 free the connection at once", async () => {
    const s = await server((req, res) => {
      if (req.url === "/204") res.writeHead(204).end();
      else if (req.url === "/304") res.writeHead(304).end();
      else res.writeHead(200, { "Content-Length": "3" }).end(req.method === "HEAD" ? undefined : "abc");
    });
    const c = client({ pool: { maxConnectionsPerAuthority: 1 } });
    // Bodies never read: only bodiless responses can free the single connection.
    const head = await c.request("HEAD", s.url("/"));
    const noContent = await c.get(s.url("/204"));
    const notModified = await c.get(s.url("/304"));
    expect([head.status, noContent.status, notModified.status]).toEqual([200, 204, 304]);
    expect(head.headers.get("content-length")).toBe("3");
    expect(await (await c.get(s.url("/"))).body.text()).toBe("abc");
    expect(s.accepted()).toBe(1);
  });

  it("honours Connection: close: a new connection for the next request", async () => {
    const s = await server((_req, res) => {
      res.setHeader("Connection", "close");
      res.end("bye");
    });
    const c = client();
    for (let i = 0; i < 3; i++) expect(await (await c.get(s.url("/"))).body.text()).toBe("bye");
    expect(s.accepted()).toBe(3);
    await s.drained();
    expect(s.open()).toBe(0);
    expect(c.stats().connections).toBe(0);
  });

  it("notices a connection the server closed while idle, and opens another without failing", async () => {
    const s = await server((_req, res) => res.end("ok"), { keepAliveTimeout: 50 });
    const c = client();
    expect(await (await c.get(s.url("/"))).body.text()).toBe("ok");
    // node:http closes an idle connection on a timer of about a second, whatever keepAliveTimeout says.
    const until = Date.now() + 5_000;
    while (c.stats().connections > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(c.stats().connections).toBe(0);
    expect(await (await c.get(s.url("/"))).body.text()).toBe("ok");
    expect(s.accepted()).toBe(2);
  });

  describe("a server that closes a kept-alive connection as the next request arrives", () => {
    // The race a client meets when a server's keep-alive timeout fires just as a request goes out: the
    // request reaches a connection that closes without an answer.
    async function racing(): Promise<{ s: TestServer; seen: string[] }> {
      const seen: string[] = [];
      const perSocket = new WeakMap<object, number>();
      const s = await server(async (req, res) => {
        const n = (perSocket.get(req.socket) ?? 0) + 1;
        perSocket.set(req.socket, n);
        seen.push(`${req.method} ${n}`);
        if (n > 1) {
          req.socket.destroy();
          return;
        }
        await readAll(req);
        res.end("first");
      });
      return { s, seen };
    }

    it("retries a GET once on a new connection", async () => {
      const { s, seen } = await racing();
      const c = client();
      expect(await (await c.get(s.url("/"))).body.text()).toBe("first");
      expect(await (await c.get(s.url("/"))).body.text()).toBe("first");
      expect(seen).toEqual(["GET 1", "GET 2", "GET 1"]);
      expect(s.accepted()).toBe(2);
    });

    it("retries a PUT with a buffered body, but never a POST", async () => {
      const { s, seen } = await racing();
      const c = client();
      await (await c.get(s.url("/"))).body.text();
      const put = await c.request("PUT", s.url("/"), { body: "replayable" });
      expect(await put.body.text()).toBe("first");
      const error = await c.request("POST", s.url("/"), { body: "once" }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "ERR_HTTP1_CONNECTION_CLOSED", staleConnection: true });
      expect(seen).toEqual(["GET 1", "PUT 2", "PUT 1", "POST 2"]);
    });

    it("does not retry a streamed body, which cannot be sent twice", async () => {
      const { s } = await racing();
      const c = client();
      await (await c.get(s.url("/"))).body.text();
      async function* once() {
        yield "x";
      }
      await expect(c.serve(Request.put(s.url("/"), Body.fromIterable(once())))).rejects.toMatchObject({
        code: "ERR_HTTP1_CONNECTION_CLOSED",
      });
    });
  });

  it("cancellation and timeouts leave no sockets: in flight, while the body streams, and while queued", async () => {
    const s = await server((req, res) => {
      if (req.url === "/stream") res.write("partial");
      // otherwise: never answers
    });
    const c = client({ pool: { maxConnectionsPerAuthority: 1 } });
    const started = Date.now();
    await expect(c.get(s.url("/hang"), { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({
      name: expect.stringMatching(/Timeout|Abort/),
    });
    expect(Date.now() - started).toBeLessThan(2_000);

    const controller = new AbortController();
    const res = await c.get(s.url("/stream"), { signal: controller.signal });
    const queued = new AbortController();
    const waiting = c.get(s.url("/hang"), { signal: queued.signal });
    await new Promise((r) => setTimeout(r, 10));
    expect(c.stats().waiting).toBe(1);
    queued.abort(new AbortedError("left the queue"));
    await expect(waiting).rejects.toThrow("left the queue");
    const text = res.body.text();
    controller.abort(new AbortedError("stop reading"));
    await expect(text).rejects.toThrow("stop reading");

    await s.drained();
    expect(s.open()).toBe(0);
    expect(c.stats()).toMatchObject({ connections: 0, waiting: 0 });
  });

  it("close() and the idle timeout leave no sockets", async () => {
    const s = await server((_req, res) => res.end("ok"));
    const idle = client({ pool: { idleTimeout: 40 } });
    await (await idle.get(s.url("/"))).body.text();
    await new Promise((r) => setTimeout(r, 150));
    await s.drained();
    expect(s.open()).toBe(0);

    const closing = client();
    await Promise.all([1, 2, 3].map(() => closing.get(s.url("/")).then((r) => r.body.text())));
    expect(s.open()).toBeGreaterThan(0);
    await closing.close();
    await s.drained();
    expect(s.open()).toBe(0);
  });
});
