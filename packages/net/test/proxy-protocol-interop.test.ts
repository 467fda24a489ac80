import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { service, stack } from "@tessera/core";
import { afterEach, describe, expect, it } from "vitest";
import { curl } from "../../../test-support/curl.js";
import { peer } from "../../../test-support/peers.js";
import {
  type Conn,
  connectRequest,
  type InetSocketAddress,
  type Listener,
  LocalAddr,
  listen,
  PeerAddr,
  ProxiedClientAddr,
  ProxiedDestAddr,
  ProxyProtocolHeader,
  proxyProtocol,
  proxyProtocolConnector,
  type SocketAddress,
  tcpConnector,
} from "../src/index.js";
import { delay, until } from "./helpers.js";

// Real peers that speak the PROXY protocol to our server layer: curl (`--haproxy-protocol`, v1) and HAProxy 2.6
// (`send-proxy-v2` with CRC32C, UNIQUE_ID, and from a TLS frontend the SSL, ALPN and AUTHORITY TLVs; its
// health checks send LOCAL).

const fixtures = new URL("./fixtures/", import.meta.url);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Our server: strict PROXY protocol, then a tiny line service that answers "ok" to whatever came first. */
async function ourServer(): Promise<{
  port: number;
  conns: Conn[];
  data: string[];
  firstOf: Map<Conn, string>;
}> {
  const conns: Conn[] = [];
  const data: string[] = [];
  const firstOf = new Map<Conn, string>();
  const inner = service(async (conn: Conn) => {
    conns.push(conn);
    const first = await new Promise<string>((resolve) => {
      let text = "";
      conn.stream.on("data", (chunk: Buffer) => {
        text += chunk.toString("latin1");
        // An HTTP request (curl) ends with a blank line; anything else is answered at its first chunk.
        if (!text.startsWith("GET ") || text.includes("\r\n\r\n")) resolve(text);
      });
      conn.stream.on("end", () => resolve(text));
    });
    data.push(first);
    firstOf.set(conn, first);
    const body = "ok";
    conn.stream.end(
      first.startsWith("GET ")
        ? `HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n${body}`
        : body,
    );
  });
  const listener: Listener<InetSocketAddress> = await listen(
    { host: "127.0.0.1", port: 0 },
    stack(proxyProtocol({ timeout: 5_000 })).into(inner),
    // Readiness probes through HAProxy leave at once, so some connections reject (no header, cut short): quiet.
    { onError: () => {} },
  );
  cleanups.push(() => listener.close({ timeout: 1_000 }).then(() => undefined));
  return { port: listener.address.port, conns, data, firstOf };
}

