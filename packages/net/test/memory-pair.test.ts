import { once as eventOnce } from "node:events";
import type { Duplex } from "node:stream";
import { pipeline } from "node:stream/promises";
import { signalOf } from "@tessera/core";
import { describe, expect, it } from "vitest";
import {
  ConnectionClosedError,
  ConnectionResetError,
  type MemoryStream,
  memoryConnPair,
  memoryPair,
  toSocketError,
} from "../src/index.js";
import { collect, delay, once, payload, writeAll } from "./helpers.js";

describe("memoryPair", () => {
  it("carries bytes both ways", async () => {
    const [a, b] = memoryPair();
    const gotB = collect(b);
    const gotA = collect(a);
    a.end("hello from a");
    b.end("hello from b");
    expect((await gotB).toString()).toBe("hello from a");
    expect((await gotA).toString()).toBe("hello from b");
  });

  it("applies backpressure: a writer whose peer does not read sees write() false, then 'drain' after reading", async () => {
    const [a, b] = memoryPair({ highWaterMark: 1024 });
    let accepted = 0;
    let writes = 0;
    // Write until the pair pushes back; without backpressure this would loop to the cap.
    while (writes < 1000) {
      writes++;
      accepted += 256;
      if (!a.write(Buffer.alloc(256, 1))) break;
    }
    expect(writes).toBeLessThan(1000);
    await delay(20);
    // Bounded: the reader's buffer (1 KiB) plus the writer's (1 KiB) plus one chunk.
    expect(b.readableLength).toBeLessThanOrEqual(1024 + 256);
    expect(a.writableLength + b.readableLength).toBeLessThanOrEqual(2 * 1024 + 256);
    expect(a.writableNeedDrain).toBe(true);

    let drained = false;
    a.once("drain", () => {
      drained = true;
    });
    await delay(20);
    expect(drained).toBe(false); // nobody read yet

    let read = 0;
    b.on("data", (chunk: Buffer) => {
      read += chunk.length;
    });
    await once(a, "drain");
    expect(drained).toBe(true);
    await delay(10);
    expect(read).toBe(accepted);
  });

  it("keeps memory bounded while moving a large payload to a slow reader", async () => {
    const [a, b] = memoryPair({ highWaterMark: 4096 });
    // b only reads: ending its write side first makes the iterator's destroy at the end a clean close.
    b.end();
    const data = payload(512 * 1024);
    let maxBuffered = 0;
    const received: Buffer[] = [];
    const reading = (async () => {
      for await (const chunk of b) {
        maxBuffered = Math.max(maxBuffered, b.readableLength + a.writableLength);
        received.push(chunk as Buffer);
        await delay(0);
      }
    })();
    await writeAll(a, data, 8192);
    await reading;
    expect(Buffer.concat(received).equals(data)).toBe(true);
    expect(maxBuffered).toBeLessThanOrEqual(4096 * 2 + 8192);
  });

  it("half-closes: end() on one side is 'end' on the other, which can still write back", async () => {
    const [a, b] = memoryPair();
    const closed = Promise.all([eventOnce(a, "close"), eventOnce(b, "close")]);
    a.end("request");
    const request = await collect(b);
    expect(request.toString()).toBe("request");
    expect(b.writable).toBe(true);
    const response = collect(a);
    b.end("response after the peer ended");
    expect((await response).toString()).toBe("response after the peer ended");
    await closed; // both directions done: both ends close on their own, with no error
    expect(a.errored).toBeNull();
    expect(b.errored).toBeNull();
  });

  it("propagates an abrupt destroy to the peer as ECONNRESET", async () => {
    const [a, b] = memoryPair();
    const error = once<Error & { code?: string }>(b, "error");
    const closed = once(b, "close");
    a.write("partial");
    a.destroy();
    const e = await error;
    expect(e.code).toBe("ECONNRESET");
    expect(toSocketError(e)).toBeInstanceOf(ConnectionResetError);
    await closed;
    expect(b.destroyed).toBe(true);
  });

  it("a destroy with nothing unread or unsent is a clean close (FIN): the peer reads to its end", async () => {
    const [a, b] = memoryPair();
    a.write("all of it");
    await delay(5); // delivered
    a.destroy();
    expect((await collect(b)).toString()).toBe("all of it");
    expect(b.errored).toBeNull();
    const error = once<Error & { code?: string }>(b, "error");
    b.write("late");
    expect((await error).code).toBe("EPIPE");
  });

  it("keeps the error a side was destroyed with local: the peer sees a clean end", async () => {
    const [a, b] = memoryPair();
    a.on("error", () => {});
    a.destroy(new Error("local failure"));
    expect((await collect(b)).length).toBe(0);
    expect(b.errored).toBeNull();
  });

  it("resetAndDestroy() resets the peer even with nothing pending", async () => {
    const [a, b] = memoryPair();
    const error = once<Error & { code?: string }>(b, "error");
    a.resetAndDestroy();
    expect((await error).code).toBe("ECONNRESET");
    expect(toSocketError(await error)).toBeInstanceOf(ConnectionResetError);
  });

  it("a clean close after end() lets the peer read to the end; its later writes fail with EPIPE", async () => {
    const [a, b] = memoryPair();
    a.end("bye");
    a.resume();
    await once(a, "finish");
    a.destroy();
    expect((await collect(b)).toString()).toBe("bye");
    const error = once<Error & { code?: string }>(b, "error");
    b.write("anyone there?");
    expect((await error).code).toBe("EPIPE");
  });

  it("closing with unread input is abrupt (as TCP would reset)", async () => {
    const [a, b] = memoryPair();
    b.on("error", () => {});
    b.write("never read");
    await delay(5);
    a.end();
    await once(a, "finish");
    const closed = once(b, "close");
    a.destroy();
    await closed;
    expect((b as Duplex & { errored: Error | null }).errored).toMatchObject({ code: "ECONNRESET" });
  });

  it("fails a writer that was blocked on a peer that got destroyed, instead of hanging", async () => {
    const [a, b] = memoryPair({ highWaterMark: 64 });
    a.on("error", () => {});
    b.on("error", () => {});
    const results: Array<Error | null | undefined> = [];
    for (let i = 0; i < 10; i++) a.write(Buffer.alloc(64), (error) => results.push(error));
    await delay(10);
    expect(results.length).toBeLessThan(10); // some are waiting for b to read
    b.destroy();
    await once(a, "close");
    await delay(5);
    expect(results.length).toBe(10);
    expect(results.some((error) => error instanceof Error)).toBe(true);
  });

  it("delivers asynchronously, so ping-pong over a pair cannot recurse", async () => {
    const [a, b] = memoryPair();
    let depth = 0;
    let maxDepth = 0;
    let rounds = 0;
    b.on("data", (chunk: Buffer) => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      b.write(chunk);
      depth--;
    });
    await new Promise<void>((resolve) => {
      a.on("data", (chunk: Buffer) => {
        depth++;
        maxDepth = Math.max(maxDepth, depth);
        if (++rounds === 10_000) resolve();
        else a.write(chunk);
        depth--;
      });
      a.write("x");
    });
    expect(maxDepth).toBe(1);
  });

  it("does not share the writer's buffer with the reader", async () => {
    const [a, b] = memoryPair();
    const buffer = Buffer.from("original");
    const got = collect(b);
    a.write(buffer, () => buffer.fill(0x78));
    a.end();
    expect((await got).toString()).toBe("original");
  });

  it("works with stream.pipeline end to end (echo)", async () => {
    const [a, b] = memoryPair();
    const echo = pipeline(b, b);
    const data = payload(200_000);
    const got = collect(a);
    await writeAll(a, data, 10_000);
    expect((await got).equals(data)).toBe(true);
    await echo;
  });
});

