import net from "node:net";
import { abortReason, type Service, service, signalOf } from "@tessera/core";
import { Body, HeaderMap, type Request, Response } from "@tessera/http";
import type { Conn, ConnectRequest } from "@tessera/net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendVia, forwardProxy, isHopByHop, withoutHopByHop } from "../src/index.js";
import { header, parseResponses, rawExchange, tcpServer } from "./support/server-harness.js";

interface Seen {
  method: string;
  target: string;
  headers: [string, string][];
  body: string;
}

const seen: Seen[] = [];
const origin = service(async (req: Request) => {
  const body = await req.body.text();
  seen.push({ method: req.method, target: req.target, headers: req.headers.toJSON(), body });
  if (req.path === "/stream") {
    async function* parts() {
      yield "streamed ";
      yield "back";
    }
    return new Response(200, HeaderMap.fromPairs([["X-Origin", "yes"]]), Body.fromIterable(parts()));
  }
  return Response.text(`origin got ${req.method} ${req.target} ${body}`);
});

/** An origin that answers raw bytes, with hop-by-hop fields our own server would never send. */
function rawOrigin(): Promise<{ port: number; close(): void }> {
  const s = net.createServer((c) => {
    c.on("error", () => {});
    c.once("data", () =>
      c.end(
        "HTTP/1.1 200 OK\r\nConnection: X-Private, close\r\nX-Private: hop\r\nKeep-Alive: timeout=5\r\n" +
          "Proxy-Authenticate: Basic\r\nX-Public: end-to-end\r\nContent-Length: 2\r\n\r\nok",
      ),
    );
  });
  return new Promise((resolve) =>
    s.listen(0, "127.0.0.1", () =>
      resolve({ port: (s.address() as net.AddressInfo).port, close: () => s.close() }),
    ),
  );
}

