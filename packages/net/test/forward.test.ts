import { createHash } from "node:crypto";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { AbortedError, appendSignal, ShutdownError, service } from "@tessera/core";
import { afterEach, describe, expect, it } from "vitest";
import { BULK_BUFFER_SIZE, giveBackBulkBuffer, spareBulkBuffers } from "../src/bulk-buffers.js";
import {
  type Conn,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectionResetError,
  connectRequest,
  ForwardBytes,
  forward,
  forwardService,
  type Listener,
  listen,
  type MemoryStream,
  memoryConnPair,
  tcpConnector,
} from "../src/index.js";
import { collect, delay, once, payload, until, writeAll } from "./helpers.js";

/** client <-> a ==forward== b <-> upstream */
function chain(highWaterMark?: number) {
  const [client, a] = memoryConnPair({ highWaterMark });
  const [b, upstream] = memoryConnPair({ highWaterMark });
  return { client, a, b, upstream };
}

describe("forward over memory pairs", () => {
  it("moves bytes both ways, half-closes, resolves when both directions are done, and records the counts", async () => {
    const { client, a, b, upstream } = chain();
    const forwarding = forward(a, b);
    client.stream.end("request!");
    expect((await collect(upstream.stream)).toString()).toBe("request!");
    // The client's end reached the upstream as an end; the upstream can still answer (half-close).
    const reply = collect(client.stream);
    upstream.stream.end("response");
    expect((await reply).toString()).toBe("response");
    expect(await forwarding).toEqual({ aToB: 8, bToA: 8 });
    expect(a.extensions.get(ForwardBytes)).toEqual({ read: 8, written: 8 });
    expect(b.extensions.get(ForwardBytes)).toEqual({ read: 8, written: 8 });
    expect(a.stream.destroyed && b.stream.destroyed).toBe(true);
  });

  it("keeps one direction going long after the other ended", async () => {
    const { client, a, b, upstream } = chain();
    const forwarding = forward(a, b);
    client.stream.end();
    await collect(upstream.stream);
    const data = payload(300_000);
    const reply = collect(client.stream);
    await writeAll(upstream.stream, data, 7_000);
    expect((await reply).equals(data)).toBe(true);
    expect(await forwarding).toEqual({ aToB: 0, bToA: data.length });
  });

  it("applies backpressure end to end: a reader that stops reading stops the writer", async () => {
    const hwm = 4096;
    const { client, a, b, upstream } = chain(hwm);
    const forwarding = forward(a, b);
    let written = 0;
    let blocked = false;
    for (let i = 0; i < 2_000; i++) {
      written += 1024;
      if (!client.stream.write(Buffer.alloc(1024))) {
        blocked = true;
        break;
      }
      await delay(0);
    }
    expect(blocked).toBe(true);
    await delay(50);
    // Everything in flight sits in a bounded set of buffers along the chain (4 streams, 2 buffers each).
    const buffered =
      client.stream.writableLength +
      a.stream.readableLength +
      b.stream.writableLength +
      upstream.stream.readableLength;
    expect(written).toBeLessThan(2_000 * 1024);
    expect(buffered).toBeLessThanOrEqual(8 * hwm + 2048);
    // Once the upstream reads, everything arrives.
    const received = collect(upstream.stream);
    await once(client.stream, "drain");
    client.stream.end();
    expect((await received).length).toBe(written);
    upstream.stream.end();
    await forwarding;
  });

  it("destroys both sides and rejects with a typed error naming the side when one is reset", async () => {
    const { client, a, b, upstream } = chain();
    client.stream.on("error", () => {});
    const forwarding = forward(a, b);
    client.stream.write("some");
    await delay(5);
    (upstream.stream as MemoryStream).resetAndDestroy();
    const error = await forwarding.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionResetError);
    expect((error as Error).message).toContain("side b");
    expect(a.stream.destroyed).toBe(true);
    expect(b.stream.destroyed).toBe(true);
    // The client learns that the relay was aborted: a reset, not a clean end.
    await until(() => client.stream.destroyed);
    expect(client.stream.errored).toMatchObject({ code: "ECONNRESET" });
    expect(a.extensions.get(ForwardBytes)).toEqual({ read: 4, written: 0 });
  });

  it("rejects with ConnectionClosedError when a side is destroyed under it", async () => {
    const { a, b, upstream } = chain();
    upstream.stream.on("error", () => {});
    const forwarding = forward(a, b);
    a.stream.destroy();
    await expect(forwarding).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(b.stream.destroyed).toBe(true);
  });

  it("is cancelled by its signal: both destroyed, the caller's reason, counts recorded", async () => {
    const { client, a, b, upstream } = chain();
    client.stream.on("error", () => {});
    upstream.stream.on("error", () => {});
    const controller = new AbortController();
    const forwarding = forward(a, b, { signal: controller.signal });
    client.stream.write("abc");
    await delay(5);
    controller.abort();
    await expect(forwarding).rejects.toBeInstanceOf(AbortedError);
    expect(a.stream.destroyed && b.stream.destroyed).toBe(true);
    expect(a.extensions.get(ForwardBytes)).toEqual({ read: 3, written: 0 });
  });

  it("until: ends with that connection's signal; not together with signal", async () => {
    const { client, a, b, upstream } = chain();
    client.stream.on("error", () => {});
    upstream.stream.on("error", () => {});
    const controller = new AbortController();
    const followed = a.withExtensions(appendSignal(a.extensions.fork(), controller.signal));
    const forwarding = forward(followed, b, { until: followed });
    client.stream.write("abc");
    await delay(5);
    controller.abort(new ShutdownError("stop"));
    await expect(forwarding).rejects.toBeInstanceOf(ShutdownError);
    expect(a.stream.destroyed && b.stream.destroyed).toBe(true);
    const second = chain();
    await expect(
      forward(second.a, second.b, { until: second.a, signal: new AbortController().signal }),
    ).rejects.toBeInstanceOf(TypeError);
  });

  it("refuses to start on a closed connection or an aborted signal", async () => {
    const { a, b } = chain();
    b.stream.destroy();
    await expect(forward(a, b)).rejects.toBeInstanceOf(ConnectionClosedError);
    const second = chain();
    await expect(forward(second.a, second.b, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      AbortedError,
    );
  });
});

