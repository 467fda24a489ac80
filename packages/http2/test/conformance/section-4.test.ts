// RFC 9113 section 4: HTTP frames (4.1 format, 4.2 size, 4.3 field section compression and decompression).
import { describe, expect, it } from "vitest";
import {
  block,
  connect,
  dataFrame,
  ErrorCode,
  expectAlive,
  expectConnectionError,
  expectResponse,
  expectStreamError,
  FrameFlag,
  FrameType,
  frame,
  getFields,
  headersFrame,
  hpackString,
  literal,
  postFields,
  priorityPayload,
  send,
  windowUpdateFrame,
} from "./conformance.js";

describe("RFC 9113 4.1 frame format", () => {
  it("4.1 a frame of an unknown type MUST be ignored and discarded [h2spec http2/4.1/1]", async () => {
    const { client } = await connect();
    send(client, frame(0x16, 0, 0, Buffer.from("unknown frame")), frame(0xff, 0xff, 1, Buffer.alloc(10)));
    await expectAlive(client, false);
  });

  it("4.1 flags that have no meaning for a frame type MUST be ignored [h2spec http2/4.1/2]", async () => {
    const { client } = await connect();
    const data = Buffer.from("h2flags!");
    send(client, frame(FrameType.PING, 0x16, 0, data));
    const ack = await client.waitFor((f) => f.type === FrameType.PING && f.data.equals(data));
    expect(ack.flags).toBe(FrameFlag.ACK);
    await expectAlive(client, false);
  });

  it("4.1 undefined flags on HEADERS and DATA (0x2, 0x10, 0x40, 0x80) are ignored and the request is served", async () => {
    const { client } = await connect();
    send(
      client,
      headersFrame(1, postFields("/echo"), FrameFlag.END_HEADERS | 0x2 | 0x10 | 0x40 | 0x80),
      frame(FrameType.DATA, FrameFlag.END_STREAM | 0x2 | 0x4 | 0x20, 1, Buffer.from("body")),
    );
    const res = await expectResponse(client, 1);
    expect(res.body).toBe("body");
  });

  it("4.1 the reserved bit of the stream identifier MUST be ignored on receipt [h2spec http2/4.1/3]", async () => {
    const { client } = await connect();
    send(
      client,
      frame(FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 0x80000001, block(getFields())),
    );
    await expectResponse(client, 1);
  });

  it("4.1 the reserved bit in a WINDOW_UPDATE increment is ignored", async () => {
    const { client } = await connect();
    send(client, windowUpdateFrame(0, 0x80000001));
    await expectAlive(client, false);
  });
});