describe("memoryConnPair", () => {
  it("gives each side a signal that aborts when its stream closes", async () => {
    const [client, server] = memoryConnPair();
    const clientSignal = signalOf(client);
    const serverSignal = signalOf(server);
    expect(clientSignal.aborted).toBe(false);
    const closed = once(server.stream, "close");
    (client.stream as MemoryStream).resetAndDestroy();
    await closed;
    expect(clientSignal.aborted).toBe(true);
    expect(clientSignal.reason).toBeInstanceOf(ConnectionClosedError);
    expect(serverSignal.aborted).toBe(true);
    expect(serverSignal.reason).toBeInstanceOf(ConnectionResetError);
  });

  it("aborts a side's signal only when that side closes (a clean peer close is just an end)", async () => {
    const [client, server] = memoryConnPair();
    client.stream.destroy();
    await collect(server.stream);
    expect(signalOf(client).aborted).toBe(true);
    expect(signalOf(server).aborted).toBe(false);
    server.stream.end();
    await once(server.stream, "close");
    expect(signalOf(server).reason).toBeInstanceOf(ConnectionClosedError);
  });

  it("keeps given extensions and isolates the two sides", () => {
    const [client, server] = memoryConnPair();
    expect(client.extensions).not.toBe(server.extensions);
    const copy = client.withExtensions(client.extensions.fork());
    expect(copy.stream).toBe(client.stream);
    expect(copy.extensions.parent).toBe(client.extensions);
  });
});
