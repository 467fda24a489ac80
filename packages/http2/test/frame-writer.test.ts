import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  encodeDataFrame,
  encodeFrame,
  encodeFrameHeader,
  encodeGoawayFrame,
  encodeHeadersFrame,
  encodePingFrame,
  encodePreface,
  encodePriorityFrame,
  encodePushPromiseFrame,
  encodeRstStreamFrame,
  encodeSettingsAckFrame,
  encodeSettingsFrame,
  encodeWindowUpdateFrame,
  FrameFlag,
  FrameType,
  FrameWriter,
  InvalidOutgoingFrameError,
  SettingId,
  settingsEntries,
} from "../src/index.js";

// Reference bytes from an independent implementation: Debian's python3-hyperframe (its weight field is the wire
// byte, ours is the RFC's 1-256, so hyperframe's 200 is our 201).
const REFERENCE: [string, () => Buffer, string][] = [
  [
    "DATA",
    () => encodeDataFrame(1, Buffer.from("hello"), { endStream: true }),
    "00000500010000000168656c6c6f",
  ],
  [
    "DATA padded",
    () => encodeDataFrame(3, Buffer.from("abc"), { padding: 4 }),
    "0000080008000000030461626300000000",
  ],
  [
    "HEADERS with priority and padding",
    () =>
      encodeHeadersFrame(5, Buffer.from([0x82, 0x86]), {
        priority: { dependency: 3, weight: 201, exclusive: true },
        padding: 2,
      }),
    "00000a012c000000050280000003c882860000",
  ],
  ["PRIORITY", () => encodePriorityFrame(7, { dependency: 0, weight: 256 }), "00000502000000000700000000ff"],
  ["RST_STREAM", () => encodeRstStreamFrame(9, ErrorCode.CANCEL), "00000403000000000900000008"],
  [
    "SETTINGS",
    () =>
      encodeSettingsFrame([
        [SettingId.HEADER_TABLE_SIZE, 65536],
        [SettingId.ENABLE_PUSH, 0],
        [SettingId.INITIAL_WINDOW_SIZE, 6291456],
        [SettingId.MAX_HEADER_LIST_SIZE, 262144],
      ]),
    "000018040000000000000100010000000200000000000400600000000600040000",
  ],
  ["SETTINGS ACK", () => encodeSettingsAckFrame(), "000000040100000000"],
  ["PUSH_PROMISE", () => encodePushPromiseFrame(1, 2, Buffer.from([0x82])), "0000050504000000010000000282"],
  [
    "PING ACK",
    () => encodePingFrame(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), true),
    "0000080601000000000102030405060708",
  ],
  [
    "GOAWAY",
    () => encodeGoawayFrame(7, ErrorCode.PROTOCOL_ERROR, "bad"),
    "00000b0700000000000000000700000001626164",
  ],
  ["WINDOW_UPDATE", () => encodeWindowUpdateFrame(0, 15663105), "00000408000000000000ef0001"],
];

