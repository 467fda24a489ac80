import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  Body,
  BodyCancelledError,
  BodyConsumedError,
  BodyLengthMismatchError,
  BodyTooLargeError,
  HeaderMap,
  InvalidBodyChunkError,
  InvalidJsonError,
} from "../src/index.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (chunks: Uint8Array[]): string => Buffer.concat(chunks).toString("utf8");
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function drain(body: Body): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return chunks;
}

/** An iterable that records what happened to it. */
function tracked(chunks: (Uint8Array | string)[]) {
  const log = { iterators: 0, produced: 0, finished: false, returned: false };
  const iterable: AsyncIterable<Uint8Array | string> = {
    [Symbol.asyncIterator]() {
      log.iterators++;
      const gen = (async function* () {
        try {
          for (const chunk of chunks) {
            log.produced++;
            yield chunk;
          }
        } finally {
          log.finished = true;
        }
      })();
      const ret = gen.return.bind(gen);
      gen.return = (value) => {
        log.returned = true;
        return ret(value);
      };
      return gen;
    },
  };
  return { iterable, log };
}

describe("buffered bodies (string, bytes, JSON)", () => {
  it("know their length and read back", async () => {
    const body = Body.fromText("héllo");
    expect(body.length).toBe(6);
    expect(await body.text()).toBe("héllo");
    expect(await Body.fromBytes(enc("abc")).bytes()).toEqual(enc("abc"));
    expect(await Body.fromJson({ a: [1, "x"] }).json()).toEqual({ a: [1, "x"] });
    expect(Body.fromJson({ a: 1 }).length).toBe(7);
  });

  it("hand their bytes to a server without consuming (same instance, no copy, any number of times)", async () => {
    const bytes = enc("hello");
    const body = Body.fromBytes(bytes);
    expect(body.bytesIfBuffered()).toBe(bytes);
    expect(body.bytesIfBuffered()).toBe(bytes);
    expect(body.consumed).toBe(false);
    expect(Buffer.from(Body.fromText("hi").bytesIfBuffered()!).toString()).toBe("hi");
    expect(Body.empty().bytesIfBuffered()?.byteLength).toBe(0);
    await body.text();
    expect(body.bytesIfBuffered()).toBeUndefined();
  });

  it("are consumed once: a second read throws BodyConsumedError", async () => {
    const body = Body.fromText("x");
    await body.text();
    await expect(body.text()).rejects.toBeInstanceOf(BodyConsumedError);
    await expect(body.bytes()).rejects.toMatchObject({ code: "ERR_HTTP_BODY_CONSUMED" });
    expect(() => body[Symbol.asyncIterator]()).toThrow(BodyConsumedError);
  });

  it("iterate as one chunk, and consumed after", async () => {
    const body = Body.fromText("abc");
    expect(dec(await drain(body))).toBe("abc");
    await expect(drain(body)).rejects.toBeInstanceOf(BodyConsumedError);
  });

  it("the empty body is shared and reads as nothing any number of times", async () => {
    const empty = Body.empty();
    expect(Body.from(null)).toBe(empty);
    expect(Body.fromText("")).toBe(empty);
    expect(empty.length).toBe(0);
    expect(await empty.text()).toBe("");
    expect(await empty.text()).toBe("");
    expect(await drain(empty)).toEqual([]);
    empty.cancel();
    expect(empty.consumed).toBe(false);
    expect(await empty.bytes()).toHaveLength(0);
  });

  it("text() drops a byte order mark; json() rejects invalid JSON with a 400", async () => {
    expect(await Body.fromBytes(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])).text()).toBe("a");
    const error = await Body.fromText("{nope")
      .json()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidJsonError);
    expect((error as InvalidJsonError).status).toBe(400);
    expect((error as InvalidJsonError).cause).toBeInstanceOf(SyntaxError);
  });

  it("Body.from dispatches on the input", async () => {
    const body = Body.fromText("a");
    expect(Body.from(body)).toBe(body);
    expect(await Body.from("s").text()).toBe("s");
    expect(await Body.from(new Uint8Array([65]).buffer).text()).toBe("A");
    expect(Body.from(undefined)).toBe(Body.empty());
    expect(await Body.from(Readable.from(["r"])).text()).toBe("r");
    expect(() => Body.from(42 as never)).toThrow(TypeError);
    expect(() => Body.fromJson(undefined)).toThrow(TypeError);
  });
});

