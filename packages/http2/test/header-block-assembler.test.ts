import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  encodeDataFrame,
  encodeFrame,
  encodeHeadersFrame,
  encodePingFrame,
  encodePriorityFrame,
  encodePushPromiseFrame,
  encodeWindowUpdateFrame,
  type Frame,
  FrameFlag,
  FrameReader,
  FrameType,
  HeaderBlockAssembler,
  type HeaderBlockLimits,
  HpackDecoder,
  HpackEncoder,
  Http2ContinuationFloodError,
  type Http2Error,
  Http2HeaderBlockTooLargeError,
  Http2ProtocolError,
} from "../src/index.js";
import { byteByByte, prng, randomSplit } from "./support/frames.js";

function continuation(streamId: number, fragment: Buffer, end: boolean): Buffer {
  return encodeFrame(FrameType.CONTINUATION, end ? FrameFlag.END_HEADERS : 0, streamId, fragment);
}

/** HEADERS without END_HEADERS. */
function openHeaders(streamId: number, fragment: Buffer, flags = 0): Buffer {
  return encodeFrame(FrameType.HEADERS, flags, streamId, fragment);
}

interface Harness {
  reader: FrameReader;
  assembler: HeaderBlockAssembler;
  frames: Frame[];
  streamErrors: Http2Error[];
}

function harness(limits?: Partial<HeaderBlockLimits>): Harness {
  const frames: Frame[] = [];
  const streamErrors: Http2Error[] = [];
  const assembler = new HeaderBlockAssembler(
    { onFrame: (f) => frames.push(f), onStreamError: (e) => streamErrors.push(e) },
    limits,
  );
  return { reader: new FrameReader(assembler), assembler, frames, streamErrors };
}

function thrownBy(fn: () => void): Http2Error {
  try {
    fn();
  } catch (err) {
    return err as Http2Error;
  }
  throw new Error("expected a throw");
}