describe("encoders write what an independent implementation writes", () => {
  it.each(REFERENCE)("%s", (_name, make, expected) => {
    expect(make().toString("hex")).toBe(expected);
  });
  it("the preface, a raw frame and a bare frame header", () => {
    expect(encodePreface().toString("latin1")).toBe("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    expect(encodeFrame(0xfa, 0xff, 0, Buffer.from("xyz")).toString("hex")).toBe("000003faff0000000078797a");
    expect(encodeFrameHeader(70_000, FrameType.DATA, FrameFlag.END_STREAM, 0x7fffffff).toString("hex")).toBe(
      "0111700001" + "7fffffff",
    );
  });
});

describe("HEADERS and PUSH_PROMISE split into CONTINUATION frames", () => {
  /** Splits a buffer of frames into [type, flags, streamId, payload length] tuples. */
  function frames(buf: Buffer): [number, number, number, number][] {
    const out: [number, number, number, number][] = [];
    for (let at = 0; at < buf.length; ) {
      const length = buf.readUIntBE(at, 3);
      out.push([buf[at + 3]!, buf[at + 4]!, buf.readUInt32BE(at + 5), length]);
      at += 9 + length;
    }
    return out;
  }

  it("a block that fits stays one frame with END_HEADERS", () => {
    expect(frames(encodeHeadersFrame(1, Buffer.alloc(16_384), { endStream: true }))).toEqual([
      [FrameType.HEADERS, FrameFlag.END_STREAM | FrameFlag.END_HEADERS, 1, 16_384],
    ]);
  });
  it("a larger block goes on in CONTINUATION frames of at most maxFrameSize", () => {
    const block = Buffer.alloc(40_000, 7);
    const out = encodeHeadersFrame(3, block, { endStream: true });
    expect(frames(out)).toEqual([
      [FrameType.HEADERS, FrameFlag.END_STREAM, 3, 16_384],
      [FrameType.CONTINUATION, 0, 3, 16_384],
      [FrameType.CONTINUATION, FrameFlag.END_HEADERS, 3, 7232],
    ]);
    expect(out.length).toBe(40_000 + 27);
  });
  it("padding and priority count against the first frame", () => {
    const out = encodeHeadersFrame(3, Buffer.alloc(20_000), {
      padding: 10,
      priority: { dependency: 0, weight: 16 },
      maxFrameSize: 16_384,
    });
    expect(frames(out)).toEqual([
      [FrameType.HEADERS, FrameFlag.PADDED | FrameFlag.PRIORITY, 3, 16_384],
      [FrameType.CONTINUATION, FrameFlag.END_HEADERS, 3, 20_000 - (16_384 - 16)],
    ]);
  });
  it("follows a larger peer maxFrameSize", () => {
    expect(frames(encodeHeadersFrame(1, Buffer.alloc(40_000), { maxFrameSize: 1 << 20 }))).toEqual([
      [FrameType.HEADERS, FrameFlag.END_HEADERS, 1, 40_000],
    ]);
  });
  it("PUSH_PROMISE too, with its promised stream id in the first frame", () => {
    const out = encodePushPromiseFrame(1, 2, Buffer.alloc(16_381));
    expect(frames(out)).toEqual([
      [FrameType.PUSH_PROMISE, 0, 1, 16_384],
      [FrameType.CONTINUATION, FrameFlag.END_HEADERS, 1, 1],
    ]);
    expect(out.readUInt32BE(9)).toBe(2);
  });
  it("an empty block is one HEADERS frame", () => {
    expect(frames(encodeHeadersFrame(1, Buffer.alloc(0)))).toEqual([
      [FrameType.HEADERS, FrameFlag.END_HEADERS, 1, 0],
    ]);
  });
});

describe("SETTINGS keep the caller's order", () => {
  it("duplicates and unknown (GREASE) ids included", () => {
    const entries: [number, number][] = [
      [SettingId.INITIAL_WINDOW_SIZE, 1],
      [0x0a0a, 12345],
      [SettingId.HEADER_TABLE_SIZE, 0],
      [SettingId.INITIAL_WINDOW_SIZE, 2],
    ];
    const out = encodeSettingsFrame(entries);
    const back: [number, number][] = [];
    for (let at = 9; at < out.length; at += 6) back.push([out.readUInt16BE(at), out.readUInt32BE(at + 2)]);
    expect(back).toEqual(entries);
  });
  it("settingsEntries keeps the object's key order and drops unlimited values", () => {
    expect(
      settingsEntries({
        maxHeaderListSize: 262_144,
        headerTableSize: 65_536,
        maxConcurrentStreams: Number.POSITIVE_INFINITY,
        enablePush: 0,
      }),
    ).toEqual([
      [SettingId.MAX_HEADER_LIST_SIZE, 262_144],
      [SettingId.HEADER_TABLE_SIZE, 65_536],
      [SettingId.ENABLE_PUSH, 0],
    ]);
  });
});

describe("refuses frames HTTP/2 cannot carry", () => {
  const cases: [string, () => unknown][] = [
    ["DATA on stream 0", () => encodeDataFrame(0, Buffer.alloc(1))],
    ["DATA over the frame size", () => encodeDataFrame(1, Buffer.alloc(16_385))],
    ["DATA whose padding pushes it over", () => encodeDataFrame(1, Buffer.alloc(16_300), { padding: 100 })],
    ["padding over 255", () => encodeDataFrame(1, Buffer.alloc(1), { padding: 256 })],
    ["a stream id over 2^31-1", () => encodeRstStreamFrame(2 ** 31, 0)],
    ["a fractional stream id", () => encodeRstStreamFrame(1.5, 0)],
    ["HEADERS on stream 0", () => encodeHeadersFrame(0, Buffer.alloc(1))],
    ["a weight of 0", () => encodePriorityFrame(1, { dependency: 0, weight: 0 })],
    ["a weight of 257", () => encodePriorityFrame(1, { dependency: 0, weight: 257 })],
    [
      "a stream depending on itself",
      () => encodeHeadersFrame(3, Buffer.alloc(0), { priority: { dependency: 3, weight: 1 } }),
    ],
    ["WINDOW_UPDATE of 0", () => encodeWindowUpdateFrame(0, 0)],
    ["WINDOW_UPDATE over 2^31-1", () => encodeWindowUpdateFrame(1, 2 ** 31)],
    ["ENABLE_PUSH 2", () => encodeSettingsFrame([[SettingId.ENABLE_PUSH, 2]])],
    ["MAX_FRAME_SIZE 100", () => encodeSettingsFrame([[SettingId.MAX_FRAME_SIZE, 100]])],
    ["INITIAL_WINDOW_SIZE 2^31", () => encodeSettingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 2 ** 31]])],
    ["a setting id over 16 bits", () => encodeSettingsFrame([[0x10000, 1]])],
    ["a setting value over 32 bits", () => encodeSettingsFrame([[0x0a0a, 2 ** 32]])],
    ["PING data of 7 bytes", () => encodePingFrame(Buffer.alloc(7))],
    ["an error code over 32 bits", () => encodeGoawayFrame(0, 2 ** 32)],
    ["GOAWAY debug data over the frame size", () => encodeGoawayFrame(0, 0, Buffer.alloc(16_377))],
    ["PUSH_PROMISE of stream 0", () => encodePushPromiseFrame(1, 0, Buffer.alloc(0))],
    ["a frame type over a byte", () => encodeFrame(256, 0, 0, Buffer.alloc(0))],
    ["a frame over 2^24-1", () => encodeFrame(0xfa, 0, 0, Buffer.alloc(2 ** 24))],
    [
      "fixed fields over a tiny maxFrameSize",
      () => encodeHeadersFrame(1, Buffer.alloc(1), { padding: 10, maxFrameSize: 5 }),
    ],
  ];
  it.each(cases)("%s", (_name, make) => {
    expect(make).toThrow(InvalidOutgoingFrameError);
  });
  it("with a stable code", () => {
    try {
      encodeDataFrame(0, Buffer.alloc(0));
      expect.unreachable();
    } catch (err) {
      expect((err as InvalidOutgoingFrameError).code).toBe("ERR_HTTP2_INVALID_OUTGOING_FRAME");
    }
  });
});