describe("streaming bodies are pull-based", () => {
  it("do not touch the iterable until read", async () => {
    const { iterable, log } = tracked(["a", "b"]);
    const body = Body.fromIterable(iterable);
    await tick();
    expect(log.iterators).toBe(0);
    expect(body.length).toBeUndefined();
    expect(body.bytesIfBuffered()).toBeUndefined();
    expect(await body.text()).toBe("ab");
    expect(log.iterators).toBe(1);
  });

  it("produce only what the consumer pulls (backpressure)", async () => {
    let produced = 0;
    const body = Body.fromIterable(
      (async function* () {
        for (let i = 0; i < 1000; i++) {
          produced++;
          yield new Uint8Array(1024);
        }
      })(),
    );
    const iterator = body[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    for (let i = 0; i < 10; i++) await tick();
    expect(produced).toBe(2);
    await iterator.return?.();
  });

  it("encode string chunks and skip empty ones (an empty chunk would end a chunked HTTP/1 body)", async () => {
    const body = Body.fromIterable(
      (async function* () {
        yield "a";
        yield new Uint8Array(0);
        yield "";
        yield enc("b");
      })(),
    );
    const chunks = await drain(body);
    expect(chunks.map((c) => c.byteLength)).toEqual([1, 1]);
  });

  it("reject a chunk that is not bytes", async () => {
    const body = Body.fromIterable(
      (async function* () {
        yield 42 as unknown as Uint8Array;
      })(),
    );
    await expect(body.text()).rejects.toBeInstanceOf(InvalidBodyChunkError);
  });

  it("pull a Node Readable with its backpressure", async () => {
    let reads = 0;
    const readable = new Readable({
      highWaterMark: 1024,
      read() {
        reads++;
        this.push(new Uint8Array(1024));
        if (reads === 100) this.push(null);
      },
    });
    const body = Body.fromIterable(readable);
    const iterator = body[Symbol.asyncIterator]();
    await iterator.next();
    for (let i = 0; i < 10; i++) await tick();
    expect(reads).toBeLessThan(5);
    let total = 1024;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) total += r.value.byteLength;
    expect(total).toBe(100 * 1024);
  });

  it("propagate the producer's error to the reader", async () => {
    const body = Body.fromIterable(
      (async function* () {
        yield "a";
        throw new Error("upstream broke");
      })(),
    );
    await expect(body.text()).rejects.toThrow("upstream broke");
  });
});

