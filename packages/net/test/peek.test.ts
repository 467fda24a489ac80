import { readFileSync } from "node:fs";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { TLSSocket, connect as tlsConnect } from "node:tls";
import { AbortedError, appendSignal, Extensions } from "@tessera/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  ConnectionClosedError,
  ConnectionResetError,
  conn,
  memoryPair,
  PeekTimeoutError,
  peek,
  peekConn,
  rewind,
} from "../src/index.js";
import { collect, delay, once, payload, writeAll } from "./helpers.js";

const fixtures = new URL("./fixtures/", import.meta.url);
// A self-signed certificate for "localhost" and 127.0.0.1, made for these tests only.
const cert = readFileSync(new URL("localhost-cert.pem", fixtures));
const key = readFileSync(new URL("localhost-key.pem", fixtures));

async function dribble(stream: Duplex, text: string, gapMs = 1): Promise<void> {
  for (const byte of Buffer.from(text)) {
    stream.write(Buffer.from([byte]));
    await delay(gapMs);
  }
}

describe("peek", () => {
  it("decides with a predicate over bytes arriving one at a time, then replays them all", async () => {
    const [client, server] = memoryPair();
    const calls: number[] = [];
    const peeking = peek(server, {
      until: (seen) => {
        calls.push(seen.length);
        return seen.includes("\r\n");
      },
    });
    await dribble(client, "GET / HTTP/1.1\r\n");
    const peeked = await peeking;
    expect(peeked.status).toBe("done");
    expect(peeked.bytes.toString()).toBe("GET / HTTP/1.1\r\n");
    // Called once per byte, each time with everything seen so far.
    expect(calls).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(peeked.stream).toBe(server); // put back in place: same stream
    client.end("Host: x\r\n\r\n");
    expect((await collect(peeked.stream)).toString()).toBe("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  });

  it("regression: fifty peeks in flight without a signal add no listener to the shared never-aborting signal (Node warned MaxListenersExceeded past ten)", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on("warning", onWarning);
    try {
      const pairs = Array.from({ length: 50 }, () => memoryPair());
      const peeking = pairs.map(([, server]) => peek(server, { bytes: 1 }));
      for (const [client] of pairs) client.write("x");
      const peeked = await Promise.all(peeking);
      expect(peeked.every((p) => p.status === "done")).toBe(true);
      await delay(10);
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  });

  it("waits for N bytes across chunks", async () => {
    const [client, server] = memoryPair();
    const peeking = peek(server, { bytes: 5 });
    client.write("ab");
    await delay(5);
    client.write("cd");
    await delay(5);
    let settled = false;
    void peeking.then(() => {
      settled = true;
    });
    await delay(5);
    expect(settled).toBe(false);
    client.write("efg");
    const peeked = await peeking;
    expect(peeked.status).toBe("done");
    expect(peeked.bytes.length).toBeGreaterThanOrEqual(5);
    expect(peeked.bytes.subarray(0, 5).toString()).toBe("abcde");
    client.end();
    expect((await collect(peeked.stream)).toString()).toBe("abcdefg");
  });

  it("resolves at the first byte by default", async () => {
    const [client, server] = memoryPair();
    client.write(Buffer.from([0x16]));
    const peeked = await peek(server);
    expect([...peeked.bytes]).toEqual([0x16]);
    expect(peeked.status).toBe("done");
  });

  it("stops at the byte bound without a decision (status limit) and still replays", async () => {
    const [client, server] = memoryPair();
    const peeking = peek(server, { until: () => false, max: 10 });
    await dribble(client, "0123456789abcdef");
    const peeked = await peeking;
    expect(peeked.status).toBe("limit");
    expect(peeked.bytes.toString()).toBe("0123456789");
    client.end();
    expect((await collect(peeked.stream)).toString()).toBe("0123456789abcdef");
  });

  it("reports the peer's end before a decision (status end), replaying the bytes with the write side intact", async () => {
    const [client, server] = memoryPair();
    const peeking = peek(server, { bytes: 10 });
    client.end("abc");
    const peeked = await peeking;
    expect(peeked.status).toBe("end");
    expect(peeked.bytes.toString()).toBe("abc");
    // The source already emitted 'end': the bytes come back through a replaying wrapper.
    expect(peeked.stream).not.toBe(server);
    expect((await collect(peeked.stream)).toString()).toBe("abc");
    const back = collect(client);
    peeked.stream.end("reply after half-close");
    expect((await back).toString()).toBe("reply after half-close");
  });

  it("resolves with nothing on a stream that already ended", async () => {
    const [client, server] = memoryPair();
    client.end();
    await collect(server);
    const peeked = await peek(server);
    expect(peeked.status).toBe("end");
    expect(peeked.bytes.length).toBe(0);
    expect(peeked.stream).toBe(server);
  });

  it("times out with a typed error and puts the bytes back", async () => {
    const [client, server] = memoryPair();
    client.write("ab");
    const started = Date.now();
    const error = await peek(server, { bytes: 3, timeout: 60 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect(error).toBeInstanceOf(PeekTimeoutError);
    expect((error as PeekTimeoutError).code).toBe("ERR_NET_PEEK_TIMEOUT");
    expect((error as PeekTimeoutError).bytesSeen).toBe(2);
    client.end("cd");
    expect((await collect(server)).toString()).toBe("abcd");
  });

  it("is cancelled by its signal, with the bytes put back", async () => {
    const [client, server] = memoryPair();
    const controller = new AbortController();
    const peeking = peek(server, { bytes: 100, signal: controller.signal });
    client.write("xy");
    await delay(5);
    controller.abort();
    await expect(peeking).rejects.toBeInstanceOf(AbortedError);
    client.end();
    expect((await collect(server)).toString()).toBe("xy");
  });

  it("uses the connection's signal by default (peekConn)", async () => {
    const [, server] = memoryPair();
    const controller = new AbortController();
    const c = conn(server, appendSignal(new Extensions(), controller.signal));
    const peeking = peekConn(c, { bytes: 1 });
    controller.abort(new ConnectionClosedError("gone"));
    await expect(peeking).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it("rejects with a typed error when the peer resets mid-peek", async () => {
    const [client, server] = memoryPair();
    const peeking = peek(server, { bytes: 10 });
    client.write("abc");
    await delay(5);
    client.resetAndDestroy();
    await expect(peeking).rejects.toBeInstanceOf(ConnectionResetError);
  });

  it("rejects when the stream is closed locally before or during the peek", async () => {
    const [, server] = memoryPair();
    const peeking = peek(server, { bytes: 1 });
    server.destroy();
    await expect(peeking).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(peek(server)).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it("turns a throwing predicate into a rejection, not an uncaught exception", async () => {
    const [client, server] = memoryPair();
    const peeking = peek(server, {
      until: () => {
        throw new Error("bad predicate");
      },
    });
    client.write("z");
    await expect(peeking).rejects.toThrow("bad predicate");
    client.end();
    expect((await collect(server)).toString()).toBe("z");
  });

  it("rejects nonsense bounds", async () => {
    const [, server] = memoryPair();
    await expect(peek(server, { bytes: 10, max: 5 })).rejects.toBeInstanceOf(RangeError);
    await expect(peek(server, { max: 0 })).rejects.toBeInstanceOf(RangeError);
  });

  it("keeps backpressure after peeking: a big payload still flows through a slow reader bounded", async () => {
    const [client, server] = memoryPair({ highWaterMark: 4096 });
    const data = payload(256 * 1024);
    const writing = writeAll(client, data, 4096);
    const peeked = await peek(server, { bytes: 4 });
    let maxBuffered = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of peeked.stream) {
      maxBuffered = Math.max(maxBuffered, server.readableLength + client.writableLength);
      chunks.push(chunk as Buffer);
      await delay(0);
    }
    await writing;
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect(maxBuffered).toBeLessThanOrEqual(4096 * 3 + 4096);
  });
});

describe("rewind", () => {
  it("puts bytes back in place while the stream has not ended", async () => {
    const [client, server] = memoryPair();
    client.end("world");
    expect(rewind(server, Buffer.from("hello "))).toBe(server);
    expect((await collect(server)).toString()).toBe("hello world");
  });

  it("wraps an ended stream: replays, forwards writes with backpressure, end and destroy", async () => {
    const [client, server] = memoryPair({ highWaterMark: 1024 });
    client.end();
    await collect(server);
    const wrapped = rewind(server, new Uint8Array([1, 2, 3]));
    expect(wrapped).not.toBe(server);
    expect([...(await collect(wrapped))]).toEqual([1, 2, 3]);

    // Writes reach the peer; a peer that does not read pushes back through the wrapper.
    let writes = 0;
    while (writes < 500 && wrapped.write(Buffer.alloc(256))) writes++;
    expect(writes).toBeLessThan(500);
    const received = collect(client);
    await once(wrapped, "drain");
    wrapped.end("tail");
    const got = await received;
    expect(got.subarray(-4).toString()).toBe("tail");
    expect(got.length).toBe((writes + 1) * 256 + 4);
  });

  it("destroying the wrapper destroys the source, and a source error destroys the wrapper", async () => {
    const [client, server] = memoryPair();
    client.on("error", () => {});
    client.end();
    await collect(server);
    const wrapped = rewind(server, Buffer.from("x"));
    wrapped.destroy();
    await once(server, "close");
    expect(server.destroyed).toBe(true);

    const [c2, s2] = memoryPair();
    c2.end();
    await collect(s2);
    const w2 = rewind(s2, Buffer.from("x"));
    const failed = once<Error>(w2, "error");
    s2.destroy(new Error("boom"));
    expect((await failed).message).toBe("boom");
  });
});

describe("peek over a real socket", () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  it("sniffs a TLS ClientHello, then starts TLS on the same socket", async () => {
    const seen: { first?: number; same?: boolean } = {};
    server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
      void peek(socket, { bytes: 1, timeout: 5_000 }).then(({ bytes, stream }) => {
        seen.first = bytes[0];
        seen.same = stream === socket;
        const secure = new TLSSocket(stream as Socket, { isServer: true, key, cert });
        secure.on("data", (chunk: Buffer) => secure.write(Buffer.concat([Buffer.from("echo:"), chunk])));
        secure.on("error", () => {});
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const client = tlsConnect({ host: "127.0.0.1", port, ca: cert, servername: "localhost" });
    await once(client, "secureConnect");
    client.write("hello over tls");
    const reply = await once<Buffer>(client, "data");
    expect(reply.toString()).toBe("echo:hello over tls");
    expect(seen.first).toBe(0x16);
    expect(seen.same).toBe(true);
    client.destroy();
  });
});
