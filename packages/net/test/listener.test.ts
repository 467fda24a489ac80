import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import {
  createShutdown,
  Extensions,
  key,
  type Service,
  ShutdownError,
  service,
  signalOf,
} from "@tessera/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  AddressInUseError,
  type Conn,
  ConnectionClosedError,
  ConnectionResetError,
  Draining,
  InvalidAddressError,
  type Listener,
  type ListenerOptions,
  LocalAddr,
  listen,
  PeerAddr,
  raceConnectionEnd,
  type SocketAddress,
} from "../src/index.js";
import { connectionEnd } from "../src/listener.js";
import { collect, delay, noDelayOf, once, payload, until, writeAll } from "./helpers.js";

const listeners: Listener[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(listeners.splice(0).map((l) => l.close({ timeout: 0 })));
});

async function start(
  svc: Service<Conn, void>,
  options: ListenerOptions = {},
  host = "127.0.0.1",
): Promise<Listener> {
  const errors: Error[] = [];
  const listener = await listen({ host, port: 0 }, svc, { onError: (e) => errors.push(e), ...options });
  listeners.push(listener);
  return listener;
}

function portOf(listener: Listener): number {
  const address = listener.address;
  if (address.family === "unix") throw new Error("not TCP");
  return address.port;
}

// A plain client: when the server ends, it ends too (allowHalfOpen false, Node's default).
async function dial(listener: Listener, host = "127.0.0.1"): Promise<Socket> {
  const socket = connect({ host, port: portOf(listener) });
  socket.on("error", () => {});
  sockets.push(socket);
  await once(socket, "connect");
  return socket;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (e: Error & { code?: string }) => resolve(e.code === "ECONNREFUSED"));
  });
}

