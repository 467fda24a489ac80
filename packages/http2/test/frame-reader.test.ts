import { describe, expect, it } from "vitest";
import {
  CONNECTION_PREFACE,
  ErrorCode,
  encodeDataFrame,
  encodeFrame,
  encodeGoawayFrame,
  encodeHeadersFrame,
  encodePingFrame,
  encodePriorityFrame,
  encodePushPromiseFrame,
  encodeRstStreamFrame,
  encodeSettingsAckFrame,
  encodeSettingsFrame,
  encodeWindowUpdateFrame,
  type Frame,
  FrameFlag,
  FrameReader,
  FrameType,
  Http2Error,
  Http2FrameSizeError,
  Http2PrefaceError,
  Http2ProtocolError,
  PrefaceMatcher,
  SettingId,
  startsWithPreface,
} from "../src/index.js";
import { byteByByte, cut, prng, randomSplit, readChunks, summary } from "./support/frames.js";

/** A raw frame: 9-byte header (any stream id, reserved bit included) and the payload as hex. */
function raw(type: number, flags: number, streamId: number, payloadHex = ""): Buffer {
  const payload = Buffer.from(payloadHex.replace(/\s+/g, ""), "hex");
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId >>> 0, 5);
  return Buffer.concat([head, payload]);
}

/** A stream exercising every frame type and most of their options. */
function corpus(): Buffer {
  return Buffer.concat([
    encodeSettingsFrame([
      [SettingId.HEADER_TABLE_SIZE, 65_536],
      [SettingId.ENABLE_PUSH, 0],
      [0x0a0a, 7],
      [SettingId.INITIAL_WINDOW_SIZE, 0x7fffffff],
      [SettingId.MAX_FRAME_SIZE, 0xffffff],
      [SettingId.MAX_HEADER_LIST_SIZE, 262_144],
      [SettingId.ENABLE_CONNECT_PROTOCOL, 1],
    ]),
    encodeSettingsAckFrame(),
    encodeWindowUpdateFrame(0, 15_663_105),
    encodePriorityFrame(3, { dependency: 0, weight: 201 }),
    encodePriorityFrame(5, { dependency: 3, weight: 1, exclusive: true }),
    encodeHeadersFrame(1, Buffer.from("82868441", "hex"), {
      endStream: true,
      priority: { dependency: 0, weight: 256, exclusive: true },
      padding: 7,
    }),
    encodeHeadersFrame(3, Buffer.from("88", "hex")),
    encodeDataFrame(3, Buffer.from("hello world")),
    encodeDataFrame(3, Buffer.alloc(0), { padding: 0 }),
    encodeDataFrame(3, Buffer.from("x"), { padding: 255, endStream: true }),
    encodeDataFrame(5, Buffer.alloc(0), { endStream: true }),
    encodeFrame(0xfa, 0xff, 0, Buffer.from("an extension frame")),
    encodeFrame(0x10, 0, 1, Buffer.from("priority update")),
    encodePushPromiseFrame(1, 2, Buffer.from("82", "hex"), { padding: 3 }),
    encodeRstStreamFrame(3, 0x1234), // unknown error codes are legal
    encodePingFrame(Buffer.from("0102030405060708", "hex")),
    encodePingFrame(Buffer.from("0102030405060708", "hex"), true),
    encodeWindowUpdateFrame(3, 1),
    raw(FrameType.WINDOW_UPDATE, 0, 0x80000007, "ffffffff"), // reserved bits in the id and the increment
    encodeHeadersFrame(7, Buffer.alloc(16_384 - 5, 0x82), { priority: { dependency: 0, weight: 16 } }),
    encodeFrame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 7, Buffer.from("8286", "hex")),
    encodeDataFrame(7, Buffer.alloc(16_384, 0x61)),
    encodeGoawayFrame(7, ErrorCode.ENHANCE_YOUR_CALM, "calm down"),
    raw(FrameType.GOAWAY, 0, 0, "ffffffff 0000000b"),
  ]);
}

