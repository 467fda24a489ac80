import { createSocket } from "node:dgram";
import net from "node:net";
import { appendSignal, Extensions, type Service, stack } from "@tessera/core";
import {
  type Conn,
  ConnectionClosedError,
  ConnectTarget,
  connectRequest,
  Draining,
  LocalAddr,
  memoryConnPair,
  tcpConnector,
} from "@tessera/net";
import { describe, expect, it } from "vitest";
import {
  Command,
  encodeUdpDatagram,
  parseUdpDatagram,
  Reply,
  Socks5AuthError,
  Socks5HandshakeTimeoutError,
  Socks5NoAcceptableMethodError,
  Socks5Proxy,
  Socks5ReplyError,
  Socks5Request,
  Socks5Username,
  socks5Address,
  socks5Bind,
  socks5Connect,
  socks5Handshake,
  socks5Server,
  socks5UdpAssociate,
  staticCredentials,
} from "../src/index.js";
import { closedPort, later, roundTrip, startEcho, startSocks, startUdpEcho } from "./support.js";

/** The server, remembering each connection it serves (to look at its extensions afterwards). */
function recording(seen: Conn[], server: Service<Conn, void>): Service<Conn, void> {
  return {
    serve: (c) => {
      seen.push(c);
      return server.serve(c);
    },
  };
}

