// RFC 9113 section 5: streams and multiplexing (5.1 states, 5.1.1 identifiers, 5.1.2 concurrency, 5.3 priority,
// 5.4 error handling, 5.5 extensions).
import { describe, expect, it } from "vitest";
import type { RawClient } from "../support/raw-client.js";
import {
  block,
  connect,
  dataFrame,
  ErrorCode,
  expectAlive,
  expectConnectionError,
  expectResponse,
  expectSilent,
  expectStreamError,
  FrameFlag,
  FrameType,
  frame,
  getFields,
  halfClosedRemote,
  headersFrame,
  openStream,
  postFields,
  priorityPayload,
  pushPromiseFrame,
  rstStreamFrame,
  SettingId,
  send,
  starvedStream,
  windowUpdateFrame,
} from "./conformance.js";

const END_HEADERS = FrameFlag.END_HEADERS;

/** A GET on `id` served to the end: the stream is closed (END_STREAM both ways). */
async function closedStream(client: RawClient, id: number): Promise<void> {
  send(client, headersFrame(id, getFields()));
  await client.response(id);
}

describe("RFC 9113 5.1 stream states: idle", () => {
  it("5.1 idle: DATA on an idle stream is a connection error PROTOCOL_ERROR [h2spec http2/5.1/1]", async () => {
    const c = await connect();
    send(c.client, dataFrame(1, "test", true));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("5.1 idle: RST_STREAM on an idle stream is a connection error PROTOCOL_ERROR [h2spec http2/5.1/2]", async () => {
    const c = await connect();
    send(c.client, rstStreamFrame(1, ErrorCode.CANCEL));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("5.1 idle: WINDOW_UPDATE on an idle stream is a connection error PROTOCOL_ERROR [h2spec http2/5.1/3]", async () => {
    const c = await connect();
    send(c.client, windowUpdateFrame(1, 100));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("5.1 idle: CONTINUATION on an idle stream is a connection error PROTOCOL_ERROR [h2spec http2/5.1/4]", async () => {
    const c = await connect();
    send(c.client, frame(FrameType.CONTINUATION, END_HEADERS, 1, block(getFields())));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  for (const [name, make] of [
    ["DATA", () => dataFrame(2, "test", true)],
    ["RST_STREAM", () => rstStreamFrame(2, ErrorCode.CANCEL)],
    ["WINDOW_UPDATE", () => windowUpdateFrame(2, 100)],
  ] as [string, () => Buffer][]) {
    it(`5.1 idle: ${name} on an even-numbered stream (the server's, never opened: push is off) is a connection error PROTOCOL_ERROR`, async () => {
      const c = await connect();
      send(c.client, headersFrame(3, getFields()));
      await c.client.response(3);
      send(c.client, make());
      await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
    });
  }

  it("5.1 idle: PRIORITY on an idle stream is allowed [h2spec generic/2/1]", async () => {
    const { client } = await connect();
    send(client, frame(FrameType.PRIORITY, 0, 1, priorityPayload(0, 16)));
    await expectAlive(client, false);
    // PRIORITY does not open the stream: stream 1 can still be opened.
    send(client, headersFrame(1, getFields()));
    await expectResponse(client, 1);
  });

  it("5.1 idle -> open: HEADERS opens a stream and the request is served", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, postFields("/echo"), END_HEADERS), dataFrame(1, "abc", true));
    const res = await expectResponse(client, 1);
    expect(res.body).toBe("abc");
  });
});

describe("RFC 9113 5.1 stream states: reserved", () => {
  it("5.1 reserved (local) is never entered: the server disables push and sends no PUSH_PROMISE", async () => {
    const { client, serverSettings } = await connect();
    const s = serverSettings.settings;
    const i = s.findIndex((v, k) => k % 2 === 0 && v === SettingId.ENABLE_PUSH);
    expect(s[i + 1]).toBe(0);
    send(client, headersFrame(1, getFields()));
    await expectResponse(client, 1);
    expect(client.frames.filter((f) => f.type === FrameType.PUSH_PROMISE)).toEqual([]);
  });

  it("5.1 reserved (remote) cannot be entered by a client: a PUSH_PROMISE, even on an idle stream, is a connection error PROTOCOL_ERROR", async () => {
    const c = await connect();
    send(c.client, pushPromiseFrame(3, 2));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
    expect(c.client.frames.filter((f) => f.streamId === 2 || f.streamId === 3)).toEqual([]);
  });
});

describe("RFC 9113 5.1 stream states: open", () => {
  it("5.1 open: DATA, WINDOW_UPDATE and PRIORITY are accepted, END_STREAM half-closes and the response ends it", async () => {
    const { client } = await connect();
    send(
      client,
      headersFrame(1, postFields("/echo"), END_HEADERS),
      dataFrame(1, "a"),
      windowUpdateFrame(1, 10),
      frame(FrameType.PRIORITY, 0, 1, priorityPayload(0, 32)),
      dataFrame(1, "b", true),
    );
    const res = await expectResponse(client, 1);
    expect(res.body).toBe("ab");
  });

  it("5.1 open: RST_STREAM closes the stream; the server sends nothing more on it, and no RST_STREAM back", async () => {
    const { client } = await connect([[SettingId.INITIAL_WINDOW_SIZE, 10]]);
    await starvedStream(client, 1, true);
    send(client, rstStreamFrame(1, ErrorCode.CANCEL));
    await expectSilent(client, 1);
  });
});

describe("RFC 9113 5.1 stream states: half-closed (remote)", () => {
  it("5.1 half-closed (remote): DATA is a stream error STREAM_CLOSED [h2spec http2/5.1/5]", async () => {
    const { client } = await connect();
    await halfClosedRemote(client, 1);
    send(client, dataFrame(1, "test", true));
    await expectStreamError(client, 1, ErrorCode.STREAM_CLOSED);
  });

  it("5.1 half-closed (remote): HEADERS is a stream error STREAM_CLOSED [h2spec http2/5.1/6]", async () => {
    const { client } = await connect();
    await halfClosedRemote(client, 1);
    send(client, headersFrame(1, [["x-trailer", "1"]]));
    await expectStreamError(client, 1, ErrorCode.STREAM_CLOSED);
  });

  it("5.1 half-closed (remote): CONTINUATION (no open field block) is a connection error PROTOCOL_ERROR [h2spec http2/5.1/7]", async () => {
    const c = await connect();
    await halfClosedRemote(c.client, 1);
    send(c.client, frame(FrameType.CONTINUATION, END_HEADERS, 1, block([["x-trailer", "1"]])));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("5.1 half-closed (remote): WINDOW_UPDATE is allowed [h2spec generic/2/2]", async () => {
    const { client } = await connect();
    await halfClosedRemote(client, 1);
    send(client, windowUpdateFrame(1, 1000));
    await expectAlive(client, false);
  });

  it("5.1 half-closed (remote): PRIORITY is allowed [h2spec generic/2/3]", async () => {
    const { client } = await connect();
    await halfClosedRemote(client, 1);
    send(client, frame(FrameType.PRIORITY, 0, 1, priorityPayload(0, 100)));
    await expectAlive(client, false);
  });

  it("5.1 half-closed (remote): RST_STREAM is allowed and closes the stream [h2spec generic/2/4]", async () => {
    // One stream at a time: stream 3 is served only if the reset closed stream 1 (else REFUSED_STREAM).
    const { client } = await connect([], { maxConcurrentStreams: 1 });
    await halfClosedRemote(client, 1);
    send(client, rstStreamFrame(1, ErrorCode.CANCEL));
    await expectAlive(client, false);
    send(client, headersFrame(3, getFields()));
    await expectResponse(client, 3);
  });
});

describe("RFC 9113 5.1 stream states: half-closed (local)", () => {
  it("5.1 half-closed (local): the client may go on sending; a response that ended first is followed by RST_STREAM NO_ERROR", async () => {
    const { client } = await connect();
    // "/" answers at once without reading the body: the server's side ends while the client's is open.
    send(client, headersFrame(1, postFields("/"), END_HEADERS));
    const res = await client.response(1);
    expect(res.status).toBe("200");
    const rst = await client.rst(1);
    expect(rst.errorCode).toBe(ErrorCode.NO_ERROR);
    // DATA still in flight after that reset is ignored, not answered with another reset.
    const before = client.frames.length;
    send(client, dataFrame(1, "late", true));
    await expectAlive(client, false, before);
  });
});

describe("RFC 9113 5.1 stream states: closed", () => {
  it("5.1 closed: DATA after the client's RST_STREAM is a stream error STREAM_CLOSED [h2spec http2/5.1/8]", async () => {
    const { client } = await connect();
    await openStream(client, 1);
    send(client, rstStreamFrame(1, ErrorCode.CANCEL), dataFrame(1, "test", true));
    await expectStreamError(client, 1, ErrorCode.STREAM_CLOSED);
  });

  it("5.1 closed: HEADERS after the client's RST_STREAM is a STREAM_CLOSED error (raised to the connection) [h2spec http2/5.1/9]", async () => {
    const c = await connect();
    await openStream(c.client, 1);
    send(c.client, rstStreamFrame(1, ErrorCode.CANCEL), headersFrame(1, [["x-trailer", "1"]]));
    await expectConnectionError(c, ErrorCode.STREAM_CLOSED);
  });

  it("5.1 closed: CONTINUATION after the client's RST_STREAM is a connection error PROTOCOL_ERROR [h2spec http2/5.1/10]", async () => {
    const c = await connect();
    await openStream(c.client, 1);
    send(
      c.client,
      rstStreamFrame(1, ErrorCode.CANCEL),
      frame(FrameType.CONTINUATION, END_HEADERS, 1, block([["x-trailer", "1"]])),
    );
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("5.1 closed: DATA after END_STREAM both ways is a stream error STREAM_CLOSED (6.1) [h2spec http2/5.1/11]", async () => {
    // 5.1 lets a closed stream's frames be a connection error (MAY); 6.1 requires DATA on a stream that is not
    // open or half-closed (local) to be a stream error STREAM_CLOSED: the server does the latter.
    const { client } = await connect();
    await closedStream(client, 1);
    send(client, dataFrame(1, "test", true));
    await expectStreamError(client, 1, ErrorCode.STREAM_CLOSED);
  });

  it("5.1 closed: HEADERS after END_STREAM both ways is a connection error STREAM_CLOSED [h2spec http2/5.1/12]", async () => {
    const c = await connect();
    await closedStream(c.client, 1);
    send(c.client, headersFrame(1, getFields()));
    await expectConnectionError(c, ErrorCode.STREAM_CLOSED);
  });

  it("5.1 closed: CONTINUATION after END_STREAM both ways is a connection error PROTOCOL_ERROR [h2spec http2/5.1/13]", async () => {
    const c = await connect();
    await closedStream(c.client, 1);
    send(c.client, frame(FrameType.CONTINUATION, END_HEADERS, 1, block(getFields())));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("5.1 closed: PRIORITY on a closed stream is allowed [h2spec generic/2/5]", async () => {
    const { client } = await connect();
    await closedStream(client, 1);
    send(client, frame(FrameType.PRIORITY, 0, 1, priorityPayload(0, 8)));
    await expectAlive(client, false);
  });

  it("5.1 closed: WINDOW_UPDATE and RST_STREAM shortly after the server's END_STREAM are ignored", async () => {
    const { client } = await connect();
    await closedStream(client, 1);
    send(client, windowUpdateFrame(1, 100), rstStreamFrame(1, ErrorCode.CANCEL));
    await expectAlive(client, false);
  });

  it("5.1 closed: after the server resets a stream, frames still in flight on it are ignored", async () => {
    const { client } = await connect();
    // A malformed request (uppercase field name) is reset by the server with PROTOCOL_ERROR.
    send(client, headersFrame(1, postFields("/echo", [["X-Upper", "1"]]), END_HEADERS));
    await expectStreamError(client, 1, ErrorCode.PROTOCOL_ERROR);
    const before = client.frames.length;
    send(client, dataFrame(1, "in flight"), windowUpdateFrame(1, 5), dataFrame(1, "end", true));
    await expectAlive(client, false, before);
  });
});

describe("RFC 9113 5.1.1 stream identifiers", () => {
  it("5.1.1 a client stream with an even identifier is a connection error PROTOCOL_ERROR [h2spec http2/5.1.1/1]", async () => {
    const c = await connect();
    send(c.client, headersFrame(2, getFields()));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("5.1.1 a stream identifier smaller than one already opened is a connection error PROTOCOL_ERROR [h2spec http2/5.1.1/2]", async () => {
    const c = await connect();
    send(c.client, headersFrame(5, getFields()));
    await c.client.response(5);
    send(c.client, headersFrame(3, getFields()));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("5.1.1 opening a stream implicitly closes the lower idle ones: HEADERS on a skipped id is a PROTOCOL_ERROR", async () => {
    const c = await connect();
    await openStream(c.client, 7);
    send(c.client, headersFrame(3, getFields()));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("5.1.1 stream identifiers need not be consecutive", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, getFields()), headersFrame(11, getFields()), headersFrame(101, getFields()));
    await expectResponse(client, 1);
    await expectResponse(client, 11);
    await expectResponse(client, 101);
  });

  it("5.1.1 the largest stream identifier, 2^31-1, can be opened", async () => {
    const { client } = await connect();
    send(client, headersFrame(2 ** 31 - 1, getFields()));
    await expectResponse(client, 2 ** 31 - 1);
  });

  it("5.1.1 the GOAWAY of a connection error names the highest client stream the server processed", async () => {
    const c = await connect();
    send(c.client, headersFrame(9, getFields()));
    await c.client.response(9);
    send(c.client, headersFrame(4, getFields()));
    const goaway = await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
    expect(goaway.lastStreamId).toBe(9);
  });
});

describe("RFC 9113 5.1.2 stream concurrency", () => {
  it("5.1.2 HEADERS past the advertised SETTINGS_MAX_CONCURRENT_STREAMS get REFUSED_STREAM [h2spec http2/5.1.2/1]", async () => {
    const { client, serverSettings } = await connect([], { maxConcurrentStreams: 2 });
    const s = serverSettings.settings;
    const i = s.findIndex((v, k) => k % 2 === 0 && v === SettingId.MAX_CONCURRENT_STREAMS);
    expect(s[i + 1]).toBe(2);
    await halfClosedRemote(client, 1);
    await openStream(client, 3);
    send(client, headersFrame(5, getFields()));
    await expectStreamError(client, 5, ErrorCode.REFUSED_STREAM);
  });

  it("5.1.2 a refused stream's field block is still decoded, and closing a stream frees its slot", async () => {
    const { client } = await connect([], { maxConcurrentStreams: 1 });
    await openStream(client, 1);
    // Stream 3 is refused, but its literal with indexing still enters the dynamic table.
    const withIndexing = Buffer.from([...block(getFields()), 0x40, 1, 0x78, 1, 0x31]); // "x: 1"
    send(client, frame(FrameType.HEADERS, END_HEADERS | FrameFlag.END_STREAM, 3, withIndexing));
    await expectStreamError(client, 3, ErrorCode.REFUSED_STREAM);
    send(client, rstStreamFrame(1, ErrorCode.CANCEL));
    send(
      client,
      frame(
        FrameType.HEADERS,
        END_HEADERS | FrameFlag.END_STREAM,
        5,
        Buffer.from([...block(getFields()), 0xbe]),
      ),
    );
    await expectResponse(client, 5);
  });

  it("5.1.2 streams in a half-closed state count towards the limit, closed ones do not", async () => {
    const { client } = await connect([], { maxConcurrentStreams: 1 });
    await closedStream(client, 1);
    await closedStream(client, 3);
    await halfClosedRemote(client, 5);
    send(client, headersFrame(7, getFields()));
    await expectStreamError(client, 7, ErrorCode.REFUSED_STREAM);
  });
});

describe("RFC 9113 5.3 prioritization", () => {
  it("5.3.1 HEADERS that makes a stream depend on itself is a PROTOCOL_ERROR (raised to the connection) [h2spec http2/5.3.1/1]", async () => {
    const c = await connect();
    const payload = Buffer.concat([priorityPayload(1, 16), block(getFields())]);
    send(
      c.client,
      frame(FrameType.HEADERS, END_HEADERS | FrameFlag.END_STREAM | FrameFlag.PRIORITY, 1, payload),
    );
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("5.3.1 PRIORITY that makes a stream depend on itself is a stream error PROTOCOL_ERROR [h2spec http2/5.3.1/2]", async () => {
    const { client } = await connect();
    await openStream(client, 1);
    send(client, frame(FrameType.PRIORITY, 0, 1, priorityPayload(1, 16)));
    await expectStreamError(client, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it("5.3.1 PRIORITY that makes an idle stream depend on itself is a connection error PROTOCOL_ERROR (no RST_STREAM on an idle stream, 6.4)", async () => {
    const c = await connect();
    send(c.client, frame(FrameType.PRIORITY, 0, 1, priorityPayload(1, 16)));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
    expect(c.client.frames.filter((f) => f.type === FrameType.RST_STREAM)).toEqual([]);
  });

  it("5.3.2 priority signals are accepted and ignored: a dependency on a stream that does not exist is fine", async () => {
    const { client } = await connect();
    const payload = Buffer.concat([priorityPayload(99, 256, true), block(getFields())]);
    send(
      client,
      frame(FrameType.HEADERS, END_HEADERS | FrameFlag.END_STREAM | FrameFlag.PRIORITY, 1, payload),
    );
    await expectResponse(client, 1);
  });
});

describe("RFC 9113 5.4 error handling", () => {
  it("5.4.1 after a connection error the server sends GOAWAY and closes the connection [h2spec http2/5.4.1/1]", async () => {
    const c = await connect();
    send(c.client, frame(FrameType.PING, 0, 0, Buffer.alloc(6)));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
    expect(c.client.frames.at(-1)!.type).toBe(FrameType.GOAWAY);
  });

  it("5.4.1 the GOAWAY's last stream id is the last stream the server processed [h2spec http2/5.4.1/2]", async () => {
    const c = await connect();
    send(c.client, headersFrame(1, getFields()));
    await c.client.response(1);
    send(c.client, frame(FrameType.PING, 0, 0, Buffer.alloc(6)));
    const goaway = await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
    expect(goaway.lastStreamId).toBe(1);
  });

  it("5.4.1 frames after the one that caused a connection error are not processed, even in the same write", async () => {
    const c = await connect();
    c.client.write(
      Buffer.concat([frame(FrameType.PING, 0, 0, Buffer.alloc(6)), headersFrame(1, getFields())]),
    );
    const goaway = await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
    expect(goaway.lastStreamId).toBe(0);
    expect(c.client.stream(1)).toEqual([]);
  });

  it("5.4.2 a stream error resets that stream only; other streams go on", async () => {
    const { client } = await connect();
    await openStream(client, 1);
    await openStream(client, 3);
    send(client, frame(FrameType.PRIORITY, 0, 3, priorityPayload(3, 1)));
    await expectStreamError(client, 3, ErrorCode.PROTOCOL_ERROR);
    send(client, headersFrame(5, getFields()));
    await expectResponse(client, 5);
    expect(client.stream(1).filter((f) => f.type === FrameType.RST_STREAM)).toEqual([]);
  });

  it("5.4.2 the server never answers an RST_STREAM with an RST_STREAM", async () => {
    const { client } = await connect();
    await openStream(client, 1);
    send(client, rstStreamFrame(1, ErrorCode.PROTOCOL_ERROR), rstStreamFrame(1, ErrorCode.CANCEL));
    await expectAlive(client, false);
  });
});

describe("RFC 9113 5.5 extending HTTP/2", () => {
  it("5.5 an unknown extension frame is ignored [h2spec http2/5.5/1]", async () => {
    const { client } = await connect();
    send(client, frame(0xff, 0, 0, Buffer.from("extension")), frame(0xfe, 0xff, 3, Buffer.alloc(0)));
    await expectAlive(client, false);
    // It did not open stream 3 either: stream 1 may still be opened.
    send(client, headersFrame(1, getFields()));
    await expectResponse(client, 1);
  });

  it("5.5 an unknown extension frame in the middle of a field block is a connection error PROTOCOL_ERROR [h2spec http2/5.5/2]", async () => {
    const c = await connect();
    const fields = block(getFields());
    send(
      c.client,
      frame(FrameType.HEADERS, FrameFlag.END_STREAM, 1, fields.subarray(0, 10)),
      frame(0xff, 0, 1, Buffer.from("extension")),
      frame(FrameType.CONTINUATION, END_HEADERS, 1, fields.subarray(10)),
    );
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("5.5 a PRIORITY_UPDATE frame (RFC 9218, an extension the server does not use) is ignored", async () => {
    const { client } = await connect();
    const payload = Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from("u=1, i")]);
    send(client, frame(0x10, 0, 0, payload), headersFrame(1, getFields()));
    await expectResponse(client, 1);
  });

  it("5.5 unknown SETTINGS identifiers are ignored", async () => {
    const { client } = await connect([
      [0x0a0a, 7],
      [0xff, 0xffffffff],
    ]);
    send(client, headersFrame(1, getFields()));
    await expectResponse(client, 1);
  });
});