describe("decodes every frame type", () => {
  const result = readChunks([corpus()]);
  const frames = result.frames;

  it("without errors, in order", () => {
    expect(result.error).toBeNull();
    expect(result.streamErrors).toEqual([]);
    expect(frames.map((f) => f.type)).toEqual([
      4, 4, 8, 2, 2, 1, 1, 0, 0, 0, 0, 0xfa, 0x10, 5, 3, 6, 6, 8, 8, 1, 9, 0, 7, 7,
    ]);
  });
  it("SETTINGS entries in wire order, unknown ids kept", () => {
    expect(frames[0]!.settings).toEqual([
      1, 65_536, 2, 0, 0x0a0a, 7, 4, 0x7fffffff, 5, 0xffffff, 6, 262_144, 8, 1,
    ]);
    expect(frames[1]).toMatchObject({ flags: FrameFlag.ACK, length: 0, settings: [] });
  });
  it("PRIORITY fields, in PRIORITY frames and in HEADERS", () => {
    expect(frames[3]).toMatchObject({ streamId: 3, dependency: 0, weight: 201, exclusive: false });
    expect(frames[4]).toMatchObject({ streamId: 5, dependency: 3, weight: 1, exclusive: true });
    expect(frames[5]).toMatchObject({
      streamId: 1,
      dependency: 0,
      weight: 256,
      exclusive: true,
      padLength: 7,
    });
    expect(frames[5]!.data).toBe("82868441");
    expect(frames[5]!.length).toBe(1 + 5 + 4 + 7);
  });
  it("DATA without padding, and padding removed (length still counts it, for flow control)", () => {
    expect(frames[7]).toMatchObject({
      data: Buffer.from("hello world").toString("hex"),
      padLength: 0,
      length: 11,
    });
    expect(frames[8]).toMatchObject({ data: "", padLength: 0, length: 1, flags: FrameFlag.PADDED });
    expect(frames[9]).toMatchObject({ data: "78", padLength: 255, length: 257 });
    expect(frames[10]).toMatchObject({ data: "", length: 0, flags: FrameFlag.END_STREAM });
  });
  it("extension frames pass through untouched", () => {
    expect(frames[11]).toMatchObject({ type: 0xfa, flags: 0xff, streamId: 0 });
    expect(Buffer.from(frames[11]!.data as string, "hex").toString()).toBe("an extension frame");
    expect(frames[12]).toMatchObject({ type: 0x10, streamId: 1 });
  });
  it("PUSH_PROMISE, RST_STREAM, PING, WINDOW_UPDATE, GOAWAY fields", () => {
    expect(frames[13]).toMatchObject({ promisedStreamId: 2, padLength: 3, data: "82" });
    expect(frames[14]).toMatchObject({ errorCode: 0x1234 });
    expect(frames[15]).toMatchObject({ flags: 0, data: "0102030405060708" });
    expect(frames[16]).toMatchObject({ flags: FrameFlag.ACK, data: "0102030405060708" });
    expect(frames[17]).toMatchObject({ streamId: 3, windowIncrement: 1 });
    expect(frames[18]).toMatchObject({ streamId: 7, windowIncrement: 0x7fffffff }); // reserved bits ignored
    expect(frames[22]).toMatchObject({ lastStreamId: 7, errorCode: ErrorCode.ENHANCE_YOUR_CALM });
    expect(Buffer.from(frames[22]!.data as string, "hex").toString()).toBe("calm down");
    expect(frames[23]).toMatchObject({ lastStreamId: 0x7fffffff, errorCode: 0xb, data: "" });
  });
  it("frames at exactly SETTINGS_MAX_FRAME_SIZE", () => {
    expect(frames[19]!.length).toBe(16_384);
    expect(frames[21]!.length).toBe(16_384);
  });
  it("flag helpers read the bit that belongs to the type", () => {
    const seen: Frame[] = [];
    const reader = new FrameReader({ onFrame: (f) => seen.push(f), onStreamError: () => {} });
    reader.push(corpus());
    expect(seen[5]!.endStream && seen[5]!.endHeaders && seen[5]!.hasPriority).toBe(true);
    expect(seen[1]!.ack).toBe(true);
    expect(seen[1]!.endStream).toBe(false); // bit 0x1 on SETTINGS is ACK
    expect(seen[16]!.ack).toBe(true);
    expect(seen[9]!.endStream).toBe(true);
    expect(seen[11]!.endStream || seen[11]!.ack || seen[11]!.endHeaders).toBe(false);
    expect(seen[5]!.toString()).toBe("HEADERS stream=1 flags=0x2d length=17");
    expect(reader.framesRead).toBe(24);
    expect(reader.idle).toBe(true);
  });
});

