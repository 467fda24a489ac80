import type { Service } from "@tessera/core";
import {
  type Conn,
  type ConnectRequest,
  ConnectTimeoutError,
  DnsError,
  tcpConnector,
  UnreachableError,
} from "@tessera/net";
import { describe, expect, it } from "vitest";
import {
  encodeCredentials,
  encodeMessage,
  Reply,
  Socks5AuthError,
  Socks5CommandNotSupportedError,
  Socks5HandshakeTimeoutError,
  Socks5NoAcceptableMethodError,
  Socks5NotAllowedError,
  type Socks5ProtocolError,
  socks5Address,
  staticCredentials,
} from "../src/index.js";
import { closedPort, rawExchange, rawSocket, startEcho, startSocks } from "./support.js";

const GREETING = [5, 1, 0];
const connectTo = (host: string, port: number) => encodeMessage(1, socks5Address({ host, port }));
const failing = (error: Error): Service<ConnectRequest, Conn> => ({ serve: () => Promise.reject(error) });

/** Greeting + CONNECT, and the reply code that comes back. */
async function replyTo(port: number, request: Buffer): Promise<number> {
  const bytes = await rawExchange(port, [Buffer.concat([Buffer.from(GREETING), request])]);
  expect([...bytes.subarray(0, 2)]).toEqual([5, 0]);
  expect(bytes[2]).toBe(5);
  // A failure reply carries 0.0.0.0:0 and is the last thing sent.
  expect(bytes.length).toBe(2 + 10);
  return bytes[3]!;
}

describe("raw bytes: every reply code", () => {
  it("00 succeeded: BND is the upstream connection's local address", async () => {
    const echo = await startEcho();
    const { port } = await startSocks();
    const raw = await rawSocket(port);
    raw.socket.write(Buffer.concat([Buffer.from(GREETING), connectTo("127.0.0.1", echo)]));
    expect([...(await raw.read(2))]).toEqual([5, 0]);
    const reply = await raw.read(10);
    expect([...reply.subarray(0, 8)]).toEqual([5, 0, 0, 1, 127, 0, 0, 1]);
    expect(reply.readUInt16BE(8)).toBeGreaterThan(0);
    raw.socket.write("hello");
    expect((await raw.read(5)).toString()).toBe("hello");
  });

  it("01 general failure for an unknown connector error", async () => {
    const { port, errors } = await startSocks({ connector: failing(new Error("boom")) });
    expect(await replyTo(port, connectTo("127.0.0.1", 1))).toBe(Reply.GeneralFailure);
    expect((await errors.wait(1))[0]?.message).toBe("boom");
  });

  it("02 not allowed by the policy; the policy sees command and target", async () => {
    const seen: string[] = [];
    const { port, errors } = await startSocks({
      policy: {
        serve: async (r) => {
          seen.push(`${r.command} ${r.target.host}:${r.target.port}`);
          return false;
        },
      },
    });
    expect(await replyTo(port, connectTo("10.1.2.3", 22))).toBe(Reply.NotAllowed);
    expect(seen).toEqual(["connect 10.1.2.3:22"]);
    expect((await errors.wait(1))[0]).toBeInstanceOf(Socks5NotAllowedError);
  });

  it("03 network unreachable, 04 host unreachable and DNS failure", async () => {
    const net = await startSocks({ connector: failing(new UnreachableError("no route")) });
    expect(await replyTo(net.port, connectTo("192.0.2.1", 80))).toBe(Reply.NetworkUnreachable);
    const host = await startSocks({
      connector: failing(
        new UnreachableError("no route to host", {
          cause: Object.assign(new Error("x"), { code: "EHOSTUNREACH" }),
        }),
      ),
    });
    expect(await replyTo(host.port, connectTo("192.0.2.1", 80))).toBe(Reply.HostUnreachable);
    // A real resolution failure through the default TCP connector.
    const dns = await startSocks({
      connector: tcpConnector({
        lookup: () => Promise.reject(Object.assign(new Error("no such name"), { code: "ENOTFOUND" })),
      }),
    });
    expect(await replyTo(dns.port, connectTo("no-such-name.test", 80))).toBe(Reply.HostUnreachable);
    expect((await dns.errors.wait(1))[0]).toBeInstanceOf(DnsError);
  });

  it("05 connection refused (a real closed port)", async () => {
    const { port, errors } = await startSocks();
    expect(await replyTo(port, connectTo("127.0.0.1", await closedPort()))).toBe(Reply.ConnectionRefused);
    expect((await errors.wait(1))[0]).toMatchObject({ code: "ERR_NET_CONNECTION_REFUSED" });
  });

  it("06 timeout (a connect that never finishes within the connector's timeout)", async () => {
    const { port, errors } = await startSocks({
      connector: tcpConnector({ timeout: 50, lookup: () => new Promise(() => {}) }),
    });
    expect(await replyTo(port, connectTo("hangs.test", 80))).toBe(Reply.TtlExpired);
    expect((await errors.wait(1))[0]).toBeInstanceOf(ConnectTimeoutError);
  });

  it("07 command not supported: an unknown command and a disabled one", async () => {
    const { port, errors } = await startSocks({ commands: { bind: false } });
    expect(await replyTo(port, encodeMessage(9, socks5Address({ host: "1.2.3.4", port: 1 })))).toBe(
      Reply.CommandNotSupported,
    );
    expect(await replyTo(port, encodeMessage(2, socks5Address({ host: "1.2.3.4", port: 1 })))).toBe(
      Reply.CommandNotSupported,
    );
    expect((await errors.wait(1))[0]).toBeInstanceOf(Socks5CommandNotSupportedError);
  });

  it("08 address type not supported", async () => {
    const { port, errors } = await startSocks();
    expect(await replyTo(port, Buffer.from([5, 1, 0, 9, 1, 2, 3, 4, 0, 80]))).toBe(
      Reply.AddressTypeNotSupported,
    );
    expect(((await errors.wait(1))[0] as Socks5ProtocolError).reason).toBe("address-type");
  });
});