/** A port nothing listens on right now (HAProxy needs a number; it cannot report an ephemeral one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Run HAProxy in the foreground with `config`, wait until `ports` accept, stop it by PID afterwards. */
async function haproxy(config: string, ports: number[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tessera-haproxy-"));
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, config);
  const child: ChildProcess = spawn("haproxy", ["-f", file, "-db"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, delay(2_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 10_000;
  for (const port of ports) {
    while (!(await canConnect(port))) {
      if (child.exitCode !== null) throw new Error(`haproxy exited: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`haproxy did not listen on ${port}: ${stderr}`);
      await delay(25);
    }
  }
}

/**
 * Our server behind HAProxy: `frontend` and `backend` are the config lines after `bind 127.0.0.1:PORT` and
 * after `server ours 127.0.0.1:PORT` respectively, so each test states only what it is about.
 */
async function behindHaproxy(
  frontend: { bind?: string; lines?: string },
  backend: { server: string; lines?: string },
) {
  const server = await ourServer();
  const front = await freePort();
  await haproxy(
    `${defaults}
frontend fe
  bind 127.0.0.1:${front} ${frontend.bind ?? ""}
  ${frontend.lines ?? ""}
  default_backend be
backend be
  ${backend.lines ?? ""}
  server ours 127.0.0.1:${server.port} ${backend.server}
`,
    [front],
  );
  return { server, front };
}

/** The connection HAProxy made for the client on `clientPort` (our readiness probes went through it too). */
function connFor(conns: Conn[], clientPort: number): Conn {
  const conn = conns.find((c) => portOf(c.extensions.get(ProxiedClientAddr)) === clientPort);
  expect(conn, `a connection for client port ${clientPort}`).toBeDefined();
  expect(conn!.extensions.get(ProxiedClientAddr)).toEqual({
    family: "IPv4",
    host: "127.0.0.1",
    port: clientPort,
  });
  return conn!;
}

const defaults = `global
  maxconn 100
defaults
  mode tcp
  timeout connect 2s
  timeout client 10s
  timeout server 10s
`;

function portOf(address: SocketAddress | undefined): number | undefined {
  return address?.family === "unix" ? undefined : address?.port;
}

/** Send `text`, read until the other side closes. */
function exchange(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = "";
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString();
    });
    socket.once("error", reject);
    socket.once("close", () => resolve(reply));
    socket.write(text);
  });
}

describe("PROXY protocol interop", () => {
  it("curl --haproxy-protocol (v1): the recorded client is curl's own socket address", async () => {
    if (!peer("curl")) return;
    const server = await ourServer();
    const { stdout, stderr, code } = await curl("--haproxy-protocol", `http://127.0.0.1:${server.port}/x`);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toBe("ok");
    const conn = server.conns[0]!;
    expect(conn.extensions.get(ProxyProtocolHeader)).toMatchObject({
      version: 1,
      command: "proxy",
      family: "IPv4",
    });
    // curl connects directly, so what it claims must be exactly the socket's two ends.
    expect(conn.extensions.get(ProxiedClientAddr)).toEqual(conn.extensions.get(PeerAddr));
    expect(conn.extensions.get(ProxiedDestAddr)).toEqual(conn.extensions.get(LocalAddr));
    // The request after the header arrived whole.
    expect(server.data[0]).toMatch(/^GET \/x HTTP\/1\.1\r\n/);
  });

  it("HAProxy send-proxy-v2 with CRC32C and UNIQUE_ID: the client behind HAProxy, checksum verified", async () => {
    if (!peer("haproxy")) return;
    const { server, front } = await behindHaproxy(
      { lines: "unique-id-format tessera-%ci-%cp" },
      { server: "send-proxy-v2 proxy-v2-options crc32c,unique-id" },
    );
    const socket = netConnect(front, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    const clientPort = socket.localPort!;
    expect(await exchange(socket, "hello through haproxy")).toBe("ok");
    const conn = connFor(server.conns, clientPort);
    expect(conn.extensions.get(ProxiedDestAddr)).toEqual({ family: "IPv4", host: "127.0.0.1", port: front });
    // The socket's peer is HAProxy's own outgoing connection, not the client.
    expect(conn.extensions.get(PeerAddr)).not.toEqual(conn.extensions.get(ProxiedClientAddr));
    const header = conn.extensions.get(ProxyProtocolHeader)!;
    expect(header).toMatchObject({ version: 2, transport: "stream", crc32c: expect.any(Number) });
    expect(header.uniqueId?.toString()).toBe(`tessera-127.0.0.1-${clientPort}`);
    expect(server.data).toContain("hello through haproxy");
  });

  it("HAProxy terminating TLS with send-proxy-v2-ssl-cn: the SSL, ALPN and AUTHORITY TLVs", async () => {
    if (!peer("haproxy")) return;
    const dir = mkdtempSync(join(tmpdir(), "tessera-haproxy-pem-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const pem = join(dir, "localhost.pem");
    const fixture = (name: string): string => readFileSync(new URL(name, fixtures), "utf8");
    writeFileSync(pem, fixture("localhost-cert.pem") + fixture("localhost-key.pem"));
    const { server, front } = await behindHaproxy(
      { bind: `ssl crt ${pem} alpn h2,http/1.1` },
      { server: "send-proxy-v2-ssl-cn proxy-v2-options crc32c,authority,ssl-cipher,cert-sig,cert-key" },
    );
    const socket = tlsConnect({
      host: "127.0.0.1",
      port: front,
      servername: "localhost",
      ALPNProtocols: ["h2"],
      rejectUnauthorized: false,
    });
    await new Promise((resolve) => socket.once("secureConnect", resolve));
    const clientPort = socket.localPort!;
    const version = socket.getProtocol();
    const cipher = socket.getCipher().standardName;
    expect(await exchange(socket, "hello over tls")).toBe("ok");
    expect(connFor(server.conns, clientPort).extensions.get(ProxyProtocolHeader)).toMatchObject({
      version: 2,
      alpn: "h2",
      authority: "localhost",
      crc32c: expect.any(Number),
      ssl: { ssl: true, certConn: false, verified: false, version, cipher },
    });
    expect(server.data).toContain("hello over tls");
  });

  it("HAProxy health checks over send-proxy-v2 arrive as LOCAL and are served, the check's bytes intact", async () => {
    // A tcp-check that sends and expects an answer: a bare connect-and-reset check is often gone before the
    // listener accepts it (the listener drops connections whose peer already left).
    if (!peer("haproxy")) return;
    const { server } = await behindHaproxy(
      {},
      {
        server: "send-proxy-v2 check inter 100",
        lines: "timeout check 2s\n  option tcp-check\n  tcp-check send ping\\n\n  tcp-check expect string ok",
      },
    );
    const isLocal = (c: Conn): boolean => c.extensions.get(ProxyProtocolHeader)?.command === "local";
    const deadline = Date.now() + 10_000;
    while (!server.conns.some(isLocal)) {
      if (Date.now() > deadline) throw new Error("no LOCAL health check arrived");
      await delay(20);
    }
    const check = server.conns.find(isLocal)!;
    expect(check.extensions.has(ProxiedClientAddr)).toBe(false);
    await until(() => server.firstOf.has(check));
    expect(server.firstOf.get(check)).toBe("ping\n");
  });

  it.each([1, 2] as const)(
    "our proxyProtocolConnector (v%i) into HAProxy's accept-proxy: HAProxy takes our client as its own",
    async (version) => {
      if (!peer("haproxy")) return;
      // HAProxy parses what we send (checking the CRC32C), then speaks for that client to our server layer.
      const { server, front } = await behindHaproxy({ bind: "accept-proxy" }, { server: "send-proxy-v2" });
      const claimed = { family: "IPv4", host: "192.0.2.44", port: 4444 } as const;
      const connector = stack(
        proxyProtocolConnector({
          version,
          header: {
            source: claimed,
            destination: { family: "IPv4", host: "127.0.0.1", port: front },
            ...(version === 2 ? { authority: "example.com", uniqueId: "id-1", crc32c: true } : {}),
          },
        }),
      ).into(tcpConnector());
      const conn = await connector.serve(connectRequest(`127.0.0.1:${front}`));
      conn.stream.end("hello from a claimed client");
      let reply = "";
      for await (const chunk of conn.stream) reply += chunk;
      expect(reply).toBe("ok");
      const seen = server.conns.find((c) => server.firstOf.get(c) === "hello from a claimed client");
      expect(seen?.extensions.get(ProxiedClientAddr)).toEqual(claimed);
      expect(seen?.extensions.get(ProxiedDestAddr)).toEqual({
        family: "IPv4",
        host: "127.0.0.1",
        port: front,
      });
    },
  );
});