describe("incremental: any byte split gives the same frames", () => {
  const bytes = corpus();
  const whole = readChunks([bytes]);
  it("one byte at a time", () => {
    expect(readChunks(byteByByte(bytes))).toEqual(whole);
  });
  it("split at every offset, in two", () => {
    for (let at = 0; at <= bytes.length; at += 97) expect(readChunks(cut(bytes, [at]))).toEqual(whole);
  });
  it("200 random splits (seeded)", () => {
    const random = prng(0x5eed);
    for (let i = 0; i < 200; i++) expect(readChunks(randomSplit(bytes, random, 40))).toEqual(whole);
  });
  it("the same for errors: a bad frame fails the same way whatever the split", () => {
    const bad = Buffer.concat([bytes, raw(FrameType.PING, 0, 0, "00")]);
    const once = readChunks([bad]);
    expect(once.error?.code).toBe("ERR_HTTP2_FRAME_SIZE");
    expect(readChunks(byteByByte(bad))).toEqual(once);
    const random = prng(7);
    for (let i = 0; i < 50; i++) expect(readChunks(randomSplit(bad, random))).toEqual(once);
  });
  it("views point into the chunk when a frame lies within it, into a buffer of its own when it spans chunks", () => {
    const frames = Buffer.concat([
      encodeDataFrame(1, Buffer.from("abc")),
      encodeDataFrame(1, Buffer.from("defg")),
    ]);
    const chunk = Buffer.alloc(frames.length); // not from the shared pool, so `.buffer` identifies it
    frames.copy(chunk);
    const seen: Frame[] = [];
    const reader = new FrameReader({ onFrame: (f) => seen.push(f), onStreamError: () => {} });
    reader.push(chunk.subarray(0, 23)); // the first frame (12 bytes) and half of the second (13)
    reader.push(chunk.subarray(23));
    expect(seen[0]!.data.buffer).toBe(chunk.buffer); // zero copy
    expect(seen[1]!.data.buffer).not.toBe(chunk.buffer); // copied once
    chunk.fill(0); // the caller reuses its buffer: only the zero-copy view sees it
    expect(seen[0]!.data.toString()).toBe("\0\0\0");
    expect(seen[1]!.data.toString()).toBe("defg");
  });
});

type ErrorCase = [
  name: string,
  bytes: Buffer,
  code: string,
  scope: "connection" | "stream",
  errorCode: number,
];

