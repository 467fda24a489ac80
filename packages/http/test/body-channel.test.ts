import { describe, expect, it } from "vitest";
import {
  Body,
  BodyCancelledError,
  type BodyChannel,
  BodyLengthMismatchError,
  HeaderMap,
} from "../src/index.js";

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const chunk = (n: number, fill = 0x61): Uint8Array => new Uint8Array(n).fill(fill);

/** A socket-like producer: emits `total` chunks of `size` bytes while not paused, as a socket's data events. */
function fakeSocket(total: number, size: number) {
  const state = { paused: false, sent: 0, pauses: 0, resumes: 0, maxBuffered: 0 };
  let channel!: BodyChannel;
  const pump = (): void => {
    while (!state.paused && state.sent < total && !channel.cancelled) {
      state.sent++;
      const more = channel.push(chunk(size));
      state.maxBuffered = Math.max(state.maxBuffered, channel.bufferedBytes);
      if (!more) {
        state.paused = true;
        state.pauses++;
      }
    }
    if (state.sent === total && !channel.closed) channel.end();
  };
  const listener = {
    onDrain() {
      state.paused = false;
      state.resumes++;
      setImmediate(pump); // data events come later, as from a socket
    },
  };
  return {
    state,
    start(ch: BodyChannel) {
      channel = ch;
      setImmediate(pump);
    },
    listener,
  };
}

describe("Body.channel backpressure", () => {
  it("push returns false at the high-water mark and onDrain comes when the reader catches up", async () => {
    let drains = 0;
    const channel = Body.channel({ highWaterMark: 10, listener: { onDrain: () => drains++ } });
    expect(channel.push(chunk(4))).toBe(true);
    expect(channel.push(chunk(4))).toBe(true);
    expect(channel.push(chunk(4))).toBe(false);
    expect(channel.bufferedBytes).toBe(12);
    const iterator = channel.body[Symbol.asyncIterator]();
    await iterator.next();
    expect(channel.bufferedBytes).toBe(8);
    expect(drains).toBe(1);
    await iterator.next();
    expect(drains).toBe(1);
  });

  it("a producer that obeys push stops when nobody reads: memory stays bounded", async () => {
    const socket = fakeSocket(1000, 1024);
    const channel = Body.channel({ highWaterMark: 16 * 1024, listener: socket.listener });
    socket.start(channel);
    for (let i = 0; i < 20; i++) await tick();
    expect(socket.state.paused).toBe(true);
    expect(socket.state.sent).toBe(16);
    expect(channel.bufferedBytes).toBe(16 * 1024);
  });

  it("a slow reader gets every byte while buffering stays under the mark plus one chunk", async () => {
    const socket = fakeSocket(200, 1000);
    const channel = Body.channel({ highWaterMark: 4096, listener: socket.listener });
    socket.start(channel);
    let total = 0;
    for await (const c of channel.body) {
      total += c.byteLength;
      await tick();
    }
    expect(total).toBe(200 * 1000);
    expect(socket.state.maxBuffered).toBeLessThanOrEqual(4096 + 1000);
    expect(socket.state.pauses).toBeGreaterThan(10);
    // Every pause is followed by a resume, except one after the last chunk (the channel has ended by then).
    expect(socket.state.resumes).toBeGreaterThanOrEqual(socket.state.pauses - 1);
  });

  it("a chunk pushed while the reader waits goes straight to it, unbuffered", async () => {
    const reads: number[] = [];
    const channel = Body.channel({ highWaterMark: 1, listener: { onRead: (_c, n) => reads.push(n) } });
    const iterator = channel.body[Symbol.asyncIterator]();
    const pending = iterator.next();
    expect(channel.push(chunk(100))).toBe(true);
    expect(channel.bufferedBytes).toBe(0);
    expect((await pending).value?.byteLength).toBe(100);
    expect(reads).toEqual([100]);
  });

  it("onRead reports every byte the reader consumed (HTTP/2 WINDOW_UPDATE accounting)", async () => {
    let consumed = 0;
    const channel = Body.channel({ listener: { onRead: (_c, n) => (consumed += n) } });
    channel.push(chunk(3));
    channel.push(chunk(5));
    channel.end();
    await channel.body.bytes();
    expect(consumed).toBe(8);
  });
});