describe("forward over real sockets", () => {
  const servers: Server[] = [];
  const listeners: Listener[] = [];
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((l) => l.close({ timeout: 0 })));
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function upstreamServer(handler: (socket: Socket) => void): Promise<number> {
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on("error", () => {});
      handler(socket);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }

  async function proxy(upstreamPort: number, seen: Conn[] = [], errors: Error[] = []): Promise<number> {
    const inner = forwardService(tcpConnector({ timeout: 2_000 }), `127.0.0.1:${upstreamPort}`);
    const listener = await listen(
      { host: "127.0.0.1", port: 0 },
      service(async (c: Conn) => {
        seen.push(c);
        await inner.serve(c);
      }),
      { onError: (e) => errors.push(e) },
    );
    listeners.push(listener);
    return listener.address.port;
  }

  it("relays large data both ways through a TCP proxy with backpressure and records byte counts", async () => {
    // The upstream echoes, so 16 MiB go up and 16 MiB come back through the proxy at the same time.
    const upstreamPort = await upstreamServer((socket) => socket.pipe(socket));
    const seen: Conn[] = [];
    const port = await proxy(upstreamPort, seen);
    const client = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    await once(client, "connect");
    const data = payload(16 * 1024 * 1024);
    const digest = createHash("sha256");
    let received = 0;
    const done = new Promise<void>((resolve, reject) => {
      client.on("data", (chunk: Buffer) => {
        received += chunk.length;
        digest.update(chunk);
      });
      client.once("end", resolve);
      client.once("error", reject);
    });
    await writeAll(client, data);
    await done;
    expect(received).toBe(data.length);
    expect(digest.digest("hex")).toBe(createHash("sha256").update(data).digest("hex"));
    await until(() => seen[0]?.extensions.get(ForwardBytes) !== undefined);
    expect(seen[0]!.extensions.get(ForwardBytes)).toEqual({ read: data.length, written: data.length });
    client.destroy();
  });

  it("bulk directions read into a buffer of their own; a slow far reader (queued writes) gets every byte intact", async () => {
    // Both far ends read slowly, so the proxy's writes queue and its reads must wait before reusing the buffer.
    const size = 8 * 1024 * 1024;
    const slowDigest = (socket: Socket): Promise<string> =>
      new Promise((resolve, reject) => {
        const digest = createHash("sha256");
        let sinceBreak = 0;
        socket.on("data", (chunk: Buffer) => {
          digest.update(chunk);
          sinceBreak += chunk.length;
          if (sinceBreak > 256 * 1024) {
            sinceBreak = 0;
            socket.pause();
            setTimeout(() => socket.resume(), 4);
          }
        });
        socket.once("end", () => resolve(digest.digest("hex")));
        socket.once("error", reject);
      });
    const up = payload(size);
    const down = payload(size);
    let upstreamDigest!: Promise<string>;
    const upstreamPort = await upstreamServer((socket) => {
      upstreamDigest = slowDigest(socket);
      void writeAll(socket, down);
    });
    const seen: Conn[] = [];
    const port = await proxy(upstreamPort, seen);
    const client = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    await once(client, "connect");
    const clientDigest = slowDigest(client);
    await writeAll(client, up);
    const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");
    expect(await clientDigest).toBe(sha(down));
    await until(() => upstreamDigest !== undefined);
    expect(await upstreamDigest).toBe(sha(up));
    // The accepted socket was switched to its own read buffer (the fast path is in use, not silently skipped).
    const ownBuffer = Object.getOwnPropertySymbols(seen[0]!.stream).find((k) => k.description === "kBuffer");
    expect((seen[0]!.stream as unknown as Record<symbol, unknown>)[ownBuffer!]).toBeInstanceOf(Buffer);
    await until(() => seen[0]?.extensions.get(ForwardBytes) !== undefined);
    expect(seen[0]!.extensions.get(ForwardBytes)).toEqual({ read: size, written: size });
    client.destroy();
  });

  it("a bulk direction that goes quiet waits on a 16 KiB buffer and gives the bulk one back; the next burst is bulk again", async () => {
    const received: Buffer[] = [];
    let upstreamBytes = 0;
    const upstreamPort = await upstreamServer((socket) => {
      socket.on("data", (chunk: Buffer) => {
        received.push(chunk);
        upstreamBytes += chunk.length;
      });
      socket.on("end", () => socket.end());
    });
    const seen: Conn[] = [];
    const port = await proxy(upstreamPort, seen);
    const client = connect({ host: "127.0.0.1", port });
    client.on("error", () => {});
    await once(client, "connect");
    const kBuffer = (stream: Record<symbol, unknown>): symbol =>
      Object.getOwnPropertySymbols(stream).find((k) => k.description === "kBuffer")!;
    const ownBuffer = (): Buffer | null | undefined => {
      const stream = seen[0]!.stream as unknown as Record<symbol, Buffer | null>;
      return stream[kBuffer(stream)];
    };
    const burst = async (data: Buffer, expected: number): Promise<void> => {
      for (let offset = 0; offset < data.length; offset += 64 * 1024) {
        if (!client.write(data.subarray(offset, offset + 64 * 1024))) await once(client, "drain");
      }
      await until(() => upstreamBytes === expected);
    };
    // Not a multiple of the buffers' sizes, so the burst's last read is short (a burst that happens to end with a
    // read filling a buffer exactly would keep a bulk buffer until its next read).
    const first = payload(4 * 1024 * 1024 + 1_000);
    // One spare at least, so the burst takes its bulk buffer from the spares and we can see it come back.
    giveBackBulkBuffer(Buffer.alloc(BULK_BUFFER_SIZE));
    const spareBefore = spareBulkBuffers();
    await burst(first, first.length);
    // Quiet now: the last read was short, so the direction holds only its small buffer.
    expect(ownBuffer()?.length).toBe(16 * 1024);
    expect(spareBulkBuffers()).toBe(spareBefore);
    // Every buffer the next reads go into (Node stores each in the socket's kBuffer field): the second burst must
    // take a bulk buffer again.
    const stream = seen[0]!.stream as unknown as Record<symbol, Buffer | null>;
    const key = kBuffer(stream);
    let current = stream[key];
    const sizes = new Set<number>();
    Object.defineProperty(stream, key, {
      configurable: true,
      get: () => current,
      set: (buffer: Buffer | null) => {
        current = buffer;
        if (buffer) sizes.add(buffer.length);
      },
    });
    const second = payload(4 * 1024 * 1024);
    await burst(second, first.length + second.length);
    expect(sizes.has(BULK_BUFFER_SIZE)).toBe(true);
    expect(Buffer.concat(received).equals(Buffer.concat([first, second]))).toBe(true);
    client.destroy();
  });

  it("a reset in the middle of a bulk transfer (own buffers in use) tears both sides down with a typed error", async () => {
    let upstreamBytes = 0;
    const upstreamPort = await upstreamServer((socket) => {
      socket.on("data", (chunk: Buffer) => {
        upstreamBytes += chunk.length;
        if (upstreamBytes > 2 * 1024 * 1024) socket.resetAndDestroy();
      });
    });
    const errors: Error[] = [];
    const port = await proxy(upstreamPort, [], errors);
    const client = connect({ host: "127.0.0.1", port });
    client.on("error", () => {});
    await once(client, "connect");
    const closed = once(client, "close");
    const chunk = payload(64 * 1024);
    for (let i = 0; i < 64 && !client.destroyed; i++) {
      if (!client.write(chunk)) await Promise.race([once(client, "drain"), closed]);
    }
    await closed;
    await until(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(ConnectionResetError);
  });

  it("closes the client and reports a typed error when the upstream resets mid-stream", async () => {
    const upstreamPort = await upstreamServer((socket) => {
      socket.once("data", () => {
        socket.write("partial answer");
        setTimeout(() => socket.resetAndDestroy(), 20);
      });
    });
    const errors: Error[] = [];
    const port = await proxy(upstreamPort, [], errors);
    const client = connect({ host: "127.0.0.1", port });
    client.on("error", () => {});
    await once(client, "connect");
    const got: Buffer[] = [];
    client.on("data", (chunk: Buffer) => got.push(chunk));
    const closed = once(client, "close");
    client.write("hello");
    await closed;
    expect(Buffer.concat(got).toString()).toBe("partial answer");
    await until(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(ConnectionResetError);
  });

  it("closes the client with a typed error when the upstream cannot be reached", async () => {
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, "127.0.0.1", resolve));
    const deadPort = (spare.address() as AddressInfo).port;
    await new Promise((resolve) => spare.close(resolve));
    const errors: Error[] = [];
    const port = await proxy(deadPort, [], errors);
    const client = connect({ host: "127.0.0.1", port });
    client.on("error", () => {});
    await once(client, "close");
    await until(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(ConnectionRefusedError);
  });

  it("forwardService follows the listener's connection: a forced shutdown tears the tunnel down with its reason", async () => {
    const upstreamPort = await upstreamServer(() => {});
    const seen: Conn[] = [];
    const errors: Error[] = [];
    const port = await proxy(upstreamPort, seen, errors);
    const client = connect(port, "127.0.0.1");
    client.on("error", () => {});
    await once(client, "connect");
    client.write("held");
    await until(() => seen.length === 1 && seen[0]!.extensions.get(ForwardBytes) === undefined);
    await delay(20);
    const listener = listeners.pop()!;
    await listener.close({ timeout: 0 });
    await until(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(ShutdownError);
    client.destroy();
  });

  it("forwards between a client connection and a connector connection directly", async () => {
    const upstreamPort = await upstreamServer((socket) => {
      void collect(socket).then((body) => socket.end(`upstream got ${body.length}`));
    });
    const [client, a] = memoryConnPair();
    const b = await tcpConnector().serve(connectRequest(`127.0.0.1:${upstreamPort}`));
    const forwarding = forward(a, b);
    const reply = collect(client.stream);
    client.stream.end("0123456789");
    expect((await reply).toString()).toBe("upstream got 10");
    expect(await forwarding).toEqual({ aToB: 10, bToA: 15 });
  });
});