const H = FrameType;
const F = FrameFlag;
const CONNECTION_ERRORS: ErrorCase[] = [
  ["DATA on stream 0", raw(H.DATA, 0, 0, "00"), "ERR_HTTP2_PROTOCOL", "connection", 1],
  ["DATA PADDED without a pad length", raw(H.DATA, F.PADDED, 1), "ERR_HTTP2_FRAME_SIZE", "connection", 6],
  // The payload counts the Pad Length octet: 5 octets of padding in a 5-octet payload leave no room for it.
  ["DATA padding = payload", raw(H.DATA, F.PADDED, 1, "05 00000000"), "ERR_HTTP2_PROTOCOL", "connection", 1],
  ["DATA padding > payload", raw(H.DATA, F.PADDED, 1, "ff 00"), "ERR_HTTP2_PROTOCOL", "connection", 1],
  ["HEADERS on stream 0", raw(H.HEADERS, F.END_HEADERS, 0, "82"), "ERR_HTTP2_PROTOCOL", "connection", 1],
  [
    "HEADERS PRIORITY too short",
    raw(H.HEADERS, F.PRIORITY, 1, "00000000"),
    "ERR_HTTP2_FRAME_SIZE",
    "connection",
    6,
  ],
  [
    "HEADERS PADDED+PRIORITY too short",
    raw(H.HEADERS, F.PADDED | F.PRIORITY, 1, "00 00000000"),
    "ERR_HTTP2_FRAME_SIZE",
    "connection",
    6,
  ],
  ["HEADERS padding too long", raw(H.HEADERS, F.PADDED, 1, "03 8282"), "ERR_HTTP2_PROTOCOL", "connection", 1],
  [
    "HEADERS padding too long after PRIORITY",
    raw(H.HEADERS, F.PADDED | F.PRIORITY, 1, "02 00000000 0f 82"),
    "ERR_HTTP2_PROTOCOL",
    "connection",
    1,
  ],
  [
    "HEADERS depending on itself (a stream error raised to the connection: HPACK must not desync)",
    raw(H.HEADERS, F.PRIORITY | F.END_HEADERS, 3, "00000003 0f 82"),
    "ERR_HTTP2_PROTOCOL",
    "connection",
    1,
  ],
  ["PRIORITY on stream 0", raw(H.PRIORITY, 0, 0, "00000000 0f"), "ERR_HTTP2_PROTOCOL", "connection", 1],
  ["RST_STREAM on stream 0", raw(H.RST_STREAM, 0, 0, "00000000"), "ERR_HTTP2_PROTOCOL", "connection", 1],
  ["RST_STREAM of 3 bytes", raw(H.RST_STREAM, 0, 1, "000000"), "ERR_HTTP2_FRAME_SIZE", "connection", 6],
  ["RST_STREAM of 5 bytes", raw(H.RST_STREAM, 0, 1, "0000000000"), "ERR_HTTP2_FRAME_SIZE", "connection", 6],
  ["SETTINGS on stream 1", raw(H.SETTINGS, 0, 1), "ERR_HTTP2_PROTOCOL", "connection", 1],
  [
    "SETTINGS ACK with a payload",
    raw(H.SETTINGS, F.ACK, 0, "000100000000"),
    "ERR_HTTP2_FRAME_SIZE",
    "connection",
    6,
  ],
  ["SETTINGS of 5 bytes", raw(H.SETTINGS, 0, 0, "0001000000"), "ERR_HTTP2_FRAME_SIZE", "connection", 6],
  ["SETTINGS_ENABLE_PUSH 2", raw(H.SETTINGS, 0, 0, "0002 00000002"), "ERR_HTTP2_PROTOCOL", "connection", 1],
  [
    "SETTINGS_INITIAL_WINDOW_SIZE 2^31",
    raw(H.SETTINGS, 0, 0, "0004 80000000"),
    "ERR_HTTP2_FLOW_CONTROL",
    "connection",
    3,
  ],
  [
    "SETTINGS_MAX_FRAME_SIZE 16383",
    raw(H.SETTINGS, 0, 0, "0005 00003fff"),
    "ERR_HTTP2_PROTOCOL",
    "connection",
    1,
  ],
  [
    "SETTINGS_MAX_FRAME_SIZE 2^24",
    raw(H.SETTINGS, 0, 0, "0005 01000000"),
    "ERR_HTTP2_PROTOCOL",
    "connection",
    1,
  ],
  [
    "SETTINGS_ENABLE_CONNECT_PROTOCOL 2",
    raw(H.SETTINGS, 0, 0, "0008 00000002"),
    "ERR_HTTP2_PROTOCOL",
    "connection",
    1,
  ],
  ["PUSH_PROMISE on stream 0", raw(H.PUSH_PROMISE, 0, 0, "00000002"), "ERR_HTTP2_PROTOCOL", "connection", 1],
  ["PUSH_PROMISE too short", raw(H.PUSH_PROMISE, 0, 1, "000002"), "ERR_HTTP2_FRAME_SIZE", "connection", 6],
  [
    "PUSH_PROMISE of stream 0",
    raw(H.PUSH_PROMISE, F.END_HEADERS, 1, "80000000"),
    "ERR_HTTP2_PROTOCOL",
    "connection",
    1,
  ],
  [
    "PUSH_PROMISE padding too long",
    raw(H.PUSH_PROMISE, F.PADDED, 1, "02 00000002 82"),
    "ERR_HTTP2_PROTOCOL",
    "connection",
    1,
  ],
  ["PING on stream 1", raw(H.PING, 0, 1, "0000000000000000"), "ERR_HTTP2_PROTOCOL", "connection", 1],
  ["PING of 7 bytes", raw(H.PING, 0, 0, "00000000000000"), "ERR_HTTP2_FRAME_SIZE", "connection", 6],
  ["PING of 9 bytes", raw(H.PING, 0, 0, "000000000000000000"), "ERR_HTTP2_FRAME_SIZE", "connection", 6],
  ["GOAWAY on stream 1", raw(H.GOAWAY, 0, 1, "0000000000000000"), "ERR_HTTP2_PROTOCOL", "connection", 1],
  ["GOAWAY of 7 bytes", raw(H.GOAWAY, 0, 0, "00000000000000"), "ERR_HTTP2_FRAME_SIZE", "connection", 6],
  ["WINDOW_UPDATE of 3 bytes", raw(H.WINDOW_UPDATE, 0, 1, "000001"), "ERR_HTTP2_FRAME_SIZE", "connection", 6],
  [
    "WINDOW_UPDATE of 5 bytes",
    raw(H.WINDOW_UPDATE, 0, 0, "0000000001"),
    "ERR_HTTP2_FRAME_SIZE",
    "connection",
    6,
  ],
  [
    "WINDOW_UPDATE of 0 on the connection",
    raw(H.WINDOW_UPDATE, 0, 0, "80000000"),
    "ERR_HTTP2_PROTOCOL",
    "connection",
    1,
  ],
  [
    "CONTINUATION on stream 0",
    raw(H.CONTINUATION, F.END_HEADERS, 0, "82"),
    "ERR_HTTP2_PROTOCOL",
    "connection",
    1,
  ],
  [
    "a frame over SETTINGS_MAX_FRAME_SIZE",
    encodeFrame(0xfa, 0, 0, Buffer.alloc(16_385)),
    "ERR_HTTP2_FRAME_SIZE",
    "connection",
    6,
  ],
];

