import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AbortedError,
  appendSignal,
  Extensions,
  key,
  ShutdownError,
  SignalKey,
  signalOf,
  TimeoutError,
} from "@tessera/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type Conn,
  ConnectError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectTarget,
  ConnectTimeoutError,
  connectRequest,
  DnsError,
  InvalidAddressError,
  isConnectError,
  LocalAddr,
  type Lookup,
  listen,
  PeerAddr,
  tcpConnector,
  toConnectError,
  UnreachableError,
  unixConnector,
} from "../src/index.js";
import { connectionEnd } from "../src/listener.js";
import {
  activeResources,
  type Blackhole,
  blackhole,
  collect,
  delay,
  noDelayOf,
  once,
  until,
} from "./helpers.js";

/** A client connected to a local port, destroyed after the test. */
async function dialListener(port: number): Promise<Socket> {
  const socket = createConnection({ host: "127.0.0.1", port });
  socket.on("error", () => {});
  clients.push(socket);
  await once(socket, "connect");
  return socket;
}

const servers: Server[] = [];
const clients: Socket[] = [];
afterEach(async () => {
  for (const socket of clients.splice(0)) socket.destroy();
  await Promise.all(
    servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
});

/** A plain echo server on `host` (port 0 unless given). */
async function echoServer(
  host: string,
  port = 0,
): Promise<{ server: Server; port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    accepted.push(socket);
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port, accepted };
}