describe("joining HEADERS and CONTINUATION", () => {
  it("a block in one frame passes through as is, zero copy", () => {
    const h = harness();
    const bytes = encodeHeadersFrame(1, Buffer.from("828684", "hex"), { endStream: true });
    h.reader.push(bytes);
    expect(h.frames.length).toBe(1);
    expect(h.frames[0]!.data.toString("hex")).toBe("828684");
    expect(h.frames[0]!.data.buffer).toBe(bytes.buffer);
    expect(h.frames[0]!.continuations).toBe(0);
  });

  it("HEADERS + CONTINUATION frames arrive as one HEADERS frame holding the whole block", () => {
    const h = harness();
    const chunks = [
      openHeaders(3, Buffer.from("aa", "hex"), FrameFlag.END_STREAM),
      continuation(3, Buffer.from("bbbb", "hex"), false),
      continuation(3, Buffer.alloc(0), false),
      continuation(3, Buffer.from("cc", "hex"), true),
      encodePingFrame(),
    ];
    for (const c of chunks) h.reader.push(c);
    expect(h.frames.map((f) => f.type)).toEqual([FrameType.HEADERS, FrameType.PING]);
    const headers = h.frames[0]!;
    expect(headers.data.toString("hex")).toBe("aabbbbcc");
    expect(headers.streamId).toBe(3);
    expect(headers.endStream).toBe(true);
    expect(headers.endHeaders).toBe(true);
    expect(headers.continuations).toBe(3);
    // The block is the assembler's own copy: the chunks it came from can be reused.
    for (const c of chunks) c.fill(0);
    expect(headers.data.toString("hex")).toBe("aabbbbcc");
  });

  it("keeps the first frame's padding and priority", () => {
    const h = harness();
    const block = Buffer.alloc(20_000, 0x82);
    h.reader.push(
      encodeHeadersFrame(5, block, { padding: 9, priority: { dependency: 3, weight: 42, exclusive: true } }),
    );
    expect(h.frames.length).toBe(1);
    expect(h.frames[0]).toMatchObject({
      dependency: 3,
      weight: 42,
      exclusive: true,
      padLength: 9,
      continuations: 1,
    });
    expect(h.frames[0]!.data.equals(block)).toBe(true);
  });

  it("PUSH_PROMISE too", () => {
    const h = harness();
    h.reader.push(encodePushPromiseFrame(1, 2, Buffer.alloc(30_000, 0x82)));
    expect(h.frames[0]).toMatchObject({
      type: FrameType.PUSH_PROMISE,
      promisedStreamId: 2,
      continuations: 1,
    });
    expect(h.frames[0]!.data.length).toBe(30_000);
  });

  it("the same result whatever the byte split", () => {
    const stream = Buffer.concat([
      encodeHeadersFrame(1, Buffer.alloc(40_000, 0x61), { endStream: true }),
      encodeDataFrame(1, Buffer.from("x")),
      encodeHeadersFrame(3, Buffer.from("82", "hex")),
    ]);
    const run = (chunks: Buffer[]) => {
      const h = harness();
      for (const c of chunks) h.reader.push(c);
      return h.frames.map((f) => [f.type, f.streamId, f.flags, f.continuations, f.data.toString("base64")]);
    };
    const whole = run([stream]);
    expect(whole.length).toBe(3);
    expect(run(byteByByte(stream))).toEqual(whole);
    const random = prng(42);
    for (let i = 0; i < 30; i++) expect(run(randomSplit(stream, random))).toEqual(whole);
  });

  it("a large header list survives encode -> frames -> assemble -> decode", () => {
    const fields: string[] = [
      ":method",
      "GET",
      ":scheme",
      "https",
      ":authority",
      "example.com",
      ":path",
      "/",
    ];
    for (let i = 0; i < 300; i++) fields.push(`x-header-${i}`, `value ${i} `.repeat(10));
    const block = new HpackEncoder().encode(fields);
    expect(block.length).toBeGreaterThan(16_384); // so it needs CONTINUATION frames
    const decoder = new HpackDecoder({ maxHeaderListSize: 1 << 20 });
    const lists: string[][] = [];
    const reader = new FrameReader(
      new HeaderBlockAssembler(
        {
          onFrame: (f) => {
            if (f.type === FrameType.HEADERS) lists.push([...decoder.decode(f.data, f.streamId).fields]);
            expect(f.continuations).toBeGreaterThan(0);
          },
          onStreamError: () => {},
        },
        { maxHeaderBlockSize: 1 << 20 },
      ),
    );
    reader.push(encodeHeadersFrame(1, block, { endStream: true }));
    expect(lists).toEqual([fields]);
  });
});