describe("RFC 9113 4.2 frame size", () => {
  it("4.2 a DATA frame of 2^14 octets (the default SETTINGS_MAX_FRAME_SIZE) is accepted [h2spec http2/4.2/1]", async () => {
    const { client } = await connect();
    send(
      client,
      headersFrame(1, postFields("/echo"), FrameFlag.END_HEADERS),
      dataFrame(1, Buffer.alloc(16_384, 0x61), true),
    );
    const res = await expectResponse(client, 1);
    expect(res.body.length).toBe(16_384);
  });

  it("4.2 a DATA frame larger than SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR [h2spec http2/4.2/2]", async () => {
    const c = await connect();
    send(
      c.client,
      headersFrame(1, postFields("/echo"), FrameFlag.END_HEADERS),
      dataFrame(1, Buffer.alloc(16_385), true),
    );
    // A stream error would do for DATA; a connection error is what the server does, and is allowed (4.2).
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it("4.2 a HEADERS frame larger than SETTINGS_MAX_FRAME_SIZE is a connection error FRAME_SIZE_ERROR [h2spec http2/4.2/3]", async () => {
    const c = await connect();
    const fields = [
      ...getFields(),
      ...Array.from({ length: 6 }, (_, i) => [`x-${i}`, "v".repeat(3000)] as [string, string]),
    ];
    const big = block(fields);
    expect(big.length).toBeGreaterThan(16_384);
    send(c.client, frame(FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 1, big));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it("4.2 a SETTINGS frame larger than SETTINGS_MAX_FRAME_SIZE is a connection error FRAME_SIZE_ERROR", async () => {
    const c = await connect();
    send(c.client, frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(16_386)));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it("4.2 frames up to the SETTINGS_MAX_FRAME_SIZE the server advertised are accepted", async () => {
    const { client, serverSettings } = await connect([], { maxFrameSize: 32_768 });
    const s = serverSettings.settings;
    expect(s[s.indexOf(0x5) + 1]).toBe(32_768);
    send(
      client,
      headersFrame(1, postFields("/echo"), FrameFlag.END_HEADERS),
      dataFrame(1, Buffer.alloc(30_000, 0x62), true),
    );
    const res = await expectResponse(client, 1);
    expect(res.body.length).toBe(30_000);
  });
});

describe("RFC 9113 4.3 field section compression and decompression", () => {
  it("4.3 a field block that cannot be decoded is a connection error COMPRESSION_ERROR [h2spec http2/4.3/1]", async () => {
    const c = await connect();
    // A literal whose name claims 5 octets and has 1.
    send(
      c.client,
      frame(
        FrameType.HEADERS,
        FrameFlag.END_HEADERS | FrameFlag.END_STREAM,
        1,
        Buffer.from([0x00, 0x05, 0x61]),
      ),
    );
    await expectConnectionError(c, ErrorCode.COMPRESSION_ERROR);
  });

  it("4.3 a PRIORITY frame between HEADERS and its CONTINUATION is a connection error PROTOCOL_ERROR [h2spec http2/4.3/2]", async () => {
    const c = await connect();
    const fields = block(getFields());
    send(
      c.client,
      frame(FrameType.HEADERS, FrameFlag.END_STREAM, 1, fields.subarray(0, 10)),
      frame(FrameType.PRIORITY, 0, 1, priorityPayload(0, 255)),
      frame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 1, fields.subarray(10)),
    );
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("4.3 a HEADERS frame on another stream in the middle of a field block is a connection error PROTOCOL_ERROR [h2spec http2/4.3/3]", async () => {
    const c = await connect();
    const fields = block(getFields());
    send(
      c.client,
      frame(FrameType.HEADERS, FrameFlag.END_STREAM, 1, fields.subarray(0, 10)),
      headersFrame(3, getFields()),
      frame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 1, fields.subarray(10)),
    );
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("4.3 a field block split anywhere across HEADERS and CONTINUATION is decoded as one block", async () => {
    const { client } = await connect();
    const fields = block([...getFields(), ["x-split", "value"]]);
    // Cut inside a string literal: fragments need not end on a field boundary.
    send(
      client,
      frame(FrameType.HEADERS, FrameFlag.END_STREAM, 1, fields.subarray(0, 7)),
      frame(FrameType.CONTINUATION, 0, 1, fields.subarray(7, 8)),
      frame(FrameType.CONTINUATION, FrameFlag.END_HEADERS, 1, fields.subarray(8)),
    );
    await expectResponse(client, 1);
  });

  it("4.3 a field block is decoded (the compression state kept) even when its stream is then reset", async () => {
    const { client } = await connect();
    // Stream 1 adds "x-kept: 1" to the dynamic table, then is malformed (a connection-specific field).
    const first = Buffer.from([
      ...block(getFields()),
      0x40,
      ...hpackString("x-kept"),
      ...hpackString("1"),
      ...literal("connection", "close"),
    ]);
    send(client, frame(FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 1, first));
    await expectStreamError(client, 1, ErrorCode.PROTOCOL_ERROR);
    // Stream 3 refers to that entry (index 62, the newest dynamic entry): it must exist on the server too.
    send(
      client,
      frame(
        FrameType.HEADERS,
        FrameFlag.END_HEADERS | FrameFlag.END_STREAM,
        3,
        Buffer.from([...block(getFields()), 0xbe]),
      ),
    );
    await expectResponse(client, 3);
  });
});
