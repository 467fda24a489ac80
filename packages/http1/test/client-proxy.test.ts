import {
  ConnectionExtensions,
  type HttpClient,
  type HttpClientOptions,
  HttpProxy,
  httpClient,
} from "@tessera/http";
import { ConnectTarget, listen } from "@tessera/net";
import { afterEach, describe, expect, it } from "vitest";
import { clientConnection, forwardProxy, httpConnect, server } from "../src/index.js";
import { type StandInProxy, standInProxy } from "./support/client-proxy.js";
import { nodeServer, type TestServer } from "./support/client-servers.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function origins(): Promise<[TestServer, TestServer]> {
  const make = async (name: string) => {
    const s = await nodeServer((req, res) =>
      res.end(`${name}: ${req.method} ${req.url} host=${req.headers.host}`),
    );
    cleanups.push(() => s.close());
    return s;
  };
  return [await make("a"), await make("b")];
}

async function proxy(authorization?: string): Promise<StandInProxy> {
  const p = await standInProxy({ authorization });
  cleanups.push(() => p.close());
  return p;
}

function client(options: Partial<HttpClientOptions>): HttpClient {
  const c = httpClient({ http1: clientConnection, connectTunnel: httpConnect, ...options });
  cleanups.push(() => c.close());
  return c;
}

describe("httpClient through an HTTP proxy (stand-in on node:http)", () => {
  it("forwards plain http in absolute form over pooled connections to the proxy, with credentials", async () => {
    const [a, b] = await origins();
    const p = await proxy("Basic dTpw");
    const c = client({ proxy: { url: p.url, username: "u", password: "p" } });
    for (let i = 0; i < 3; i++) {
      expect(await (await c.get(a.url(`/x${i}`))).body.text()).toBe(`a: GET /x${i} host=127.0.0.1:${a.port}`);
    }
    const res = await c.get(b.url("/y"));
    expect(await res.body.text()).toBe(`b: GET /y host=127.0.0.1:${b.port}`);
    expect(p.forwarded).toEqual([a.url("/x0"), a.url("/x1"), a.url("/x2"), b.url("/y")]);
    expect(p.credentials).toEqual(["Basic dTpw", "Basic dTpw", "Basic dTpw", "Basic dTpw"]);
    expect(p.accepted()).toBe(1); // one kept-alive connection to the proxy served both origins
    expect(res.extensions.get(ConnectionExtensions)?.get(HttpProxy)?.mode).toBe("forward");
  });

  it("a forward proxy's 407 is an ordinary response", async () => {
    const [a] = await origins();
    const p = await proxy("Basic dTpw");
    const c = client({ proxy: p.url });
    const res = await c.get(a.url("/"));
    expect(res.status).toBe(407);
    expect(res.headers.get("proxy-authenticate")).toBe('Basic realm="test"');
  });

  it("tunnels plain http with CONNECT when asked: one tunnel per origin, reused", async () => {
    const [a, b] = await origins();
    const p = await proxy("Basic dTpw");
    const c = client({ proxy: { url: p.url, username: "u", password: "p", tunnel: true } });
    for (let i = 0; i < 3; i++) {
      expect(await (await c.get(a.url(`/t${i}`))).body.text()).toBe(`a: GET /t${i} host=127.0.0.1:${a.port}`);
    }
    const res = await c.get(b.url("/"));
    await res.body.text();
    expect(p.connects).toEqual([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
    expect(p.forwarded).toEqual([]);
    expect(a.accepted()).toBe(1);
    const connExt = res.extensions.get(ConnectionExtensions)!;
    expect(connExt.get(HttpProxy)?.mode).toBe("tunnel");
    expect(connExt.get(ConnectTarget)).toEqual({ host: "127.0.0.1", port: b.port });
  });

  it("a tunnel the proxy refuses fails the request with ERR_HTTP1_PROXY_AUTH_REQUIRED", async () => {
    const [a] = await origins();
    const p = await proxy("Basic dTpw");
    const c = client({ proxy: { url: p.url, tunnel: true } });
    await expect(c.get(a.url("/"))).rejects.toMatchObject({
      code: "ERR_HTTP1_PROXY_AUTH_REQUIRED",
      status: 407,
    });
    expect(c.stats().connections).toBe(0);
  });
});

describe("httpClient through Tessera's own forward proxy (server(forwardProxy()))", () => {
  async function tesseraProxy(auth?: { username: string; password: string }) {
    const listener = await listen({ host: "127.0.0.1", port: 0 }, server(forwardProxy({ auth })));
    cleanups.push(() => listener.close({ timeout: 1_000 }));
    return { url: `http://127.0.0.1:${listener.address.port}`, listener };
  }

  it("forwards plain http in absolute form, keeping the client's connection to the proxy alive", async () => {
    const [a, b] = await origins();
    const p = await tesseraProxy({ username: "u", password: "p" });
    const c = client({ proxy: { url: p.url, username: "u", password: "p" } });
    for (let i = 0; i < 3; i++) {
      const res = await c.get(a.url(`/f${i}`));
      expect(await res.body.text()).toBe(`a: GET /f${i} host=127.0.0.1:${a.port}`);
      expect(res.headers.get("via")).toContain("tessera");
    }
    expect(await (await c.get(b.url("/g"))).body.text()).toBe(`b: GET /g host=127.0.0.1:${b.port}`);
    expect(p.listener.accepted).toBe(1);
    const denied = client({ proxy: p.url });
    expect((await denied.get(a.url("/"))).status).toBe(407);
  });

  it("tunnels with CONNECT and reuses each tunnel", async () => {
    const [a] = await origins();
    const p = await tesseraProxy({ username: "u", password: "p" });
    const c = client({ proxy: { url: p.url, username: "u", password: "p", tunnel: true } });
    for (let i = 0; i < 3; i++) {
      expect(await (await c.get(a.url(`/t${i}`))).body.text()).toBe(`a: GET /t${i} host=127.0.0.1:${a.port}`);
    }
    expect(a.accepted()).toBe(1);
    expect(p.listener.accepted).toBe(1);
    const denied = client({ proxy: { url: p.url, tunnel: true } });
    await expect(denied.get(a.url("/"))).rejects.toMatchObject({ code: "ERR_HTTP1_PROXY_AUTH_REQUIRED" });
  });
});
