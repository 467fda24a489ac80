import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  FrameReader,
  FrameType,
  FrameWriter,
  HeaderBlockAssembler,
  HpackDecoder,
  HpackEncoder,
  Http2Error,
  Http2HeaderListTooLargeError,
  SettingId,
} from "../src/index.js";
import { prng, randomSplit } from "./support/frames.js";

// Random and mutated input must only ever produce our typed errors (never a TypeError, RangeError or a crash
// inside hpack.js), and must always finish: every loop here is bounded, and each case is timed. The seeds are
// fixed, so a failure reproduces; the failing seed is in the assertion message.

type Random = () => number;

const int = (random: Random, n: number) => Math.floor(random() * n);

function randomBytes(random: Random, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = int(random, 256);
  return out;
}

function randomToken(random: Random): string {
  const chars = "abcdefghijklmnopqrstuvwxyz-0123456789";
  let s = "";
  for (let n = 1 + int(random, 12); n > 0; n--) s += chars[int(random, chars.length)];
  return s;
}

function randomLatin1(random: Random, max: number): string {
  let s = "";
  for (let n = int(random, max); n > 0; n--)
    s += String.fromCharCode(random() < 0.9 ? 0x20 + int(random, 95) : int(random, 256));
  return s;
}

function randomHeaders(random: Random): string[] {
  const fields = [":method", random() < 0.5 ? "GET" : "POST", ":path", `/${randomToken(random)}`];
  for (let n = int(random, 12); n > 0; n--) {
    fields.push(random() < 0.3 ? "user-agent" : randomToken(random), randomLatin1(random, 40));
  }
  return fields;
}

/** A plausible connection: valid frames of every type, header blocks from a real encoder. */
function validStream(random: Random): Buffer {
  const w = new FrameWriter();
  const encoder = new HpackEncoder();
  w.settings([
    [SettingId.HEADER_TABLE_SIZE, int(random, 8192)],
    [SettingId.INITIAL_WINDOW_SIZE, int(random, 1 << 20)],
  ]);
  for (let n = 1 + int(random, 12); n > 0; n--) {
    const stream = 1 + 2 * int(random, 5);
    switch (int(random, 10)) {
      case 0:
        w.data(stream, randomBytes(random, int(random, 64)), {
          endStream: random() < 0.3,
          padding: random() < 0.3 ? int(random, 20) : undefined,
        });
        break;
      case 1:
      case 2:
        w.headers(stream, encoder.encode(randomHeaders(random)), {
          endStream: random() < 0.5,
          padding: random() < 0.2 ? int(random, 10) : undefined,
          priority: random() < 0.2 ? { dependency: stream + 2, weight: 1 + int(random, 256) } : undefined,
        });
        break;
      case 3:
        w.priority(stream, { dependency: 0, weight: 1 + int(random, 256), exclusive: random() < 0.5 });
        break;
      case 4:
        w.rstStream(stream, int(random, 14));
        break;
      case 5:
        w.ping(randomBytes(random, 8), random() < 0.5);
        break;
      case 6:
        w.windowUpdate(random() < 0.5 ? 0 : stream, 1 + int(random, 1 << 16));
        break;
      case 7:
        w.pushPromise(stream, stream + 1, encoder.encode(randomHeaders(random)));
        break;
      case 8:
        w.frame(
          0x0a + int(random, 240),
          int(random, 256),
          int(random, 8),
          randomBytes(random, int(random, 16)),
        );
        break;
      default:
        w.goaway(stream, int(random, 14), randomBytes(random, int(random, 10)));
    }
  }
  return w.take();
}

/** Flips, inserts, deletes, duplicates or truncates a few places. */
function mutate(bytes: Buffer, random: Random): Buffer {
  let b = Buffer.from(bytes);
  for (let n = 1 + int(random, 4); n > 0; n--) {
    const at = int(random, b.length + 1);
    switch (int(random, 5)) {
      case 0:
        if (b.length > 0) {
          const i = Math.min(at, b.length - 1);
          b[i] = b[i]! ^ (1 << int(random, 8));
        }
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), randomBytes(random, 1 + int(random, 8)), b.subarray(at)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(random, 8)))]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 16), b.subarray(at)]);
        break;
      default:
        b = b.subarray(0, at);
    }
  }
  return b;
}

interface Tally {
  clean: number;
  errors: Map<string, number>;
}

function tally(t: Tally, code: string): void {
  t.errors.set(code, (t.errors.get(code) ?? 0) + 1);
}

/** Reads a stream the way a connection would: reader, assembler, HPACK. Returns the error code or null. */
function readConnection(chunks: Buffer[]): string | null {
  const decoder = new HpackDecoder({ maxHeaderListSize: 4096 });
  const reader = new FrameReader(
    new HeaderBlockAssembler({
      onFrame(frame) {
        if (frame.type !== FrameType.HEADERS && frame.type !== FrameType.PUSH_PROMISE) return;
        try {
          decoder.decode(frame.data, frame.streamId);
        } catch (err) {
          if (!(err instanceof Http2HeaderListTooLargeError)) throw err; // a stream error: go on
        }
      },
      onStreamError() {},
    }),
  );
  try {
    for (const chunk of chunks) reader.push(chunk);
    return null;
  } catch (err) {
    if (!(err instanceof Http2Error)) throw err;
    return err.code;
  }
}

