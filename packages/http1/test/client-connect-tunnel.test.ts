import net from "node:net";
import { AbortedError, appendSignal, Extensions, stack, TimeoutError } from "@tessera/core";
import { HttpProxy, Request } from "@tessera/http";
import { ConnectTarget, connectRequest, tcpConnector } from "@tessera/net";
import { afterEach, describe, expect, it } from "vitest";
import { clientConnection, httpConnect, ProxyAuthRequiredError, ProxyConnectError } from "../src/index.js";
import { type StandInProxy, standInProxy } from "./support/client-proxy.js";
import { nodeServer, rawServer, type TestServer } from "./support/client-servers.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function origin(): Promise<TestServer> {
  const server = await nodeServer((req, res) => res.end(`origin saw ${req.method} ${req.url}`));
  cleanups.push(() => server.close());
  return server;
}

async function proxy(options?: { authorization?: string }): Promise<StandInProxy> {
  const p = await standInProxy(options);
  cleanups.push(() => p.close());
  return p;
}

describe("httpConnect: a connector layer through an HTTP proxy", () => {
  it("opens a tunnel and runs HTTP/1.1 over it; the connection records the target and the proxy", async () => {
    const server = await origin();
    const p = await proxy();
    const connector = stack(httpConnect({ proxy: `127.0.0.1:${p.port}` })).into(tcpConnector());
    const tunnel = await connector.serve(connectRequest(`127.0.0.1:${server.port}`));
    cleanups.push(() => tunnel.stream.destroy());
    expect(p.connects).toEqual([`127.0.0.1:${server.port}`]);
    expect(tunnel.extensions.get(ConnectTarget)).toEqual({ host: "127.0.0.1", port: server.port });
    expect(tunnel.extensions.getAll(ConnectTarget)[0]).toEqual({ host: "127.0.0.1", port: p.port });
    expect(tunnel.extensions.get(HttpProxy)).toEqual({
      authority: { host: "127.0.0.1", port: p.port },
      mode: "tunnel",
    });
    const h1 = clientConnection(tunnel);
    for (let i = 0; i < 2; i++) {
      const res = await h1.serve(Request.get(`http://127.0.0.1:${server.port}/x${i}`));
      expect(await res.body.text()).toBe(`origin saw GET /x${i}`);
    }
    expect(server.accepted()).toBe(1);
    h1.close();
  });

  it("sends Basic credentials; a 407 is ERR_HTTP1_PROXY_AUTH_REQUIRED with the challenge", async () => {
    const server = await origin();
    const p = await proxy({ authorization: "Basic dTpw" }); // u:p
    const good = stack(httpConnect({ proxy: `127.0.0.1:${p.port}`, username: "u", password: "p" })).into(
      tcpConnector(),
    );
    const tunnel = await good.serve(connectRequest(`127.0.0.1:${server.port}`));
    tunnel.stream.destroy();
    expect(p.credentials).toEqual(["Basic dTpw"]);

    const bad = stack(httpConnect({ proxy: `127.0.0.1:${p.port}`, username: "u", password: "wrong" })).into(
      tcpConnector(),
    );
    const error = await bad.serve(connectRequest(`127.0.0.1:${server.port}`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyAuthRequiredError);
    expect(error).toMatchObject({
      code: "ERR_HTTP1_PROXY_AUTH_REQUIRED",
      status: 407,
      proxyAuthenticate: 'Basic realm="test"',
    });
    expect(error).toBeInstanceOf(ProxyConnectError);
  });

  it("a proxy that cannot reach the target answers 502: ERR_HTTP1_PROXY_CONNECT_FAILED with the status", async () => {
    const p = await proxy();
    const closedPort = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const connector = stack(httpConnect({ proxy: `127.0.0.1:${p.port}` })).into(tcpConnector());
    await expect(connector.serve(connectRequest(`127.0.0.1:${closedPort}`))).rejects.toMatchObject({
      code: "ERR_HTTP1_PROXY_CONNECT_FAILED",
      status: 502,
    });
  });

  it("replays bytes that came right after the proxy's answer", async () => {
    const fake = await rawServer((socket) => socket.write("HTTP/1.1 200 OK\r\n\r\nearly bytes"));
    cleanups.push(() => fake.close());
    const connector = stack(httpConnect({ proxy: `127.0.0.1:${fake.port}` })).into(tcpConnector());
    const tunnel = await connector.serve(connectRequest("example.com:443"));
    cleanups.push(() => tunnel.stream.destroy());
    tunnel.stream.setEncoding("latin1");
    const first = await new Promise<string>((resolve) => tunnel.stream.once("data", resolve));
    expect(first).toBe("early bytes");
  });

  it("writes the request as the RFC says: authority form, Host, credentials, extra headers", async () => {
    let seen = "";
    const fake = await rawServer((socket, _i, head) => {
      seen = head;
      socket.write("HTTP/1.1 200 OK\r\n\r\n");
    });
    cleanups.push(() => fake.close());
    const connector = stack(
      httpConnect({
        proxy: { host: "127.0.0.1", port: fake.port },
        username: "a",
        password: "b",
        headers: [["User-Agent", "tessera-test"]],
      }),
    ).into(tcpConnector());
    const tunnel = await connector.serve(connectRequest("[::1]:8443"));
    tunnel.stream.destroy();
    expect(seen).toBe(
      "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\nProxy-Authorization: Basic YTpi\r\nUser-Agent: tessera-test\r\n\r\n",
    );
  });

  it("fails with status 0 on a close or a broken answer, and obeys timeout and cancellation", async () => {
    const closes = await rawServer((socket) => socket.destroy());
    const garbage = await rawServer((socket) => socket.write("SSH-2.0-OpenSSH\r\n\r\n"));
    const silent = await rawServer(() => {});
    cleanups.push(
      () => closes.close(),
      () => garbage.close(),
      () => silent.close(),
    );
    const via = (port: number, timeout?: number) =>
      stack(httpConnect({ proxy: `127.0.0.1:${port}`, timeout })).into(tcpConnector());
    await expect(via(closes.port).serve(connectRequest("a.example:80"))).rejects.toMatchObject({
      code: "ERR_HTTP1_PROXY_CONNECT_FAILED",
      status: 0,
    });
    await expect(via(garbage.port).serve(connectRequest("a.example:80"))).rejects.toMatchObject({
      code: "ERR_HTTP1_PROXY_CONNECT_FAILED",
      status: 0,
    });
    await expect(via(silent.port, 50).serve(connectRequest("a.example:80"))).rejects.toBeInstanceOf(
      TimeoutError,
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(new AbortedError("cancelled")), 30);
    const request = connectRequest("a.example:80", appendSignal(new Extensions(), controller.signal));
    await expect(via(silent.port).serve(request)).rejects.toBeInstanceOf(AbortedError);
    await silent.drained();
    expect(silent.open()).toBe(0);
  });
});