/** A port with nothing listening on 127.0.0.1 (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const fixedLookup =
  (...addresses: Array<[string, 4 | 6]>): Lookup =>
  async () =>
    addresses.map(([address, family]) => ({ address, family }));

let hole: Blackhole;
beforeAll(async () => {
  hole = await blackhole("127.0.0.2");
});
afterAll(() => hole.close());

describe("tcpConnector", () => {
  it("connects and returns a Conn with peer, local, target and a lifetime signal", async () => {
    const { port } = await echoServer("127.0.0.1");
    const RequestId = key<string>("test.RequestId");
    const request = connectRequest(`127.0.0.1:${port}`, new Extensions().insert(RequestId, "r-1"));
    const c = await tcpConnector().serve(request);
    clients.push(c.stream as Socket);
    expect(c.extensions.get(PeerAddr)).toEqual({ family: "IPv4", host: "127.0.0.1", port });
    expect(c.extensions.get(LocalAddr)).toMatchObject({ family: "IPv4", host: "127.0.0.1" });
    expect(c.extensions.get(ConnectTarget)).toEqual({ host: "127.0.0.1", port });
    expect(c.extensions.get(RequestId)).toBe("r-1"); // forked from the request
    expect(request.extensions.get(PeerAddr)).toBeUndefined(); // ...which does not see the connection's facts
    const reply = collect(c.stream);
    c.stream.end("round trip");
    expect((await reply).toString()).toBe("round trip");
  });

  it("gives the connection its own signal: the request's signal governs only the connect", async () => {
    const { port } = await echoServer("127.0.0.1");
    const requestScope = new AbortController();
    const request = connectRequest(`127.0.0.1:${port}`, appendSignal(new Extensions(), requestScope.signal));
    const c = await tcpConnector().serve(request);
    requestScope.abort();
    const signal = signalOf(c);
    expect(signal).not.toBe(requestScope.signal);
    expect(signal.aborted).toBe(false);
    expect(c.stream.destroyed).toBe(false);
    c.stream.destroy();
    await once(c.stream, "close");
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(ConnectionClosedError);
  });

  it("sets TCP_NODELAY by default and allows half-open", async () => {
    const { port } = await echoServer("127.0.0.1");
    const c = await tcpConnector().serve(connectRequest(`127.0.0.1:${port}`));
    const socket = c.stream as Socket & { allowHalfOpen: boolean };
    clients.push(socket);
    expect(socket.allowHalfOpen).toBe(true);
    expect(noDelayOf(socket)).toBe(true);
    const plain = await tcpConnector({ noDelay: false }).serve(connectRequest(`127.0.0.1:${port}`));
    clients.push(plain.stream as Socket);
    expect(noDelayOf(plain.stream as Socket)).toBe(false);
  });

  it("maps a refused connection to ConnectionRefusedError with the cause", async () => {
    const port = await closedPort();
    const error = await tcpConnector()
      .serve(connectRequest(`127.0.0.1:${port}`))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect(error).toBeInstanceOf(ConnectError);
    expect(isConnectError(error)).toBe(true);
    const e = error as ConnectionRefusedError;
    expect(e.code).toBe("ERR_NET_CONNECTION_REFUSED");
    expect(e.port).toBe(port);
    expect(e.address).toBe("127.0.0.1");
    expect((e.cause as { code?: string }).code).toBe("ECONNREFUSED");
  });

  it("times out a connect that never completes, destroying the socket and clearing its timers", async () => {
    const before = activeResources();
    const started = Date.now();
    const error = await tcpConnector({ timeout: 150 })
      .serve(connectRequest(`${hole.host}:${hole.port}`))
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect((error as ConnectTimeoutError).code).toBe("ERR_NET_CONNECT_TIMEOUT");
    expect((error as ConnectTimeoutError).timeoutMs).toBe(150);
    await delay(20);
    const after = activeResources();
    expect(after.tcp).toBeLessThanOrEqual(before.tcp);
    expect(after.timers).toBeLessThanOrEqual(before.timers);
  });

  it("counts DNS in the connect timeout", async () => {
    const never: Lookup = () => new Promise(() => {});
    const error = await tcpConnector({ timeout: 50, lookup: never })
      .serve(connectRequest("slow.example:80"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectTimeoutError);
  });

  it("is cancelled by the request's signal: pending sockets destroyed, timers cleared, caller's reason kept", async () => {
    const before = activeResources();
    const controller = new AbortController();
    const request = connectRequest(
      `${hole.host}:${hole.port}`,
      appendSignal(new Extensions(), controller.signal),
    );
    const connecting = tcpConnector({ timeout: 10_000 }).serve(request);
    await delay(50);
    expect(activeResources().tcp).toBeGreaterThan(before.tcp);
    controller.abort(new TimeoutError("caller deadline"));
    const error = await connecting.catch((e: unknown) => e);
    // The caller's own reason, not a connect timeout: the connector's timer did not fire.
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toBe("caller deadline");
    await delay(20);
    const after = activeResources();
    expect(after.tcp).toBeLessThanOrEqual(before.tcp);
    expect(after.timers).toBeLessThanOrEqual(before.timers);
  });

  it("rejects at once when the request's signal already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const request = connectRequest("127.0.0.1:1", appendSignal(new Extensions(), controller.signal));
    await expect(tcpConnector().serve(request)).rejects.toBeInstanceOf(AbortedError);
  });

  it("maps resolver failures to DnsError with the resolver's code", async () => {
    const notFound: Lookup = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.example"), { code: "ENOTFOUND" });
    };
    const error = await tcpConnector({ lookup: notFound })
      .serve(connectRequest("nowhere.example:443"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DnsError);
    expect((error as DnsError).code).toBe("ERR_NET_DNS");
    expect((error as DnsError).dnsCode).toBe("ENOTFOUND");
    expect((error as DnsError).host).toBe("nowhere.example");

    const temporary: Lookup = async () => {
      throw Object.assign(new Error("getaddrinfo EAI_AGAIN"), { code: "EAI_AGAIN" });
    };
    const again = await tcpConnector({ lookup: temporary })
      .serve(connectRequest("flaky.example:443"))
      .catch((e: unknown) => e);
    expect((again as DnsError).dnsCode).toBe("EAI_AGAIN");

    const empty = await tcpConnector({ lookup: fixedLookup() })
      .serve(connectRequest("empty.example:443"))
      .catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(DnsError);
  });

  it("only tries the requested family", async () => {
    const error = await tcpConnector({ family: 6, lookup: fixedLookup(["127.0.0.1", 4]) })
      .serve(connectRequest("v4only.example:80"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DnsError);
    expect((error as DnsError).dnsCode).toBe("ENODATA");
    const literal = await tcpConnector({ family: 6 })
      .serve(connectRequest("127.0.0.1:80"))
      .catch((e: unknown) => e);
    expect(literal).toBeInstanceOf(UnreachableError);
  });

  it("rejects an invalid host before doing anything", async () => {
    const request = connectRequest({ host: "bad host", port: 80 });
    await expect(tcpConnector().serve(request)).rejects.toBeInstanceOf(InvalidAddressError);
    await expect(tcpConnector().serve(connectRequest({ host: "127.1", port: 80 }))).rejects.toMatchObject({
      reason: "invalid-ipv4",
    });
  });

  it("connects to an IPv6 literal (brackets or not)", async () => {
    const { port } = await echoServer("::1");
    const c = await tcpConnector().serve(connectRequest(`[::1]:${port}`));
    clients.push(c.stream as Socket);
    expect(c.extensions.get(PeerAddr)).toEqual({ family: "IPv6", host: "::1", port });
    const c2 = await tcpConnector().serve(connectRequest({ host: "[::1]", port }));
    clients.push(c2.stream as Socket);
    expect(c2.extensions.get(PeerAddr)).toMatchObject({ host: "::1" });
  });

  it("for a listener's connection, the race follows the connection's end without making its signal", async () => {
    const results: unknown[] = [];
    let during: unknown;
    let served: Conn | undefined;
    const listener = await listen(
      { host: "127.0.0.1", port: 0 },
      {
        serve: async (c) => {
          served = c;
          const request = connectRequest(`${hole.host}:${hole.port}`, c.extensions.fork());
          const connecting = tcpConnector({ timeout: 10_000 }).serve(request);
          during = connectionEnd(c.extensions);
          results.push(await connecting.catch((e: unknown) => e));
        },
      },
    );
    const client = await dialListener(listener.address.port);
    await until(() => listener.active === 1);
    await delay(30);
    const before = activeResources();
    await listener.close({ timeout: 0 });
    client.destroy();
    await until(() => results.length === 1);
    // The connect was cancelled with the shutdown, as the signal would have done, yet no signal was made for it.
    expect(during).toBeDefined();
    expect(results[0]).toBeInstanceOf(ShutdownError);
    const signal = signalOf(served!);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(results[0]);
    await delay(20);
    expect(activeResources().tcp).toBeLessThan(before.tcp);
  });

  it("serves a listener end to end: a client reaching a Tessera server", async () => {
    const listener = await listen(
      { host: "127.0.0.1", port: 0 },
      { serve: async (c) => void c.stream.end("hello from the server") },
    );
    try {
      const { host, port } = listener.address; // a TCP listener's address is typed as an IP address
      const c = await tcpConnector().serve(connectRequest({ host, port }));
      expect((await collect(c.stream)).toString()).toBe("hello from the server");
    } finally {
      await listener.close({ timeout: 100 });
    }
  });
});

describe("happy eyeballs", () => {
  it("falls back to IPv4 when only IPv4 listens ([::1, 127.0.0.1])", async () => {
    const { port } = await echoServer("127.0.0.1");
    const connector = tcpConnector({ lookup: fixedLookup(["::1", 6], ["127.0.0.1", 4]) });
    const c = await connector.serve(connectRequest(`dual.example:${port}`));
    clients.push(c.stream as Socket);
    expect(c.extensions.get(PeerAddr)).toEqual({ family: "IPv4", host: "127.0.0.1", port });
    expect(c.extensions.get(ConnectTarget)).toEqual({ host: "dual.example", port });
  });

  it("uses IPv6 when only IPv6 listens", async () => {
    const { port } = await echoServer("::1");
    const connector = tcpConnector({ lookup: fixedLookup(["::1", 6], ["127.0.0.1", 4]) });
    const c = await connector.serve(connectRequest(`dual.example:${port}`));
    clients.push(c.stream as Socket);
    expect(c.extensions.get(PeerAddr)).toEqual({ family: "IPv6", host: "::1", port });
  });

  it("starts the next attempt after the attempt delay when the first hangs, and destroys the loser", async () => {
    // 127.0.0.3:P never answers (full backlog); 127.0.0.1:P does.
    const { port, accepted } = await echoServer("127.0.0.1");
    const slow = await blackhole("127.0.0.3", port);
    try {
      const before = activeResources();
      const connector = tcpConnector({
        attemptDelay: 100,
        lookup: fixedLookup([slow.host, 4], ["127.0.0.1", 4]),
      });
      const started = Date.now();
      const c = await connector.serve(connectRequest(`stagger.example:${port}`));
      const elapsed = Date.now() - started;
      clients.push(c.stream as Socket);
      expect(elapsed).toBeGreaterThanOrEqual(95);
      expect(elapsed).toBeLessThan(1_000);
      expect(c.extensions.get(PeerAddr)).toMatchObject({ host: "127.0.0.1" });
      await until(() => accepted.length === 1);
      await delay(20);
      // The winner and the echo server's side of it; the hanging attempt was destroyed.
      expect(activeResources().tcp).toBe(before.tcp + 2);
    } finally {
      slow.close();
    }
  });

  it("tries one address after another with happyEyeballs: false", async () => {
    const { port } = await echoServer("127.0.0.1");
    const refusedPortHost = "127.0.0.4"; // nothing listens there on this port
    const connector = tcpConnector({
      happyEyeballs: false,
      lookup: fixedLookup([refusedPortHost, 4], ["127.0.0.1", 4]),
    });
    const c = await connector.serve(connectRequest(`seq.example:${port}`));
    clients.push(c.stream as Socket);
    expect(c.extensions.get(PeerAddr)).toMatchObject({ host: "127.0.0.1" });
  });

  it("reports every failed attempt, preferring a refusal over an unreachable family", async () => {
    const port = await closedPort();
    const error = await tcpConnector({ lookup: fixedLookup(["::1", 6], ["127.0.0.1", 4]) })
      .serve(connectRequest(`both-closed.example:${port}`))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionRefusedError);
    const e = error as ConnectionRefusedError;
    expect(e.attempts.map((a) => a.address).sort()).toEqual(["127.0.0.1", "::1"]);
    expect(e.message).toContain("attempts:");
    expect(e.host).toBe("both-closed.example");
  });
});

describe("toConnectError", () => {
  it.each([
    ["ECONNREFUSED", ConnectionRefusedError],
    ["ENETUNREACH", UnreachableError],
    ["EHOSTUNREACH", UnreachableError],
    ["EADDRNOTAVAIL", UnreachableError],
    ["ETIMEDOUT", ConnectTimeoutError],
    ["ENOTFOUND", DnsError],
    ["EAI_AGAIN", DnsError],
    ["EACCES", ConnectError],
  ] as const)("maps %s", (code, type) => {
    const cause = Object.assign(new Error(code), { code });
    const error = toConnectError(cause, { host: "h", port: 1 });
    expect(error).toBeInstanceOf(type);
    expect(error.cause).toBe(cause);
  });

  it("passes Tessera errors through", () => {
    const original = new ConnectTimeoutError("x", 1);
    expect(toConnectError(original)).toBe(original);
  });
});

describe("unixConnector", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("connects to a socket path and records it", async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-net-"));
    const path = join(dir, "echo.sock");
    const server = createServer((socket) => socket.pipe(socket));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const c = await unixConnector({ path }).serve(connectRequest("docker:80"));
    expect(c.extensions.get(PeerAddr)).toEqual({ family: "unix", path });
    expect(c.extensions.get(ConnectTarget)).toEqual({ host: "docker", port: 80 });
    expect(c.extensions.get(SignalKey)?.aborted).toBe(false);
    const reply = collect(c.stream);
    c.stream.end("unix round trip");
    expect((await reply).toString()).toBe("unix round trip");
  });

  it("maps a missing path to a ConnectError caused by ENOENT", async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-net-"));
    const error = await unixConnector({ path: join(dir, "missing.sock") })
      .serve(connectRequest("x:1"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe("ERR_NET_CONNECT");
    expect((error as ConnectError & { cause: { code: string } }).cause.code).toBe("ENOENT");
  });

  it("chooses the path per request and honours cancellation", async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-net-"));
    const controller = new AbortController();
    controller.abort();
    const request = connectRequest("x:1", appendSignal(new Extensions(), controller.signal));
    const base = dir;
    await expect(
      unixConnector({ path: (r) => join(base, `${r.authority.host}.sock`) }).serve(request),
    ).rejects.toBeInstanceOf(AbortedError);
  });
});