describe("client connector", () => {
  it("CONNECT through our server (socks5h): the tunnel carries data; extensions say where it went", async () => {
    const echo = await startEcho();
    const seen: Conn[] = [];
    const upstreams: Conn[] = [];
    const direct = tcpConnector();
    const server = socks5Server({
      connector: {
        serve: async (request) => {
          const upstream = await direct.serve(request);
          upstreams.push(upstream);
          return upstream;
        },
      },
    });
    const { port } = await startSocks({}, recording(seen, server));
    const connector = stack(socks5Connect({ proxy: `127.0.0.1:${port}` })).into(tcpConnector());
    const tunnel = await connector.serve(connectRequest(`localhost:${echo}`));
    later(() => tunnel.stream.destroy());
    expect(await roundTrip(tunnel, "ping")).toBe("ping");
    expect(tunnel.extensions.get(ConnectTarget)).toEqual({ host: "localhost", port: echo });
    const info = tunnel.extensions.get(Socks5Proxy)!;
    expect(info.proxy).toEqual({ host: "127.0.0.1", port });
    // BND is the address the server connected to the target from.
    const local = upstreams[0]!.extensions.get(LocalAddr);
    if (local === undefined || local.family === "unix") throw new Error("the upstream has no IP LocalAddr");
    expect(info.bound).toEqual({ type: "ipv4", host: local.host, port: local.port });
    // socks5h: the server was given the name, not an address.
    expect(seen[0]!.extensions.get(Socks5Request)).toEqual({
      command: "connect",
      target: { host: "localhost", port: echo },
    });
  });

  it("local resolution (socks5): the server is given an IP address", async () => {
    const echo = await startEcho();
    const seen: Conn[] = [];
    const server = socks5Server();
    const { port } = await startSocks({}, recording(seen, server));
    const connector = stack(
      socks5Connect({
        proxy: { host: "127.0.0.1", port },
        resolve: "local",
        lookup: async () => [{ address: "127.0.0.1", family: 4 }],
      }),
    ).into(tcpConnector());
    const tunnel = await connector.serve(connectRequest(`echo.test:${echo}`));
    later(() => tunnel.stream.destroy());
    expect(await roundTrip(tunnel, "x")).toBe("x");
    expect(seen[0]!.extensions.get(Socks5Request)!.target).toEqual({ host: "127.0.0.1", port: echo });
  });

  it("username/password: right credentials pass and are recorded; wrong ones are Socks5AuthError", async () => {
    const echo = await startEcho();
    const seen: Conn[] = [];
    const server = socks5Server({ authenticate: staticCredentials({ alice: "s3cret" }) });
    const { port } = await startSocks({}, recording(seen, server));
    const good = stack(
      socks5Connect({ proxy: `127.0.0.1:${port}`, username: "alice", password: "s3cret" }),
    ).into(tcpConnector());
    const tunnel = await good.serve(connectRequest(`127.0.0.1:${echo}`));
    later(() => tunnel.stream.destroy());
    expect(await roundTrip(tunnel, "ok")).toBe("ok");
    expect(seen[0]!.extensions.get(Socks5Username)).toBe("alice");
    const bad = stack(socks5Connect({ proxy: `127.0.0.1:${port}`, username: "alice", password: "x" })).into(
      tcpConnector(),
    );
    await expect(bad.serve(connectRequest(`127.0.0.1:${echo}`))).rejects.toBeInstanceOf(Socks5AuthError);
    const none = stack(socks5Connect({ proxy: `127.0.0.1:${port}` })).into(tcpConnector());
    await expect(none.serve(connectRequest(`127.0.0.1:${echo}`))).rejects.toBeInstanceOf(
      Socks5NoAcceptableMethodError,
    );
  });

  it("a failure reply is a Socks5ReplyError with the code", async () => {
    const { port } = await startSocks();
    const connector = stack(socks5Connect({ proxy: `127.0.0.1:${port}` })).into(tcpConnector());
    const error = await connector.serve(connectRequest(`127.0.0.1:${await closedPort()}`)).catch((e) => e);
    expect(error).toBeInstanceOf(Socks5ReplyError);
    expect((error as Socks5ReplyError).reply).toBe(Reply.ConnectionRefused);
    expect((error as Socks5ReplyError).code).toBe("ERR_SOCKS5_REPLY");
  });

  it("proxies chain: client -> A -> B -> target, and B's failure code reaches the client through A", async () => {
    const echo = await startEcho();
    const b = await startSocks({ authenticate: staticCredentials({ bob: "pw" }) });
    // A's egress is itself a SOCKS5 client of B.
    const a = await startSocks({
      connector: stack(socks5Connect({ proxy: `127.0.0.1:${b.port}`, username: "bob", password: "pw" })).into(
        tcpConnector(),
      ),
    });
    const viaA = stack(socks5Connect({ proxy: `127.0.0.1:${a.port}` })).into(tcpConnector());
    const tunnel = await viaA.serve(connectRequest(`127.0.0.1:${echo}`));
    later(() => tunnel.stream.destroy());
    expect(await roundTrip(tunnel, "chained")).toBe("chained");
    // The layer chains in one client too: client -> A -> B, each hop a layer.
    const twoHops = stack(
      socks5Connect({ proxy: `127.0.0.1:${b.port}`, username: "bob", password: "pw" }),
      socks5Connect({ proxy: `127.0.0.1:${a.port}` }),
    ).into(tcpConnector());
    const t2 = await twoHops.serve(connectRequest(`127.0.0.1:${echo}`));
    later(() => t2.stream.destroy());
    expect(await roundTrip(t2, "two")).toBe("two");
    const refused = await viaA.serve(connectRequest(`127.0.0.1:${await closedPort()}`)).catch((e) => e);
    expect((refused as Socks5ReplyError).reply).toBe(Reply.ConnectionRefused);
  });

  it("runs over an in-memory pair, with no socket", async () => {
    const [client, server] = memoryConnPair();
    const upstream = memoryConnPair();
    const served = socks5Server({ connector: { serve: async () => upstream[0] } }).serve(server);
    const connector = stack(socks5Connect({ proxy: "proxy.test:1080" })).into({ serve: async () => client });
    const tunnel = await connector.serve(connectRequest("target.test:80"));
    upstream[1].stream.on("data", (d: Buffer) => upstream[1].stream.write(`<${d}>`));
    expect(await roundTrip(tunnel, "mem")).toBe("<mem>");
    tunnel.stream.end();
    upstream[1].stream.end();
    await served;
  });

  it("a request read while the listener drains gets 01", async () => {
    const [client, server] = memoryConnPair({
      serverExtensions: new Extensions().insert(Draining, AbortSignal.abort()),
    });
    const served = socks5Server()
      .serve(server)
      .catch((e) => e);
    const connector = stack(socks5Connect({ proxy: "p.test:1" })).into({ serve: async () => client });
    const error = await connector.serve(connectRequest("t.test:80")).catch((e) => e);
    expect((error as Socks5ReplyError).reply).toBe(Reply.GeneralFailure);
    expect(((await served) as Error).name).toBe("ShutdownError");
  });
});