describe("body limits", () => {
  it("refuse a streamed body that grows past the limit, with a 413 error, and stop the producer", async () => {
    const { iterable, log } = tracked(["aaaa", "bbbb", "cccc", "dddd"]);
    const body = Body.fromIterable(iterable);
    const error = await body.bytes({ limit: 6 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BodyTooLargeError);
    expect(error).toMatchObject({ code: "ERR_HTTP_BODY_TOO_LARGE", status: 413, limit: 6 });
    expect(log.produced).toBe(2);
    expect(log.finished).toBe(true);
    expect(body.cancelled).toBe(true);
  });

  it("refuse a declared length over the limit without reading a byte", async () => {
    const { iterable, log } = tracked(["x".repeat(100)]);
    const body = Body.fromIterable(iterable, { length: 100 });
    await expect(body.text({ limit: 10 })).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(log.produced).toBe(0);
  });

  it("apply to buffered bodies too, and accept exactly the limit", async () => {
    await expect(Body.fromText("12345").text({ limit: 4 })).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(await Body.fromText("12345").text({ limit: 5 })).toBe("12345");
    expect(await Body.fromIterable(toAsync(["12", "345"])).text({ limit: 5 })).toBe("12345");
  });

  it("default to 2 MiB; Infinity lifts the limit", async () => {
    const big = new Uint8Array(2 * 1024 * 1024 + 1);
    await expect(Body.fromIterable(toAsync([big])).bytes()).rejects.toBeInstanceOf(BodyTooLargeError);
    expect((await Body.fromIterable(toAsync([big])).bytes({ limit: Infinity })).byteLength).toBe(
      big.byteLength,
    );
  });
});

async function* toAsync<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

describe("declared length", () => {
  it("is enforced when reading: fewer bytes fail", async () => {
    const body = Body.fromIterable(toAsync(["abc"]), { length: 5 });
    await expect(body.text()).rejects.toBeInstanceOf(BodyLengthMismatchError);
    await expect(drain(Body.fromIterable(toAsync(["abc"]), { length: 5 }))).rejects.toMatchObject({
      code: "ERR_HTTP_BODY_LENGTH_MISMATCH",
      expected: 5,
      actual: 3,
    });
  });

  it("is enforced when reading: more bytes fail at the chunk that overflows", async () => {
    const chunks: Uint8Array[] = [];
    const body = Body.fromIterable(toAsync(["abc", "def"]), { length: 4 });
    const error = await (async () => {
      for await (const chunk of body) chunks.push(chunk);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BodyLengthMismatchError);
    expect(chunks).toHaveLength(1);
  });

  it("must be a non-negative integer", () => {
    expect(() => Body.fromIterable(toAsync([]), { length: -1 })).toThrow(RangeError);
    expect(() => Body.fromIterable(toAsync([]), { length: 1.5 })).toThrow(RangeError);
  });
});

describe("cancellation reaches the producer", () => {
  it("cancel() before reading returns the iterator of a fresh iterable and later reads fail", async () => {
    const gen = (async function* () {
      yield "a";
    })();
    let returned = false;
    const ret = gen.return.bind(gen);
    gen.return = (v) => {
      returned = true;
      return ret(v);
    };
    const body = Body.fromIterable(gen);
    body.cancel(new Error("not wanted"));
    expect(returned).toBe(true);
    expect(body.cancelled).toBe(true);
    expect(body.consumed).toBe(true);
    await expect(body.text()).rejects.toBeInstanceOf(BodyCancelledError);
  });

  it("cancel() while reading runs the generator's finally", async () => {
    const { iterable, log } = tracked(["a", "b", "c"]);
    const body = Body.fromIterable(iterable);
    const iterator = body[Symbol.asyncIterator]();
    await iterator.next();
    body.cancel();
    await tick();
    expect(log.returned).toBe(true);
    expect(log.finished).toBe(true);
    await expect(iterator.next()).rejects.toBeInstanceOf(BodyCancelledError);
  });

  it("breaking out of for-await cancels the producer", async () => {
    const { iterable, log } = tracked(["a", "b", "c"]);
    const body = Body.fromIterable(iterable);
    for await (const _ of body) break;
    await tick();
    expect(log.finished).toBe(true);
    expect(log.produced).toBe(1);
  });

  it("destroys a Node Readable, before or during reading", async () => {
    const fresh = new Readable({ read() {} });
    Body.fromIterable(fresh).cancel();
    expect(fresh.destroyed).toBe(true);

    const reading = new Readable({ read() {} });
    reading.push("x");
    const body = Body.fromIterable(reading);
    const iterator = body[Symbol.asyncIterator]();
    await iterator.next();
    const pending = iterator.next();
    body.cancel();
    expect(reading.destroyed).toBe(true);
    await expect(pending).rejects.toBeInstanceOf(BodyCancelledError);
  });

  it("cancels a web ReadableStream", async () => {
    let reason: unknown;
    const stream = new ReadableStream<Uint8Array>({
      cancel(r) {
        reason = r;
      },
    });
    const why = new Error("gone");
    Body.fromIterable(stream).cancel(why);
    await tick();
    expect(reason).toBe(why);
  });

  it("does nothing once the body has ended", async () => {
    const body = Body.fromIterable(toAsync(["a"]));
    await body.text();
    body.cancel();
    expect(body.cancelled).toBe(false);
  });
});

describe("trailers", () => {
  it("come from a function called when the body ends", async () => {
    let called = 0;
    const trailers = HeaderMap.fromPairs([["Checksum", "42"]]);
    const body = Body.fromIterable(toAsync(["a"]), {
      trailers: () => {
        called++;
        return trailers;
      },
    });
    expect(body.trailers).toBeUndefined();
    await drain(body);
    expect(called).toBe(1);
    expect(body.trailers?.get("checksum")).toBe("42");
  });

  it("are undefined when there are none", async () => {
    const body = Body.fromIterable(toAsync(["a"]));
    await body.text();
    expect(body.trailers).toBeUndefined();
  });
});