describe("sequencing errors (RFC 9113 6.10): connection PROTOCOL_ERROR", () => {
  const cases: [string, Buffer[]][] = [
    ["a PING in the middle of a block", [openHeaders(1, Buffer.from("82", "hex")), encodePingFrame()]],
    ["DATA in the middle of a block", [openHeaders(1, Buffer.alloc(1)), encodeDataFrame(1, Buffer.alloc(1))]],
    [
      "CONTINUATION on another stream",
      [openHeaders(1, Buffer.alloc(1)), continuation(3, Buffer.alloc(1), true)],
    ],
    [
      "HEADERS instead of CONTINUATION",
      [openHeaders(1, Buffer.alloc(1)), encodeHeadersFrame(1, Buffer.alloc(1))],
    ],
    [
      "an extension frame in the middle of a block",
      [openHeaders(1, Buffer.alloc(1)), encodeFrame(0xfa, 0, 0, Buffer.alloc(0))],
    ],
    [
      "a frame dropped for a stream error in the middle of a block",
      [openHeaders(1, Buffer.alloc(1)), encodeFrame(FrameType.PRIORITY, 0, 1, Buffer.alloc(4))],
    ],
    ["CONTINUATION with no block open", [continuation(1, Buffer.alloc(1), true)]],
    [
      "CONTINUATION after a complete block",
      [encodeHeadersFrame(1, Buffer.alloc(1)), continuation(1, Buffer.alloc(1), true)],
    ],
  ];
  it.each(cases)("%s", (_name, chunks) => {
    const h = harness();
    const err = thrownBy(() => {
      for (const c of chunks) h.reader.push(c);
    });
    expect(err).toBeInstanceOf(Http2ProtocolError);
    expect(err.scope).toBe("connection");
    expect(err.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it("frames around a block are fine, stream errors outside a block pass through", () => {
    const h = harness();
    h.reader.push(
      Buffer.concat([
        encodePriorityFrame(3, { dependency: 0, weight: 1 }),
        openHeaders(1, Buffer.alloc(1)),
        continuation(1, Buffer.alloc(1), true),
        encodeWindowUpdateFrame(1, 10),
        encodeFrame(FrameType.WINDOW_UPDATE, 0, 5, Buffer.alloc(4)),
      ]),
    );
    expect(h.frames.map((f) => f.type)).toEqual([
      FrameType.PRIORITY,
      FrameType.HEADERS,
      FrameType.WINDOW_UPDATE,
    ]);
    expect(h.streamErrors.map((e) => e.streamId)).toEqual([5]);
  });
});

describe("CONTINUATION flood defence", () => {
  it("endless empty CONTINUATION frames fail after maxContinuationFrames, holding nothing", () => {
    const h = harness();
    h.reader.push(openHeaders(1, Buffer.from("82", "hex")));
    const empty = continuation(1, Buffer.alloc(0), false);
    let sent = 0;
    const err = thrownBy(() => {
      // A peer that would go on forever: we must fail long before the loop bound.
      for (; sent < 1_000_000; sent++) h.reader.push(empty);
    });
    expect(err).toBeInstanceOf(Http2ContinuationFloodError);
    expect(err.code).toBe("ERR_HTTP2_CONTINUATION_FLOOD");
    expect(err.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(err.scope).toBe("connection");
    expect(err.streamId).toBe(1);
    expect(sent).toBe(8); // the 9th CONTINUATION is refused
    expect(h.assembler.bufferedBytes).toBe(0);
  });

  it("a block growing past maxHeaderBlockSize fails at the frame that crosses the limit", () => {
    const h = harness({ maxHeaderBlockSize: 40_000, maxContinuationFrames: 100 });
    h.reader.push(openHeaders(1, Buffer.alloc(16_000)));
    h.reader.push(continuation(1, Buffer.alloc(16_000), false));
    expect(h.assembler.bufferedBytes).toBe(32_000);
    expect(h.assembler.openStreamId).toBe(1);
    const err = thrownBy(() => h.reader.push(continuation(1, Buffer.alloc(8_001), false)));
    expect(err).toBeInstanceOf(Http2HeaderBlockTooLargeError);
    expect(err.code).toBe("ERR_HTTP2_HEADER_BLOCK_TOO_LARGE");
    expect(err.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect((err as Http2HeaderBlockTooLargeError).limit).toBe(40_000);
    expect(h.assembler.bufferedBytes).toBe(0);
  });

  it("exactly maxHeaderBlockSize and maxContinuationFrames are allowed", () => {
    const h = harness({ maxHeaderBlockSize: 10, maxContinuationFrames: 3 });
    h.reader.push(openHeaders(1, Buffer.alloc(4)));
    h.reader.push(continuation(1, Buffer.alloc(3), false));
    h.reader.push(continuation(1, Buffer.alloc(3), false));
    h.reader.push(continuation(1, Buffer.alloc(0), true));
    expect(h.frames[0]).toMatchObject({ continuations: 3 });
    expect(h.frames[0]!.data.length).toBe(10);
  });

  it("a single HEADERS frame larger than maxHeaderBlockSize fails too", () => {
    const h = harness({ maxHeaderBlockSize: 100 });
    expect(() => h.reader.push(encodeHeadersFrame(1, Buffer.alloc(101)))).toThrow(
      Http2HeaderBlockTooLargeError,
    );
  });

  it("the default limits: 64 KiB and 8 CONTINUATION frames", () => {
    const h = harness();
    h.reader.push(encodeHeadersFrame(1, Buffer.alloc(64 * 1024), { endStream: true })); // 1 + 3 frames
    expect(h.frames.length).toBe(1);
    expect(() => h.reader.push(encodeHeadersFrame(3, Buffer.alloc(64 * 1024 + 1)))).toThrow(
      Http2HeaderBlockTooLargeError,
    );
  });

  it("limits are validated", () => {
    expect(() => harness({ maxHeaderBlockSize: 0 })).toThrow(RangeError);
    expect(() => harness({ maxContinuationFrames: -1 })).toThrow(RangeError);
  });
});
