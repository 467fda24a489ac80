import { once } from "node:events";
import * as nodeHttp2 from "node:http2";
import type { AddressInfo } from "node:net";
import { service } from "@tessera/core";
import { type ClientConnectionFactory, httpClient, Request, Response } from "@tessera/http";
import { connectRequest, listen, tcpConnector } from "@tessera/net";
import { afterEach, describe, expect, it } from "vitest";
import { clientConnection, type Http2ClientConnection, server } from "../src/index.js";

// Our client against node's own HTTP/2 server (nghttp2 inside) over real TCP, and through @tessera/http's pool.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function nodeServer(
  handler: (req: nodeHttp2.Http2ServerRequest, res: nodeHttp2.Http2ServerResponse) => void,
  options: nodeHttp2.ServerOptions = {},
): Promise<{ port: number; sessions: () => number }> {
  const srv = nodeHttp2.createServer(options, handler);
  let sessions = 0;
  srv.on("session", () => sessions++);
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        srv.close(() => resolve());
        // Sessions our client keeps open would hold close() forever.
        setTimeout(resolve, 200).unref();
      }),
  );
  return { port: (srv.address() as AddressInfo).port, sessions: () => sessions };
}

async function connect(port: number): Promise<Http2ClientConnection> {
  const conn = await tcpConnector().serve(connectRequest(`127.0.0.1:${port}`));
  const client = await clientConnection(conn);
  cleanups.push(() => client.destroy());
  return client;
}

/** Prior knowledge never reaches HTTP/1: a factory that fails loudly if it does. */
const noHttp1: ClientConnectionFactory = () => {
  throw new Error("HTTP/1 was not expected");
};

describe("http2 client against node:http2", () => {
  it("GET and POST with bodies, headers and status intact", async () => {
    const { port } = await nodeServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        res.setHeader("x-method", req.method);
        res.setHeader("x-path", req.url);
        res.setHeader("x-authority", req.headers[":authority"] ?? "");
        res.statusCode = req.method === "POST" ? 201 : 200;
        res.end(`got ${Buffer.concat(chunks).length} bytes`);
      });
    });
    const client = await connect(port);
    const get = await client.serve(Request.get(`http://127.0.0.1:${port}/a?b`));
    expect(get.status).toBe(200);
    expect(get.headers.get("x-path")).toBe("/a?b");
    expect(get.headers.get("x-authority")).toBe(`127.0.0.1:${port}`);
    expect(await get.body.text()).toBe("got 0 bytes");
    const post = await client.serve(Request.post(`http://127.0.0.1:${port}/`, "x".repeat(100_000)));
    expect(post.status).toBe(201);
    expect(post.headers.get("x-method")).toBe("POST");
    expect(await post.body.text()).toBe("got 100000 bytes");
  });

  it("200 concurrent requests through the pool share one connection", async () => {
    const { port, sessions } = await nodeServer((req, res) => {
      setTimeout(() => res.end(req.url), 5);
    });
    const client = httpClient({ http1: noHttp1, http2: clientConnection, http2PriorKnowledge: true });
    cleanups.push(() => client.close());
    const bodies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        client.get(`http://127.0.0.1:${port}/${i}`).then((r) => r.body.text()),
      ),
    );
    expect(bodies).toEqual(Array.from({ length: 200 }, (_, i) => `/${i}`));
    // A multiplexed route opens one connection at a time: the first one carried everything.
    expect(sessions()).toBe(1);
    expect(client.stats()).toMatchObject({ connections: 1, waiting: 0 });
  });

  it("past the server's MAX_CONCURRENT_STREAMS the pool opens another connection, one at a time", async () => {
    const { port, sessions } = await nodeServer(
      (req, res) => {
        setTimeout(() => res.end(req.url), 20);
      },
      { settings: { maxConcurrentStreams: 50 } },
    );
    const client = httpClient({ http1: noHttp1, http2: clientConnection, http2PriorKnowledge: true });
    cleanups.push(() => client.close());
    const bodies = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        client.get(`http://127.0.0.1:${port}/${i}`).then((r) => r.body.text()),
      ),
    );
    expect(bodies[119]).toBe("/119");
    // 120 requests over connections of 50 streams: 2 or 3 connections (slots free up as responses finish).
    expect(sessions()).toBeGreaterThanOrEqual(2);
    expect(sessions()).toBeLessThanOrEqual(3);
  });

  it("a 5 MiB response streams through flow control", async () => {
    const size = 5 * 1024 * 1024;
    const { port } = await nodeServer((_req, res) => {
      res.end(Buffer.alloc(size, 7));
    });
    const client = await connect(port);
    const res = await client.serve(Request.get(`http://127.0.0.1:${port}/big`));
    const bytes = await res.body.bytes({ limit: size });
    expect(bytes.byteLength).toBe(size);
    expect(bytes.every((b) => b === 7)).toBe(true);
  });

  it("a stream node's server resets fails with the reset code; the connection goes on", async () => {
    const { port } = await nodeServer((req, res) => {
      if (req.url === "/reset") req.stream.close(nodeHttp2.constants.NGHTTP2_INTERNAL_ERROR);
      else res.end("fine");
    });
    const client = await connect(port);
    await expect(client.serve(Request.get(`http://127.0.0.1:${port}/reset`))).rejects.toMatchObject({
      code: "ERR_HTTP2_STREAM_RESET",
      errorName: "INTERNAL_ERROR",
    });
    expect(await (await client.serve(Request.get(`http://127.0.0.1:${port}/`))).body.text()).toBe("fine");
  });
});

describe("http2 client against our server over TCP, through the pool", () => {
  it("prior knowledge: one connection, responses in the right places, trailers kept", async () => {
    const listener = await listen(
      { host: "127.0.0.1", port: 0 },
      server(service((req: Request) => Response.text(`you asked for ${req.target}`))),
    );
    cleanups.push(async () => {
      await listener.close();
    });
    const client = httpClient({ http1: noHttp1, http2: clientConnection, http2PriorKnowledge: true });
    cleanups.push(() => client.close());
    const port = listener.address.port;
    const texts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.get(`http://127.0.0.1:${port}/${i}`).then((r) => r.body.text()),
      ),
    );
    expect(texts[7]).toBe("you asked for /7");
    expect(client.stats().connections).toBe(1);
  });
});