function timed(label: string, fn: () => void): void {
  const start = performance.now();
  fn();
  const ms = performance.now() - start;
  if (ms > 1000) expect.fail(`${label} took ${ms.toFixed(0)} ms`);
}

describe("fuzz: frames", () => {
  it("mutated valid streams, in random splits, give frames or a typed Http2Error", () => {
    const t: Tally = { clean: 0, errors: new Map() };
    for (let seed = 1; seed <= 600; seed++) {
      const random = prng(seed);
      const stream = mutate(validStream(random), random);
      timed(`seed ${seed}`, () => {
        let code: string | null = null;
        try {
          code = readConnection(randomSplit(stream, random, 8));
        } catch (err) {
          expect.fail(`seed ${seed}: ${String(err)}`);
        }
        if (code === null) t.clean++;
        else tally(t, code);
      });
    }
    // The mutations reach many different checks, and some streams survive them.
    expect(t.clean).toBeGreaterThan(20);
    expect(t.errors.size).toBeGreaterThanOrEqual(4);
  });

  it("valid streams read cleanly", () => {
    for (let seed = 1000; seed < 1100; seed++) {
      const random = prng(seed);
      expect(readConnection(randomSplit(validStream(random), random)), `seed ${seed}`).toBeNull();
    }
  });

  it("random bytes, with and without the preface check", () => {
    for (let seed = 2000; seed < 2600; seed++) {
      const random = prng(seed);
      const bytes = randomBytes(random, int(random, 300));
      expect(() => readConnection([bytes]), `seed ${seed}`).not.toThrow();
      const reader = new FrameReader(
        { onFrame() {}, onStreamError() {} },
        { preface: seed % 2 ? "client" : "server" },
      );
      try {
        reader.push(bytes);
      } catch (err) {
        expect(err, `seed ${seed}`).toBeInstanceOf(Http2Error);
      }
    }
  });
});

describe("fuzz: HPACK", () => {
  const story = JSON.parse(
    readFileSync(new URL("../../../../shared/testdata/hpack/nghttp2/story_20.json", import.meta.url), "utf8"),
  ) as { cases: { wire: string }[] };
  const blocks = story.cases.map((c) => Buffer.from(c.wire, "hex"));

  it("mutated story blocks decode or fail with a typed error", () => {
    const t: Tally = { clean: 0, errors: new Map() };
    for (let seed = 1; seed <= 1500; seed++) {
      const random = prng(seed);
      // Decode a clean prefix of the story first, so mutations hit a populated dynamic table.
      const decoder = new HpackDecoder({ maxHeaderListSize: 8192 });
      const upTo = int(random, Math.min(blocks.length, 10));
      for (let i = 0; i < upTo; i++) decoder.decode(blocks[i]!, 1);
      const block = mutate(blocks[upTo]!, random);
      timed(`seed ${seed}`, () => {
        try {
          decoder.decode(block, 1);
          t.clean++;
        } catch (err) {
          if (!(err instanceof Http2Error)) expect.fail(`seed ${seed}: ${String(err)}`);
          tally(t, err.code);
        }
      });
    }
    expect(t.clean).toBeGreaterThan(50);
    expect(t.errors.get("ERR_HTTP2_COMPRESSION")).toBeGreaterThan(50);
  });

  it("random blocks decode or fail with a typed error", () => {
    for (let seed = 1; seed <= 1500; seed++) {
      const random = prng(seed);
      const block = randomBytes(random, int(random, 64));
      try {
        new HpackDecoder({ maxTableSize: int(random, 8192) }).decode(block, 1);
      } catch (err) {
        if (!(err instanceof Http2Error)) expect.fail(`seed ${seed}: ${String(err)}`);
      }
    }
  });

  it("random header lists round-trip through encoder and decoder, table sizes changing on the way", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const random = prng(seed);
      const encoder = new HpackEncoder({
        maxTableSize: [0, 256, 4096, 65_536][int(random, 4)],
        huffman: (["auto", "always", "never"] as const)[int(random, 3)],
      });
      const decoder = new HpackDecoder({ maxTableSize: 65_536, maxHeaderListSize: 1 << 20 });
      for (let i = 0; i < 40; i++) {
        if (random() < 0.1) {
          const size = int(random, 70_000);
          encoder.setMaxTableSize(size);
          decoder.setMaxTableSize(size);
        }
        const fields = randomHeaders(random);
        const never = random() < 0.2 ? [int(random, fields.length / 2)] : undefined;
        const list = decoder.decode(encoder.encode(fields, never), 1);
        expect(list.fields, `seed ${seed} block ${i}`).toEqual(fields);
        if (never !== undefined) expect(list.neverIndexed).toContain(never[0]);
        expect(decoder.tableSize).toBe(encoder.tableSize);
      }
    }
  });
});