describe("Body.channel ending", () => {
  it("end(trailers) completes the body and exposes the trailers", async () => {
    const channel = Body.channel();
    channel.push(new TextEncoder().encode("hi"));
    channel.end(HeaderMap.fromPairs([["Grpc-Status", "0"]]));
    expect(await channel.body.text()).toBe("hi");
    expect(channel.body.trailers?.get("grpc-status")).toBe("0");
  });

  it("end() wakes a waiting reader", async () => {
    const channel = Body.channel();
    const text = channel.body.text();
    await tick();
    channel.end();
    expect(await text).toBe("");
  });

  it("error(e) rejects the waiting read and drops the buffer", async () => {
    const channel = Body.channel();
    const iterator = channel.body[Symbol.asyncIterator]();
    const pending = iterator.next();
    const boom = new Error("connection lost");
    channel.error(boom);
    await expect(pending).rejects.toBe(boom);

    const other = Body.channel();
    other.push(chunk(1));
    other.error(boom);
    expect(other.bufferedBytes).toBe(0);
    await expect(other.body.text()).rejects.toBe(boom);
  });

  it("the declared length is checked", async () => {
    const channel = Body.channel({ length: 10 });
    expect(channel.body.length).toBe(10);
    channel.push(chunk(5));
    channel.end();
    await expect(channel.body.text()).rejects.toBeInstanceOf(BodyLengthMismatchError);
  });

  it("push after end is a producer bug and throws", () => {
    const channel = Body.channel();
    channel.end();
    expect(() => channel.push(chunk(1))).toThrow();
  });
});

describe("Body.channel cancellation reaches the producer", () => {
  it("cancel() calls onCancel with the reason, drops the buffer, and push returns false after", async () => {
    const seen: unknown[] = [];
    const channel = Body.channel({ listener: { onCancel: (_c, reason) => seen.push(reason) } });
    channel.push(chunk(10));
    const why = new Error("handler answered without reading");
    channel.body.cancel(why);
    expect(seen).toEqual([why]);
    expect(channel.cancelled).toBe(true);
    expect(channel.bufferedBytes).toBe(0);
    expect(channel.push(chunk(1))).toBe(false);
    await expect(channel.body.text()).rejects.toBeInstanceOf(BodyCancelledError);
  });

  it("a pending read rejects when the body is cancelled", async () => {
    const channel = Body.channel();
    const iterator = channel.body[Symbol.asyncIterator]();
    const pending = iterator.next();
    channel.body.cancel();
    await expect(pending).rejects.toBeInstanceOf(BodyCancelledError);
  });

  it("breaking out of a loop and a body over the limit both cancel the producer", async () => {
    let cancels = 0;
    const listener = { onCancel: () => cancels++ };
    const a = Body.channel({ listener });
    a.push(chunk(1));
    a.push(chunk(1));
    for await (const _ of a.body) break;
    expect(cancels).toBe(1);

    const b = Body.channel({ listener });
    b.push(chunk(100));
    await expect(b.body.bytes({ limit: 50 })).rejects.toMatchObject({ code: "ERR_HTTP_BODY_TOO_LARGE" });
    expect(cancels).toBe(2);

    const c = Body.channel({ length: 100, listener });
    await expect(c.body.bytes({ limit: 50 })).rejects.toMatchObject({ status: 413 });
    expect(cancels).toBe(3);
  });

  it("cancelling after the end tells nobody", async () => {
    let cancels = 0;
    const channel = Body.channel({ listener: { onCancel: () => cancels++ } });
    channel.end();
    channel.body.cancel();
    expect(cancels).toBe(0);
  });
});