describe("FrameWriter batches frames for one write", () => {
  it("writes the same bytes as the one-shot encoders, back to back", () => {
    const block = Buffer.alloc(20_000, 1);
    const w = new FrameWriter();
    w.preface()
      .settings([[SettingId.ENABLE_PUSH, 0]])
      .settingsAck()
      .windowUpdate(0, 15_663_105)
      .priority(3, { dependency: 0, weight: 201 })
      .headers(1, block, { endStream: false })
      .data(1, Buffer.from("body"), { endStream: true, padding: 3 })
      .rstStream(1, ErrorCode.CANCEL)
      .pushPromise(1, 2, Buffer.from([0x82]))
      .ping(Buffer.alloc(8, 9))
      .ping(Buffer.alloc(8, 9), true)
      .goaway(1, ErrorCode.NO_ERROR, "bye")
      .frame(0xfa, 0, 0, Buffer.from("grease"));
    const expected = Buffer.concat([
      encodePreface(),
      encodeSettingsFrame([[SettingId.ENABLE_PUSH, 0]]),
      encodeSettingsAckFrame(),
      encodeWindowUpdateFrame(0, 15_663_105),
      encodePriorityFrame(3, { dependency: 0, weight: 201 }),
      encodeHeadersFrame(1, block),
      encodeDataFrame(1, Buffer.from("body"), { endStream: true, padding: 3 }),
      encodeRstStreamFrame(1, ErrorCode.CANCEL),
      encodePushPromiseFrame(1, 2, Buffer.from([0x82])),
      encodePingFrame(Buffer.alloc(8, 9)),
      encodePingFrame(Buffer.alloc(8, 9), true),
      encodeGoawayFrame(1, ErrorCode.NO_ERROR, "bye"),
      encodeFrame(0xfa, 0, 0, Buffer.from("grease")),
    ]);
    expect(w.pending).toBe(expected.length);
    const out = w.take();
    expect(out.equals(expected)).toBe(true);
    expect(w.pending).toBe(0);
    expect(w.take().length).toBe(0);
  });

  it("never overwrites bytes it handed out, across slabs", () => {
    const w = new FrameWriter({ slabSize: 64 });
    const taken: [Buffer, Buffer][] = [];
    for (let i = 1; i < 200; i += 2) {
      w.windowUpdate(i, i).data(i, Buffer.alloc(i % 50, i & 0xff));
      if (i % 3 === 0) {
        const out = w.take();
        taken.push([out, Buffer.from(out)]);
      }
    }
    const last = w.take();
    taken.push([last, Buffer.from(last)]);
    for (const [view, copy] of taken) expect(view.equals(copy)).toBe(true);
  });

  it("splits header blocks at the peer's maxFrameSize and refuses DATA above it", () => {
    const w = new FrameWriter({ maxFrameSize: 20_000 });
    w.headers(1, Buffer.alloc(30_000));
    const out = w.take();
    expect(out.readUIntBE(0, 3)).toBe(20_000);
    expect(() => w.data(1, Buffer.alloc(20_001))).toThrow(InvalidOutgoingFrameError);
    expect(w.pending).toBe(0); // a refused frame leaves nothing behind
    w.maxFrameSize = 16_384;
    expect(() => w.data(1, Buffer.alloc(16_385))).toThrow(InvalidOutgoingFrameError);
    expect(() => {
      w.maxFrameSize = 0;
    }).toThrow(InvalidOutgoingFrameError);
  });
});