const STREAM_ERRORS: ErrorCase[] = [
  ["PRIORITY of 4 bytes", raw(H.PRIORITY, 0, 3, "00000000"), "ERR_HTTP2_FRAME_SIZE", "stream", 6],
  ["PRIORITY of 6 bytes", raw(H.PRIORITY, 0, 3, "00000000 0f00"), "ERR_HTTP2_FRAME_SIZE", "stream", 6],
  ["PRIORITY of 0 bytes", raw(H.PRIORITY, 0, 3), "ERR_HTTP2_FRAME_SIZE", "stream", 6],
  ["PRIORITY depending on itself", raw(H.PRIORITY, 0, 3, "80000003 0f"), "ERR_HTTP2_PROTOCOL", "stream", 1],
  [
    "WINDOW_UPDATE of 0 on a stream",
    raw(H.WINDOW_UPDATE, 0, 3, "00000000"),
    "ERR_HTTP2_PROTOCOL",
    "stream",
    1,
  ],
];

describe("connection errors: typed, with the RFC code, raised whatever the split", () => {
  it.each(CONNECTION_ERRORS)("%s", (_name, bytes, code, scope, errorCode) => {
    const stream = Buffer.concat([encodePingFrame(), bytes, encodePingFrame()]);
    const result = readChunks([stream]);
    expect(result.error).toMatchObject({ code, scope, errorCode });
    expect(result.frames.length).toBe(1); // the PING before; nothing after
    expect(readChunks(byteByByte(stream))).toEqual(result);
  });

  it("an oversized frame fails at its header, before any payload is buffered", () => {
    const reader = new FrameReader({ onFrame: () => {}, onStreamError: () => {} });
    const header = encodeFrame(0xfa, 0, 0, Buffer.alloc(100_000)).subarray(0, 9);
    expect(() => reader.push(header)).toThrow(Http2FrameSizeError);
  });

  it("maxFrameSize can be raised to what we advertised, within [16384, 2^24-1]", () => {
    const reader = new FrameReader({ onFrame: () => {}, onStreamError: () => {} }, { maxFrameSize: 20_000 });
    reader.push(encodeDataFrame(1, Buffer.alloc(20_000), { maxFrameSize: 20_000 }));
    expect(() => reader.push(encodeDataFrame(1, Buffer.alloc(20_001), { maxFrameSize: 30_000 }))).toThrow(
      /20001 bytes exceeds SETTINGS_MAX_FRAME_SIZE 20000/,
    );
    const later = new FrameReader({ onFrame: () => {}, onStreamError: () => {} });
    later.maxFrameSize = 1 << 20;
    later.push(encodeDataFrame(1, Buffer.alloc(1 << 19), { maxFrameSize: 1 << 20 }));
    expect(() => {
      later.maxFrameSize = 16_383;
    }).toThrow(RangeError);
    expect(
      () => new FrameReader({ onFrame: () => {}, onStreamError: () => {} }, { maxFrameSize: 2 ** 24 }),
    ).toThrow(RangeError);
  });

  it("the reader is dead after a connection error", () => {
    const reader = new FrameReader({ onFrame: () => {}, onStreamError: () => {} });
    let first: unknown;
    try {
      reader.push(raw(H.PING, 0, 1, "0000000000000000"));
    } catch (err) {
      first = err;
    }
    expect(first).toBeInstanceOf(Http2ProtocolError);
    expect(first).toBeInstanceOf(Http2Error);
    expect(() => reader.push(encodePingFrame())).toThrow(first as Error);
    expect(reader.idle).toBe(false);
  });

  it("errors carry the stream of the offending frame", () => {
    const result = readChunks([raw(H.RST_STREAM, 0, 9, "00")]);
    expect(result.error!.message).toMatch(/on stream 9/);
  });
});