/** A TCP echo server (a tunnel target). */
function echoServer(): Promise<{ port: number; close(): void }> {
  const s = net.createServer((c) => {
    c.on("error", () => {});
    c.pipe(c);
  });
  return new Promise((resolve) =>
    s.listen(0, "127.0.0.1", () =>
      resolve({ port: (s.address() as net.AddressInfo).port, close: () => s.close() }),
    ),
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe("forward proxy", () => {
  let originSrv: Awaited<ReturnType<typeof tcpServer>>;
  let proxy: Awaited<ReturnType<typeof tcpServer>>;
  let authProxy: Awaited<ReturnType<typeof tcpServer>>;
  let echo: Awaited<ReturnType<typeof echoServer>>;
  const proxyErrors: Error[] = [];
  beforeAll(async () => {
    originSrv = await tcpServer(origin);
    proxy = await tcpServer(forwardProxy({ onError: (e) => proxyErrors.push(e) }));
    authProxy = await tcpServer(
      forwardProxy({ auth: { username: "alice", password: "s3cret" }, realm: "test" }),
    );
    echo = await echoServer();
  });
  afterAll(async () => {
    await Promise.all([originSrv.close(), proxy.close(), authProxy.close()]);
    echo.close();
  });

  it("forwards an absolute-form request without hop-by-hop fields, with Host from the target and Via both ways", async () => {
    seen.length = 0;
    const target = `http://127.0.0.1:${originSrv.port}/path?q=1`;
    const request =
      `GET ${target} HTTP/1.1\r\nHost: wrong.example\r\nProxy-Connection: keep-alive\r\nConnection: X-Hop\r\n` +
      "X-Hop: secret\r\nKeep-Alive: 300\r\nTE: trailers\r\nUpgrade: foo\r\nProxy-Authorization: Basic eDp5\r\n" +
      "Via: 1.0 earlier\r\nX-Keep: me\r\n\r\n" +
      `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`;
    const { bytes } = await rawExchange(proxy.port, request);
    const { responses } = parseResponses(bytes, ["GET", "GET"]);
    expect(responses).toHaveLength(2);
    const res = responses[0]!;
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe("origin got GET /path?q=1 ");
    expect(header(res, "via")).toBe("1.1 tessera");
    const got = seen[0]!;
    expect(got.target).toBe("/path?q=1");
    const sent = new Map(got.headers.map(([n, v]) => [n.toLowerCase(), v]));
    expect(sent.get("host")).toBe(`127.0.0.1:${originSrv.port}`);
    for (const hop of ["proxy-connection", "x-hop", "keep-alive", "te", "upgrade", "proxy-authorization"]) {
      expect(sent.has(hop)).toBe(false);
    }
    expect(got.headers.filter(([n]) => n === "Via").map(([, v]) => v)).toEqual([
      "1.0 earlier",
      "1.1 tessera",
    ]);
    expect(sent.get("x-keep")).toBe("me");
  });

  it("removes the hop-by-hop fields of the origin's response", async () => {
    const raw = await rawOrigin();
    try {
      const { bytes } = await rawExchange(
        proxy.port,
        `GET http://127.0.0.1:${raw.port}/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
      );
      const res = parseResponses(bytes, ["GET"]).responses[0]!;
      expect(res.body.toString()).toBe("ok");
      const names = res.headers.map(([n]) => n.toLowerCase());
      for (const hop of ["x-private", "keep-alive", "proxy-authenticate"]) expect(names).not.toContain(hop);
      expect(header(res, "x-public")).toBe("end-to-end");
      expect(header(res, "via")).toBe("1.1 tessera");
    } finally {
      raw.close();
    }
  });

  it("streams request and response bodies through (chunked both ways)", async () => {
    seen.length = 0;
    const request =
      `POST http://127.0.0.1:${originSrv.port}/stream HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n` +
      "Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    const { bytes } = await rawExchange(proxy.port, request);
    const { responses } = parseResponses(bytes, ["POST"]);
    expect(responses[0]!.body.toString()).toBe("streamed back");
    expect(header(responses[0]!, "x-origin")).toBe("yes");
    expect(header(responses[0]!, "transfer-encoding")).toBe("chunked");
    expect(seen[0]!.body).toBe("hello world");
  });

  it("HEAD keeps the origin's Content-Length", async () => {
    const { bytes } = await rawExchange(
      proxy.port,
      `HEAD http://127.0.0.1:${originSrv.port}/h HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
    );
    const { responses } = parseResponses(bytes, ["HEAD"]);
    expect(header(responses[0]!, "content-length")).toBe(String("origin got HEAD /h ".length));
    expect(responses[0]!.body.length).toBe(0);
  });

  it("CONNECT opens a tunnel once the upstream is connected, with bytes sent early replayed", async () => {
    const { bytes } = await rawExchange(
      proxy.port,
      `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n\r\nping through the tunnel`,
      { end: true },
    );
    const text = bytes.toString("latin1");
    expect(text).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n/);
    expect(text.endsWith("\r\n\r\nping through the tunnel")).toBe(true);
  });

  it("CONNECT answers 502 when the upstream refuses, 504 when connecting times out, 400 for a bad target", async () => {
    const port = await freePort();
    const refused = parseResponses(
      (await rawExchange(proxy.port, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: x\r\n\r\n`)).bytes,
      ["CONNECT"],
    ).responses;
    expect(refused.map((r) => r.status)).toEqual([502]);
    expect(header(refused[0]!, "connection")).toBe("close");

    const never: Service<ConnectRequest, Conn> = service(
      (req: ConnectRequest) =>
        new Promise<Conn>((_, reject) =>
          signalOf(req).addEventListener("abort", () => reject(abortReason(signalOf(req)))),
        ),
    );
    const slow = await tcpServer(forwardProxy({ connector: never, connectTimeout: 50 }));
    try {
      const timedOut = parseResponses(
        (await rawExchange(slow.port, "CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n")).bytes,
        ["CONNECT"],
      ).responses;
      expect(timedOut.map((r) => r.status)).toEqual([504]);
      const plain = parseResponses(
        (
          await rawExchange(
            slow.port,
            "GET http://example.com/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
          )
        ).bytes,
        ["GET"],
      ).responses;
      expect(plain.map((r) => r.status)).toEqual([504]);
    } finally {
      await slow.close();
    }
    const bad = parseResponses(
      (await rawExchange(proxy.port, "CONNECT nohost HTTP/1.1\r\nHost: x\r\n\r\n")).bytes,
      ["CONNECT"],
    ).responses;
    expect(bad.map((r) => r.status)).toEqual([400]);
  });

  it("answers 502 when the origin of a plain request cannot be reached", async () => {
    const port = await freePort();
    const { bytes } = await rawExchange(
      proxy.port,
      `GET http://127.0.0.1:${port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    const { responses } = parseResponses(bytes, ["GET"]);
    expect(responses.map((r) => r.status)).toEqual([502]);
    expect(responses[0]!.body.toString()).toContain("ERR_NET_CONNECTION_REFUSED");
  });

  it("requires credentials when configured: 407 with Proxy-Authenticate, then forwards without them", async () => {
    seen.length = 0;
    const target = `http://127.0.0.1:${originSrv.port}/private`;
    const ask = (auth?: string) =>
      rawExchange(
        authProxy.port,
        `GET ${target} HTTP/1.1\r\nHost: a\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ""}Connection: close\r\n\r\n`,
      ).then(({ bytes }) => parseResponses(bytes, ["GET"]).responses[0]!);
    const missing = await ask();
    expect(missing.status).toBe(407);
    expect(header(missing, "proxy-authenticate")).toBe('Basic realm="test", charset="UTF-8"');
    expect((await ask(`Basic ${Buffer.from("alice:wrong").toString("base64")}`)).status).toBe(407);
    expect((await ask("Bearer abc")).status).toBe(407);
    const ok = await ask(`Basic ${Buffer.from("alice:s3cret").toString("base64")}`);
    expect(ok.status).toBe(200);
    expect(seen[0]!.headers.some(([n]) => n.toLowerCase() === "proxy-authorization")).toBe(false);

    const connect = parseResponses(
      (await rawExchange(authProxy.port, `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: x\r\n\r\n`)).bytes,
      ["CONNECT"],
    ).responses;
    expect(connect.map((r) => r.status)).toEqual([407]);
  });

  it("refuses requests that are not for a proxy", async () => {
    const { bytes } = await rawExchange(
      proxy.port,
      "GET /local HTTP/1.1\r\nHost: a\r\n\r\nGET https://example.com/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    expect(parseResponses(bytes, ["GET", "GET"]).responses.map((r) => r.status)).toEqual([400, 501]);
  });
});

describe("hop-by-hop helpers", () => {
  it("removes the fixed list, Proxy-* and what Connection names, keeping order and casing", () => {
    const h = HeaderMap.fromFlat([
      "Accept",
      "*/*",
      "Connection",
      "close, X-A",
      "X-A",
      "1",
      "Proxy-Foo",
      "2",
      "TE",
      "trailers",
      "Trailer",
      "X",
      "Transfer-Encoding",
      "chunked",
      "X-B",
      "3",
    ]);
    expect(withoutHopByHop(h).toJSON()).toEqual([
      ["Accept", "*/*"],
      ["X-B", "3"],
    ]);
    expect(isHopByHop("keep-alive")).toBe(true);
    expect(isHopByHop("x-b")).toBe(false);
    expect(appendVia(new HeaderMap(), "HTTP/1.0", "p").get("via")).toBe("1.0 p");
  });
});