describe("client handshake failures", () => {
  /** A connector whose "proxy" is the other end of a memory pair, driven by `proxy`. */
  function fakeProxy(proxy: (stream: Conn["stream"]) => void) {
    const [client, server] = memoryConnPair();
    proxy(server.stream);
    later(() => server.stream.destroy());
    return { serve: async () => client };
  }

  it("a proxy that never answers: Socks5HandshakeTimeoutError, and the connection is ended", async () => {
    let closed = false;
    const connector = stack(socks5Connect({ proxy: "p.test:1", timeout: 50 })).into(
      fakeProxy((s) => {
        s.resume();
        s.on("end", () => {
          closed = true;
        });
      }),
    );
    const error = await connector.serve(connectRequest("t.test:1")).catch((e) => e);
    expect(error).toBeInstanceOf(Socks5HandshakeTimeoutError);
    await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(true);
  });

  it("a proxy choosing a method that was not offered, or answering with a bad version: protocol errors", async () => {
    const gssapi = stack(socks5Connect({ proxy: "p.test:1" })).into(
      fakeProxy((s) => s.once("data", () => s.write(Buffer.from([5, 1])))),
    );
    expect(await gssapi.serve(connectRequest("t.test:1")).catch((e) => e)).toMatchObject({
      code: "ERR_SOCKS5_PROTOCOL",
      reason: "unexpected",
    });
    const socks4 = stack(socks5Connect({ proxy: "p.test:1" })).into(
      fakeProxy((s) => s.once("data", () => s.write(Buffer.from([0, 0x5a])))),
    );
    expect(await socks4.serve(connectRequest("t.test:1")).catch((e) => e)).toMatchObject({
      reason: "version",
    });
  });

  it("the request's signal aborts the handshake", async () => {
    const controller = new AbortController();
    const connector = stack(socks5Connect({ proxy: "p.test:1" })).into(fakeProxy((s) => s.resume()));
    const pending = connector.serve(
      connectRequest("t.test:1", appendSignal(new Extensions(), controller.signal)),
    );
    controller.abort(new Error("caller gave up"));
    expect(await pending.catch((e) => e)).toMatchObject({ code: "ERR_ABORTED" });
  });
});

describe("BIND", () => {
  it("first reply names a listening port; a peer connects; second reply names the peer; bytes flow", async () => {
    const { port } = await startSocks();
    const control = await tcpConnector().serve(connectRequest(`127.0.0.1:${port}`));
    const bound = await socks5Bind(control, { host: "127.0.0.1", port: 0 });
    expect(bound.address.host).toBe("127.0.0.1");
    // Sent while the server waits for the peer: kept for the relay, not lost.
    control.stream.write("early, ");
    await new Promise((r) => setTimeout(r, 20));
    const peer = net.connect(bound.address.port, "127.0.0.1");
    later(() => peer.destroy());
    await new Promise((r) => peer.once("connect", r));
    const accepted = await bound.accepted();
    later(() => accepted.stream.destroy());
    expect(accepted.extensions.get(Socks5Proxy)!.bound).toEqual({
      type: "ipv4",
      host: "127.0.0.1",
      port: peer.localPort,
    });
    peer.write("from peer");
    const got = await new Promise<string>((r) =>
      accepted.stream.once("data", (d: Buffer) => r(d.toString())),
    );
    expect(got).toBe("from peer");
    accepted.stream.write("to peer");
    let toPeer = "";
    while (toPeer.length < "early, to peer".length) {
      toPeer += await new Promise<string>((r) => peer.once("data", (d) => r(d.toString())));
    }
    expect(toPeer).toBe("early, to peer");
  });

  it("a connection from an address other than the expected one is refused; the wait times out with 06", async () => {
    const { port } = await startSocks({ bindTimeout: 200 });
    const control = await tcpConnector().serve(connectRequest(`127.0.0.1:${port}`));
    const bound = await socks5Bind(control, { host: "127.0.0.2", port: 0 });
    const stray = net.connect(bound.address.port, "127.0.0.1");
    stray.on("error", () => {});
    later(() => stray.destroy());
    await new Promise((r) => stray.once("close", r));
    const error = await bound.accepted().catch((e) => e);
    expect((error as Socks5ReplyError).reply).toBe(Reply.TtlExpired);
  });

  it("a client that goes away ends the wait: the BIND port closes and the service rejects with a typed error", async () => {
    const { port, errors } = await startSocks({ bindTimeout: 60_000 });
    const control = await tcpConnector().serve(connectRequest(`127.0.0.1:${port}`));
    const bound = await socks5Bind(control, { host: "0.0.0.0", port: 0 });
    control.stream.destroy();
    const [error] = await errors.wait(1);
    // Typed as the client closing (not the 60 s bindTimeout, nor an untyped error).
    expect(error).toBeInstanceOf(ConnectionClosedError);
    const refused = await new Promise<string | undefined>((resolve) => {
      const late = net.connect(bound.address.port, "127.0.0.1");
      late.once("connect", () => {
        late.destroy();
        resolve(undefined);
      });
      late.once("error", (e: NodeJS.ErrnoException) => resolve(e.code));
    });
    expect(refused).toBe("ECONNREFUSED");
  });
});