describe("edge cases that are valid", () => {
  it("padding filling the whole payload after the Pad Length octet, in DATA, HEADERS and PUSH_PROMISE", () => {
    const result = readChunks([
      raw(H.DATA, F.PADDED, 1, "04 00000000"),
      raw(H.HEADERS, F.PADDED | F.PRIORITY | F.END_HEADERS, 1, "01 00000000 0f 00"),
      raw(H.PUSH_PROMISE, F.PADDED | F.END_HEADERS, 1, "02 00000002 0000"),
    ]);
    expect(result.error).toBeNull();
    expect(result.frames.map((f) => [f.data, f.padLength])).toEqual([
      ["", 4],
      ["", 1],
      ["", 2],
    ]);
  });
  it("unknown flags are kept but mean nothing", () => {
    const result = readChunks([
      raw(H.PING, 0xfe, 0, "0000000000000000"),
      raw(H.WINDOW_UPDATE, 0xff, 1, "00000001"),
    ]);
    expect(result.error).toBeNull();
    expect(result.frames.map((f) => f.flags)).toEqual([0xfe, 0xff]);
  });
});

describe("stream errors: the frame is dropped, reported, and reading goes on", () => {
  it.each(STREAM_ERRORS)("%s", (_name, bytes, code, scope, errorCode) => {
    const stream = Buffer.concat([encodePingFrame(), bytes, encodePingFrame(undefined, true)]);
    const result = readChunks([stream]);
    expect(result.error).toBeNull();
    expect(result.streamErrors).toEqual([{ code, streamId: 3, errorCode }]);
    expect(scope).toBe("stream");
    expect(result.frames.map((f) => f.flags)).toEqual([0, FrameFlag.ACK]);
    expect(readChunks(byteByByte(stream))).toEqual(result);
  });
});