describe("raw bytes: bad input", () => {
  it("a greeting with a bad version is closed without an answer", async () => {
    const { port, errors } = await startSocks();
    for (const bytes of [
      [4, 1, 0, 80, 0, 0, 0, 0, 0],
      [0x47, 0x45, 0x54, 0x20],
      [5, 0],
    ]) {
      expect((await rawExchange(port, [bytes])).length).toBe(0);
    }
    expect((await errors.wait(3)).map((e) => (e as Socks5ProtocolError).reason)).toEqual([
      "version",
      "version",
      "no-methods",
    ]);
  });

  it("a request with a bad version gets 01 and a close", async () => {
    const { port } = await startSocks();
    const bytes = await rawExchange(port, [GREETING, [4, 1, 0, 1, 1, 2, 3, 4, 0, 80]]);
    expect([...bytes]).toEqual([5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
  });

  it("no acceptable method: 05 FF and a close", async () => {
    const { port, errors } = await startSocks();
    expect([...(await rawExchange(port, [[5, 2, 1, 0x80]]))]).toEqual([5, 0xff]);
    const auth = await startSocks({ authenticate: staticCredentials({ u: "p" }) });
    expect([...(await rawExchange(auth.port, [GREETING]))]).toEqual([5, 0xff]);
    expect((await errors.wait(1))[0]).toBeInstanceOf(Socks5NoAcceptableMethodError);
  });

  it("username/password: wrong password gets status 01 and a close; a bad sub-negotiation version FF", async () => {
    const { port, errors } = await startSocks({ authenticate: staticCredentials({ alice: "s3cret" }) });
    const wrong = await rawExchange(port, [
      [5, 2, 0, 2],
      encodeCredentials({ username: "alice", password: "nope" }),
    ]);
    expect([...wrong]).toEqual([5, 2, 1, 1]);
    expect((await errors.wait(1))[0]).toBeInstanceOf(Socks5AuthError);
    expect(((await errors.wait(1))[0] as Socks5AuthError).username).toBe("alice");
    const badVersion = await rawExchange(port, [
      [5, 1, 2],
      [5, 1, 97, 1, 98],
    ]);
    expect([...badVersion]).toEqual([5, 2, 1, 0xff]);
  });

  it("a peer that ends mid-greeting or mid-request is closed, typed as truncated", async () => {
    const { port, errors } = await startSocks();
    expect((await rawExchange(port, [[5, 2, 0]], { end: true })).length).toBe(0);
    expect([...(await rawExchange(port, [GREETING, [5, 1, 0, 3, 10, 97]], { end: true }))]).toEqual([5, 0]);
    expect((await errors.wait(2)).map((e) => (e as Socks5ProtocolError).reason)).toEqual([
      "truncated",
      "truncated",
    ]);
  });

  it("a handshake slower than handshakeTimeout is closed with a typed error", async () => {
    const { port, errors } = await startSocks({ handshakeTimeout: 100 });
    expect((await rawExchange(port, [[5, 1]])).length).toBe(0);
    expect((await errors.wait(1))[0]).toBeInstanceOf(Socks5HandshakeTimeoutError);
  });
});

describe("raw bytes: byte splits and pipelining", () => {
  it("a handshake written one byte per write (auth, domain target) connects", async () => {
    const echo = await startEcho();
    const { port } = await startSocks({ authenticate: staticCredentials({ alice: "s3cret" }) });
    const raw = await rawSocket(port);
    const bytes = Buffer.concat([
      Buffer.from([5, 2, 0, 2]),
      encodeCredentials({ username: "alice", password: "s3cret" }),
      connectTo("localhost", echo),
    ]);
    for (const byte of bytes) {
      raw.socket.write(Buffer.from([byte]));
      await new Promise((r) => setTimeout(r, 1));
    }
    expect([...(await raw.read(4))]).toEqual([5, 2, 1, 0]);
    const reply = await raw.read(4);
    expect([...reply]).toEqual([5, 0, 0, reply[3]]);
    await raw.read(reply[3] === 1 ? 6 : 18);
    raw.socket.write("after");
    expect((await raw.read(5)).toString()).toBe("after");
  });

  it("greeting, auth, request and data in one write: the data is not lost", async () => {
    const echo = await startEcho();
    const { port } = await startSocks({ authenticate: staticCredentials({ alice: "s3cret" }) });
    const raw = await rawSocket(port);
    const payload = Buffer.alloc(100_000, 0x61);
    raw.socket.write(
      Buffer.concat([
        Buffer.from([5, 1, 2]),
        encodeCredentials({ username: "alice", password: "s3cret" }),
        connectTo("127.0.0.1", echo),
        payload,
      ]),
    );
    raw.socket.end();
    expect([...(await raw.read(4))]).toEqual([5, 2, 1, 0]);
    expect((await raw.read(10))[1]).toBe(0);
    const rest = await raw.closed();
    expect(rest.equals(payload)).toBe(true);
  });

  it("a client that sends everything and ends while the authenticator decides is still served", async () => {
    const echo = await startEcho();
    const slow = {
      serve: async ({ username }: { username: string }) => {
        await new Promise((r) => setTimeout(r, 30));
        return username === "alice";
      },
    };
    const { port, errors } = await startSocks({ authenticate: slow });
    const raw = await rawSocket(port);
    raw.socket.end(
      Buffer.concat([
        Buffer.from([5, 1, 2]),
        encodeCredentials({ username: "alice", password: "s3cret" }),
        connectTo("127.0.0.1", echo),
        Buffer.from("pipelined"),
      ]),
    );
    const all = await raw.closed();
    expect([...all.subarray(0, 4)]).toEqual([5, 2, 1, 0]);
    expect(all[5]).toBe(0);
    expect(all.subarray(14).toString()).toBe("pipelined");
    expect([...errors]).toEqual([]);
  });
});