const echo = service(async ({ stream }: Conn) => {
  await pipeline(stream, stream);
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("listen (TCP)", () => {
  it("serves connections on an ephemeral port reported in address", async () => {
    const listener = await start(echo);
    expect(listener.address).toMatchObject({ family: "IPv4", host: "127.0.0.1" });
    expect(portOf(listener)).toBeGreaterThan(0);
    const socket = await dial(listener);
    const reply = collect(socket);
    socket.end("ping");
    expect((await reply).toString()).toBe("ping");
    expect(listener.accepted).toBe(1);
  });

  it("on a wildcard bind, LocalAddr is the address each connection reached, not 0.0.0.0", async () => {
    const seen: Conn[] = [];
    const listener = await start(
      service((c: Conn) => {
        seen.push(c);
        c.stream.end();
      }),
      {},
      "0.0.0.0",
    );
    await dial(listener, "127.0.0.1");
    await until(() => seen.length === 1);
    expect(seen[0]!.extensions.get(LocalAddr)).toEqual({
      family: "IPv4",
      host: "127.0.0.1",
      port: portOf(listener),
    });
  });

  it("puts peer and local address, a signal and the draining signal on each connection", async () => {
    const seen: Conn[] = [];
    const base = new Extensions();
    const ServerName = key<string>("test.ServerName");
    base.insert(ServerName, "edge-1");
    const listener = await start(
      service((c: Conn) => {
        seen.push(c);
        c.stream.end();
      }),
      { extensions: base },
    );
    const socket = await dial(listener);
    await until(() => seen.length === 1);
    const ext = seen[0]!.extensions;
    expect(ext.get(PeerAddr)).toEqual({ family: "IPv4", host: "127.0.0.1", port: socket.localPort });
    expect(ext.get(LocalAddr)).toEqual({ family: "IPv4", host: "127.0.0.1", port: portOf(listener) });
    expect(ext.get(ServerName)).toBe("edge-1"); // forked from the listener's extensions
    expect(base.get(PeerAddr)).toBeUndefined(); // ...without leaking back
    expect(signalOf(ext).aborted).toBe(false);
    expect(ext.get(Draining)).toBe(listener.draining);
  });

  it("turns TCP_NODELAY on for accepted sockets by default, off on request", async () => {
    for (const [options, expected] of [
      [{}, true],
      [{ noDelay: false }, false],
    ] as const) {
      const seen: boolean[] = [];
      const listener = await start(
        service((c: Conn) => {
          seen.push(noDelayOf(c.stream as Socket));
          c.stream.end();
        }),
        options,
      );
      await dial(listener);
      await until(() => seen.length === 1);
      expect(seen[0]).toBe(expected);
    }
  });

  it("reports IPv6 peers on an IPv6 listener", async () => {
    const seen: SocketAddress[] = [];
    const listener = await start(
      service((c: Conn) => {
        seen.push(c.extensions.require(PeerAddr));
        c.stream.end();
      }),
      {},
      "::1",
    );
    expect(listener.address).toMatchObject({ family: "IPv6", host: "::1" });
    await dial(listener, "::1");
    await until(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ family: "IPv6", host: "::1" });
  });

  it("closes connections over the limit at once and counts them", async () => {
    const hold = deferred();
    let served = 0;
    const listener = await start(
      service(async () => {
        served++;
        await hold.promise;
      }),
      { maxConnections: 2 },
    );
    await dial(listener);
    await dial(listener);
    await until(() => served === 2);
    const third = await dial(listener);
    await once(third, "close");
    await until(() => listener.dropped === 1);
    expect(served).toBe(2);
    expect(listener.connections).toBe(2);
    hold.resolve();
  });

  it("isolates failures: a rejection or a throw closes only that connection and goes to onError", async () => {
    const errors: Array<[Error, Conn | undefined]> = [];
    let n = 0;
    const listener = await start(
      {
        serve(c: Conn): Promise<void> {
          n++;
          if (n === 1) return Promise.reject(new Error("async failure"));
          if (n === 2) throw new Error("sync failure");
          if (n === 3) return undefined as unknown as Promise<void>; // a JS service breaking the contract
          return echo.serve(c);
        },
      },
      {
        onError: (error, c) => {
          errors.push([error, c]);
          throw new Error("a broken onError must not matter either");
        },
      },
    );
    const first = await dial(listener);
    await once(first, "close");
    const second = await dial(listener);
    await once(second, "close");
    const broken = await dial(listener);
    await once(broken, "close"); // treated as done: ended, not a crash
    const third = await dial(listener);
    const reply = collect(third);
    third.end("still fine");
    expect((await reply).toString()).toBe("still fine");
    expect(errors.map(([e]) => e.message)).toEqual(["async failure", "sync failure"]);
    expect(errors[0]![1]?.extensions.get(PeerAddr)).toMatchObject({ host: "127.0.0.1" });
  });

  it("reports through process warnings when no onError is given (never an unhandled rejection)", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on("warning", onWarning);
    try {
      const listener = await listen(
        { host: "127.0.0.1", port: 0 },
        service(() => Promise.reject(new Error("unreported elsewhere"))),
      );
      listeners.push(listener);
      const socket = await dial(listener);
      await once(socket, "close");
      await until(() => warnings.length === 1);
      expect(warnings[0]!.message).toBe("unreported elsewhere");
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("aborts a connection's signal when its socket closes (reset by the peer)", async () => {
    const reasons: unknown[] = [];
    const listener = await start(
      service(async (c: Conn) => {
        const signal = signalOf(c);
        await new Promise((resolve) => signal.addEventListener("abort", resolve));
        reasons.push(signal.reason);
      }),
    );
    const socket = await dial(listener);
    await delay(20);
    socket.resetAndDestroy();
    await until(() => reasons.length === 1);
    expect(reasons[0]).toBeInstanceOf(ConnectionResetError);
  });

  it("raceConnectionEnd settles with the promise, or rejects when the connection ends, without making its signal", async () => {
    const outcomes: unknown[] = [];
    let unmade = 0;
    let signalReason: unknown;
    const listener = await start(
      service(async (c: Conn) => {
        outcomes.push(await raceConnectionEnd(Promise.resolve("first"), c));
        const pending = raceConnectionEnd(new Promise(() => {}), { extensions: c.extensions.fork() });
        if (connectionEnd(c.extensions) !== undefined) unmade++;
        c.stream.resume(); // reading, so that the reset is seen
        const ended = await pending.catch((e: unknown) => e);
        // The signal made now (after the end) starts aborted with the same reason.
        signalReason = signalOf(c).reason;
        outcomes.push(ended);
      }),
    );
    const socket = await dial(listener);
    await until(() => outcomes.length === 1);
    await delay(20);
    socket.resetAndDestroy();
    await until(() => outcomes.length === 2);
    expect(outcomes[0]).toBe("first");
    expect(outcomes[1]).toBeInstanceOf(ConnectionResetError);
    expect(signalReason).toBe(outcomes[1]);
    expect(unmade).toBe(1);
  });

  it("makes the connection's signal on first read: read only after the socket closed, it is already aborted", async () => {
    const closed = deferred();
    const seen: AbortSignal[] = [];
    const listener = await start(
      service(async (c: Conn) => {
        c.stream.on("close", () => closed.resolve());
        c.stream.resume();
        await closed.promise;
        // The service never touched the signal while the connection was open.
        seen.push(signalOf(c));
      }),
    );
    const socket = await dial(listener);
    await delay(20);
    socket.resetAndDestroy();
    await until(() => seen.length === 1);
    expect(seen[0]!.aborted).toBe(true);
    expect(seen[0]!.reason).toBeInstanceOf(ConnectionResetError);
  });

  it("treats the peer's end as a half-close: the service can still answer, then the signal aborts on close", async () => {
    const aborted: unknown[] = [];
    const listener = await start(
      service(async (c: Conn) => {
        signalOf(c).addEventListener("abort", () => aborted.push(signalOf(c).reason));
        const request = await collect(c.stream);
        expect(signalOf(c).aborted).toBe(false);
        c.stream.end(`got ${request.length} bytes`);
        await once(c.stream, "close");
      }),
    );
    const socket = await dial(listener);
    const reply = collect(socket);
    socket.end("abc");
    expect((await reply).toString()).toBe("got 3 bytes");
    await until(() => aborted.length === 1);
    expect(aborted[0]).toBeInstanceOf(ConnectionClosedError);
  });

  it("ends the socket when the service resolves, flushing what it wrote", async () => {
    const listener = await start(
      service((c: Conn) => {
        c.stream.write("written but not ended");
      }),
    );
    const socket = await dial(listener);
    expect((await collect(socket)).toString()).toBe("written but not ended");
    await until(() => listener.connections === 0);
  });

  it("closes lingering: a response written while the peer is still uploading is not lost to a reset", async () => {
    const response = payload(2 * 1024 * 1024);
    const listener = await start(
      service((c: Conn) => {
        // Answer at once and return without reading the upload.
        c.stream.write(response);
      }),
    );
    // A client that keeps uploading after the server's FIN (half-open), like a browser posting a large body.
    const socket = connect({ host: "127.0.0.1", port: portOf(listener), allowHalfOpen: true });
    socket.on("error", () => {});
    sockets.push(socket);
    const received = collect(socket);
    const upload = writeAll(socket, payload(4 * 1024 * 1024)).catch(() => {});
    const got = await received;
    await upload;
    expect(got.length).toBe(response.length);
    expect(got.equals(response)).toBe(true);
  });

  it("destroys a lingering socket whose peer never closes after lingerTimeout", async () => {
    const listener = await start(
      service(() => {}),
      { lingerTimeout: 50 },
    );
    const socket = connect({ host: "127.0.0.1", port: portOf(listener), allowHalfOpen: true });
    sockets.push(socket);
    await collect(socket); // got the server's FIN; this client keeps its own side open
    await until(() => listener.connections === 0, 2_000);
    expect(socket.destroyed).toBe(false);
  });

  it("rejects with a typed error when the address is in use", async () => {
    const listener = await start(echo);
    const error = await listen({ host: "127.0.0.1", port: portOf(listener) }, echo).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AddressInUseError);
    expect((error as AddressInUseError).code).toBe("ERR_NET_ADDRESS_IN_USE");
  });

  it("rejects bad addresses and options before listening", async () => {
    await expect(listen({ host: "127.0.0.1", port: 70_000 }, echo)).rejects.toBeInstanceOf(
      InvalidAddressError,
    );
    await expect(listen({ host: "bad host", port: 0 }, echo)).rejects.toBeInstanceOf(InvalidAddressError);
    await expect(listen({ port: 0 }, echo, { maxConnections: 0 })).rejects.toMatchObject({
      code: "ERR_NET_LISTEN",
    });
  });
});

describe("graceful shutdown", () => {
  it("stops accepting, lets in-flight services finish, then resolves with the port released", async () => {
    const hold = deferred();
    let drainingSeen = false;
    const listener = await start(
      service(async (c: Conn) => {
        const draining = c.extensions.require(Draining);
        draining.addEventListener("abort", () => {
          drainingSeen = true;
        });
        await hold.promise;
        c.stream.end("bye");
      }),
    );
    const port = portOf(listener);
    const socket = await dial(listener);
    const reply = collect(socket);
    await until(() => listener.active === 1);
    let settled = false;
    const closing = listener.close({ timeout: 10_000 }).then((result) => {
      settled = true;
      return result;
    });
    expect(listener.closing).toBe(true);
    expect(listener.draining.aborted).toBe(true);
    expect(drainingSeen).toBe(true);
    expect(await refused(port)).toBe(true); // no longer accepting
    await delay(30);
    expect(settled).toBe(false); // still waiting for the in-flight service
    hold.resolve();
    expect(await closing).toEqual({ forced: false, abandoned: 0 });
    expect((await reply).toString()).toBe("bye");
    expect(listener.connections).toBe(0);
  });

  it("forces after the timeout: destroys sockets and aborts signals with a ShutdownError", async () => {
    const reasons: unknown[] = [];
    const listener = await start(
      service(async (c: Conn) => {
        const signal = signalOf(c);
        await new Promise((resolve) => signal.addEventListener("abort", resolve));
        reasons.push(signal.reason);
        await new Promise(() => {}); // never finishes: only the forced close ends it
      }),
    );
    const socket = await dial(listener);
    const clientClosed = once(socket, "close");
    await until(() => listener.active === 1);
    const started = Date.now();
    const result = await listener.close({ timeout: 50 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(result).toEqual({ forced: true, abandoned: 1 });
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(ShutdownError);
    expect(listener.connections).toBe(0); // every socket closed before close() resolved
    await clientClosed;
  });

  it("closes at once when idle, and close() is idempotent", async () => {
    const listener = await start(echo);
    const a = listener.close();
    const b = listener.close({ timeout: 1 });
    expect(a).toBe(b);
    expect(await a).toEqual({ forced: false, abandoned: 0 });
  });

  it("follows a shared createShutdown(): waits for every listener's services, forces after the grace period", async () => {
    const shutdown = createShutdown();
    const hold = deferred();
    const a = await start(
      service(async () => {
        await hold.promise;
      }),
      { shutdown },
    );
    const b = await start(
      service(async (c: Conn) => {
        await new Promise((resolve) => signalOf(c).addEventListener("abort", resolve));
      }),
      { shutdown },
    );
    await dial(a);
    const stuck = await dial(b);
    const stuckClosed = once(stuck, "close");
    await until(() => a.active === 1 && b.active === 1);
    expect(shutdown.inFlight).toBe(2); // one unit per listener

    const closing = shutdown.close({ timeout: 100 });
    expect(a.closing && b.closing).toBe(true);
    hold.resolve(); // a finishes in time; b's service only ends when forced
    const result = await closing;
    expect(result.forced).toBe(true);
    expect(result.abandoned).toBe(1); // b, still busy at the deadline
    await stuckClosed;
    await until(() => b.connections === 0 && a.connections === 0);
    expect(await b.close()).toMatchObject({ forced: true });
    expect(shutdown.inFlight).toBe(0);
    await expect(listen({ port: 0 }, echo, { shutdown })).rejects.toBeInstanceOf(ShutdownError);
  });
});

describe("listen (Unix socket)", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("serves on a path through the same code path, with unix addresses on the connection", async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-net-"));
    const path = join(dir, "echo.sock");
    const seen: Conn[] = [];
    const listener = await listen(
      { path },
      service(async (c: Conn) => {
        seen.push(c);
        await pipeline(c.stream, c.stream);
      }),
    );
    listeners.push(listener);
    expect(listener.address).toEqual({ family: "unix", path });
    const socket = connect({ path });
    sockets.push(socket);
    const reply = collect(socket);
    socket.end("over unix");
    expect((await reply).toString()).toBe("over unix");
    expect(seen[0]!.extensions.get(PeerAddr)).toEqual({ family: "unix", path: "" });
    expect(seen[0]!.extensions.get(LocalAddr)).toEqual({ family: "unix", path });
    await listener.close();
    expect(existsSync(path)).toBe(false);
  });

  it("rejects a path in use", async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-net-"));
    const path = join(dir, "busy.sock");
    listeners.push(await listen({ path }, echo));
    await expect(listen({ path }, echo)).rejects.toBeInstanceOf(AddressInUseError);
  });
});