describe("the connection preface (RFC 9113 3.4)", () => {
  const settings = encodeSettingsFrame([[SettingId.ENABLE_PUSH, 0]]);
  const client = Buffer.concat([Buffer.from(CONNECTION_PREFACE, "latin1"), settings, encodePingFrame()]);

  it("a server reader checks the magic and then a SETTINGS frame, whatever the split", () => {
    const whole = readChunks([client], { preface: "client" });
    expect(whole.error).toBeNull();
    expect(whole.frames.map((f) => f.type)).toEqual([FrameType.SETTINGS, FrameType.PING]);
    expect(readChunks(byteByByte(client), { preface: "client" })).toEqual(whole);
    for (let at = 0; at <= 40; at++)
      expect(readChunks(cut(client, [at]), { preface: "client" })).toEqual(whole);
  });

  it("a wrong magic is an Http2PrefaceError at the first wrong byte", () => {
    const http1 = Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const result = readChunks([http1], { preface: "client" });
    expect(result.error).toMatchObject({ code: "ERR_HTTP2_PREFACE", scope: "connection", errorCode: 1 });
    expect(result.error!.message).toMatch(/byte 0 is "G"/);
    expect(readChunks(byteByByte(http1), { preface: "client" }).error).toEqual(result.error);
    const tls = readChunks([Buffer.from("160301", "hex")], { preface: "client" });
    expect(tls.error!.message).toMatch(/TLS handshake/);
    const late = readChunks([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\n")], { preface: "client" });
    expect(late.error!.message).toMatch(/byte 22 is "\\n", expected "\\r"/);
  });

  it("the first frame must be SETTINGS without ACK", () => {
    const magic = Buffer.from(CONNECTION_PREFACE, "latin1");
    for (const first of [encodePingFrame(), encodeSettingsAckFrame(), encodeWindowUpdateFrame(0, 1)]) {
      const result = readChunks([Buffer.concat([magic, first])], { preface: "client" });
      expect(result.error?.code).toBe("ERR_HTTP2_PREFACE");
      expect(readChunks([first], { preface: "server" }).error?.code).toBe("ERR_HTTP2_PREFACE");
    }
    expect(readChunks([settings, encodePingFrame()], { preface: "server" }).frames.length).toBe(2);
    expect(readChunks([encodePingFrame()]).error).toBeNull(); // "none": no check
  });

  it("PrefaceMatcher works alone, and startsWithPreface sniffs", () => {
    const matcher = new PrefaceMatcher();
    expect(matcher.match(Buffer.from("PRI * HTTP/2.0\r\n"))).toBe(-1);
    expect(matcher.matched).toBe(16);
    expect(matcher.match(Buffer.from("xx\r\nSM\r\n\r\nrest"), 2)).toBe(10);
    expect(matcher.done).toBe(true);
    const bad = new PrefaceMatcher();
    expect(() => bad.match(Buffer.from("PRX"))).toThrow(Http2PrefaceError);
    expect(() => bad.match(Buffer.from("PRI"))).toThrow(Http2PrefaceError); // stays failed
    expect(startsWithPreface(Buffer.from("PRI * HT"))).toBe(true);
    expect(startsWithPreface(client)).toBe(true);
    expect(startsWithPreface(Buffer.from("POST / HTTP/1.1"))).toBe(false);
  });
});

describe("the handler", () => {
  it("anything it throws stops the reader for good", () => {
    const boom = new Error("boom");
    let calls = 0;
    const reader = new FrameReader({
      onFrame: () => {
        calls++;
        throw boom;
      },
      onStreamError: () => {},
    });
    expect(() => reader.push(Buffer.concat([encodePingFrame(), encodePingFrame()]))).toThrow(boom);
    expect(() => reader.push(encodePingFrame())).toThrow(boom);
    expect(calls).toBe(1);
  });
  it("cannot push from within a callback", () => {
    const reader: FrameReader = new FrameReader({
      onFrame: () => reader.push(encodePingFrame()),
      onStreamError: () => {},
    });
    expect(() => reader.push(encodePingFrame())).toThrow(/from within its own handler/);
  });
  it("gets one fixed-shape Frame per frame", () => {
    const seen: Frame[] = [];
    new FrameReader({ onFrame: (f) => seen.push(f), onStreamError: () => {} }).push(corpus());
    const keys = Object.keys(seen[0]!).join();
    for (const f of seen) expect(Object.keys(f).join()).toBe(keys);
    expect(summary(seen[0]!).type).toBe(FrameType.SETTINGS);
  });
});