describe("UDP ASSOCIATE", () => {
  it("datagrams go out and come back with the sender's address; strangers' datagrams are dropped", async () => {
    const echo = await startUdpEcho();
    const seen: Conn[] = [];
    const { port, served } = await startSocks({}, recording(seen, socks5Server()));
    const control = await tcpConnector().serve(connectRequest(`127.0.0.1:${port}`));
    const udp = await socks5UdpAssociate(control);
    later(() => udp.close());
    expect(udp.relay.host).toBe("127.0.0.1");
    await udp.send(Buffer.from("one"), { host: "127.0.0.1", port: echo.port });
    const first = await udp.receive();
    expect(first.data.toString()).toBe("echo:one");
    expect(first.from).toEqual({ type: "ipv4", host: "127.0.0.1", port: echo.port });
    // A datagram from another port than the client's is not relayed.
    const stranger = createSocket("udp4");
    later(() => stranger.close());
    const raw = encodeUdpDatagram(
      socks5Address({ host: "127.0.0.1", port: echo.port }),
      Buffer.from("stranger"),
    );
    await new Promise<void>((r) => stranger.send(raw, udp.relay.port, "127.0.0.1", () => r()));
    // Nor does the client take a datagram that did not come from the relay (its port is in the request).
    const clientPort = seen[0]!.extensions.get(Socks5Request)!.target.port;
    await new Promise<void>((r) => stranger.send(raw, clientPort, "127.0.0.1", () => r()));
    await udp.send(Buffer.from("two"), { host: "localhost", port: echo.port });
    expect((await udp.receive()).data.toString()).toBe("echo:two");
    expect(echo.received).toEqual(["one", "two"]);
    udp.close();
    await udp.closed;
    for (let i = 0; i < 500 && served() < 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(served()).toBe(1);
  });

  it("fragments from the client are dropped; the policy is asked per destination", async () => {
    const echo = await startUdpEcho();
    const asked: string[] = [];
    const { port } = await startSocks({
      policy: {
        serve: async (r) => {
          asked.push(`${r.command} ${r.target.host}:${r.target.port}`);
          return r.command !== "udp" || r.target.port === echo.port;
        },
      },
    });
    // A hand-made client: the UDP socket is ours, so it can send what the client API never would.
    const mine = createSocket("udp4");
    later(() => mine.close());
    await new Promise<void>((r) => mine.bind(0, "127.0.0.1", r));
    const control = await tcpConnector().serve(connectRequest(`127.0.0.1:${port}`));
    later(() => control.stream.destroy());
    const { bound } = await socks5Handshake(control, Command.UdpAssociate, {
      host: "127.0.0.1",
      port: mine.address().port,
    });
    const send = (frag: number, to: number, text: string) => {
      const d = encodeUdpDatagram(socks5Address({ host: "127.0.0.1", port: to }), Buffer.from(text));
      d[2] = frag;
      return new Promise<void>((r) => mine.send(d, bound.port, bound.host, () => r()));
    };
    const replies: Buffer[] = [];
    mine.on("message", (m) => replies.push(m));
    await send(1, echo.port, "fragment");
    await send(0x81, echo.port, "last fragment");
    await send(0, echo.port + 1, "denied");
    await send(0, echo.port, "whole");
    for (let i = 0; i < 500 && replies.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(echo.received).toEqual(["whole"]);
    expect(parseUdpDatagram(replies[0]!).data.toString()).toBe("echo:whole");
    expect(asked).toEqual([
      "udp-associate 127.0.0.1:" + mine.address().port,
      `udp 127.0.0.1:${echo.port + 1}`,
      `udp 127.0.0.1:${echo.port}`,
    ]);
  });
  it("a destination allowed only after the association ended is dropped without a crash", async () => {
    const echo = await startUdpEcho();
    let release!: (ok: boolean) => void;
    const decided = new Promise<boolean>((r) => {
      release = r;
    });
    const asked: string[] = [];
    const { port, served } = await startSocks({
      policy: {
        serve: (r) => {
          asked.push(r.command);
          return r.command === "udp" ? decided : Promise.resolve(true);
        },
      },
    });
    const control = await tcpConnector().serve(connectRequest(`127.0.0.1:${port}`));
    const udp = await socks5UdpAssociate(control);
    await udp.send(Buffer.from("late"), { host: "127.0.0.1", port: echo.port });
    for (let i = 0; i < 500 && !asked.includes("udp"); i++) await new Promise((r) => setTimeout(r, 10));
    udp.close();
    for (let i = 0; i < 500 && served() < 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(served()).toBe(1);
    release(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(echo.received).toEqual([]);
  });
});
