// RFC 9113 section 6: frame definitions, each frame type's rules (6.1 DATA to 6.10 CONTINUATION).
import { createShutdown } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { type RawClient, serve } from "../support/raw-client.js";
import {
  block,
  conformanceHandler,
  connect,
  dataFrame,
  dataOf,
  ErrorCode,
  expectAlive,
  expectCleanClose,
  expectConnectionError,
  expectResponse,
  expectSilent,
  expectStreamError,
  FrameFlag,
  FrameType,
  frame,
  getFields,
  goawayFrame,
  halfClosedRemote,
  headersFrame,
  nextData,
  pingRoundTrip,
  postFields,
  priorityPayload,
  rstStreamFrame,
  SettingId,
  send,
  settingsFrame,
  starvedStream,
  WAIT,
  windowUpdateFrame,
} from "./conformance.js";

const END_HEADERS = FrameFlag.END_HEADERS;
const END_STREAM = FrameFlag.END_STREAM;
const MAX_WINDOW = 2 ** 31 - 1;

/** A DATA payload with a Pad Length octet and `pad` octets of padding. */
function padded(data: string, pad: number): Buffer {
  return Buffer.concat([Buffer.from([pad]), Buffer.from(data), Buffer.alloc(pad)]);
}

/** The server's SETTINGS ACKs so far. */
function settingsAcks(client: RawClient): number {
  return client.frames.filter((f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) !== 0).length;
}

describe("RFC 9113 6.1 DATA", () => {
  it("6.1 DATA with a stream identifier of 0x0 is a connection error PROTOCOL_ERROR [h2spec http2/6.1/1]", async () => {
    const c = await connect();
    send(c.client, dataFrame(0, "test", true));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.1 DATA on a stream not open or half-closed (local) is a stream error STREAM_CLOSED [h2spec http2/6.1/2]", async () => {
    const { client } = await connect();
    await halfClosedRemote(client, 1);
    send(client, dataFrame(1, "test", true));
    await expectStreamError(client, 1, ErrorCode.STREAM_CLOSED);
  });

  it("6.1 DATA whose padding is as long as the payload or longer is a connection error PROTOCOL_ERROR [h2spec http2/6.1/3]", async () => {
    const c = await connect();
    send(c.client, headersFrame(1, postFields(), END_HEADERS));
    // Pad Length 6 in a payload of 5 octets after it: the padding does not fit.
    const payload = Buffer.concat([Buffer.from([6]), Buffer.from("test!")]);
    send(c.client, frame(FrameType.DATA, END_STREAM | FrameFlag.PADDED, 1, payload));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.1 padding of the payload length minus one is valid: the frame carries no data", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, postFields(), END_HEADERS), dataFrame(1, "ab"));
    send(
      client,
      frame(
        FrameType.DATA,
        END_STREAM | FrameFlag.PADDED,
        1,
        Buffer.concat([Buffer.from([5]), Buffer.alloc(5)]),
      ),
    );
    expect((await expectResponse(client, 1)).body).toBe("ab");
  });

  it("6.1 a DATA frame is delivered as the request content [h2spec generic/3.1/1]", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, postFields(), END_HEADERS), dataFrame(1, "test", true));
    expect((await expectResponse(client, 1)).body).toBe("test");
  });

  it("6.1 several DATA frames are delivered in order [h2spec generic/3.1/2]", async () => {
    const { client } = await connect();
    send(
      client,
      headersFrame(1, postFields(), END_HEADERS),
      dataFrame(1, "te"),
      dataFrame(1, "s"),
      dataFrame(1, "t", true),
    );
    expect((await expectResponse(client, 1)).body).toBe("test");
  });

  it("6.1 a padded DATA frame: the padding is removed [h2spec generic/3.1/3]", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, postFields(), END_HEADERS));
    send(client, frame(FrameType.DATA, END_STREAM | FrameFlag.PADDED, 1, padded("test", 8)));
    expect((await expectResponse(client, 1)).body).toBe("test");
  });

  it("6.1 an empty DATA frame with END_STREAM ends the request", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, postFields(), END_HEADERS), dataFrame(1, "abc"), dataFrame(1, "", true));
    expect((await expectResponse(client, 1)).body).toBe("abc");
  });

  it("6.1 the whole payload, Pad Length and padding included, counts against flow control", async () => {
    const { client } = await connect([], { initialWindowSize: 100 });
    send(client, headersFrame(1, postFields("/hold"), END_HEADERS));
    // 40 octets of data in a payload of 1 + 40 + 60 = 101: one octet past the stream window of 100.
    send(client, frame(FrameType.DATA, FrameFlag.PADDED, 1, padded("d".repeat(40), 60)));
    await expectStreamError(client, 1, ErrorCode.FLOW_CONTROL_ERROR);
  });
});

describe("RFC 9113 6.2 HEADERS", () => {
  it("6.2 HEADERS without END_HEADERS followed by a PRIORITY frame is a connection error PROTOCOL_ERROR [h2spec http2/6.2/1]", async () => {
    const c = await connect();
    send(
      c.client,
      frame(FrameType.HEADERS, END_STREAM, 1, block(getFields())),
      frame(FrameType.PRIORITY, 0, 1, priorityPayload(0, 16)),
    );
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.2 HEADERS to another stream while a field block is open is a connection error PROTOCOL_ERROR [h2spec http2/6.2/2]", async () => {
    const c = await connect();
    send(c.client, frame(FrameType.HEADERS, END_STREAM, 1, block(getFields())), headersFrame(3, getFields()));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.2 HEADERS with a stream identifier of 0x0 is a connection error PROTOCOL_ERROR [h2spec http2/6.2/3]", async () => {
    const c = await connect();
    send(c.client, headersFrame(0, getFields()));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.2 HEADERS whose padding does not fit is a connection error PROTOCOL_ERROR [h2spec http2/6.2/4]", async () => {
    const c = await connect();
    const fields = block(getFields());
    const payload = Buffer.concat([Buffer.from([fields.length + 1]), fields]);
    send(c.client, frame(FrameType.HEADERS, END_HEADERS | END_STREAM | FrameFlag.PADDED, 1, payload));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.2 a HEADERS frame opens a request [h2spec generic/3.2/1]", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, getFields()));
    expect((await expectResponse(client, 1)).body).toBe("ok");
  });

  it("6.2 a padded HEADERS frame: the padding is removed [h2spec generic/3.2/2]", async () => {
    const { client } = await connect();
    const payload = Buffer.concat([Buffer.from([10]), block(getFields()), Buffer.alloc(10)]);
    send(client, frame(FrameType.HEADERS, END_HEADERS | END_STREAM | FrameFlag.PADDED, 1, payload));
    await expectResponse(client, 1);
  });

  it("6.2 a HEADERS frame with priority fields [h2spec generic/3.2/3]", async () => {
    const { client } = await connect();
    const payload = Buffer.concat([priorityPayload(0, 255), block(getFields())]);
    send(client, frame(FrameType.HEADERS, END_HEADERS | END_STREAM | FrameFlag.PRIORITY, 1, payload));
    await expectResponse(client, 1);
  });

  it("6.2 a HEADERS frame both padded and with priority fields", async () => {
    const { client } = await connect();
    const payload = Buffer.concat([
      Buffer.from([3]),
      priorityPayload(0, 1, true),
      block(getFields()),
      Buffer.alloc(3),
    ]);
    send(
      client,
      frame(FrameType.HEADERS, END_HEADERS | END_STREAM | FrameFlag.PADDED | FrameFlag.PRIORITY, 1, payload),
    );
    await expectResponse(client, 1);
  });

  it("6.2 HEADERS too short for its priority fields is a connection error FRAME_SIZE_ERROR", async () => {
    const c = await connect();
    send(
      c.client,
      frame(FrameType.HEADERS, END_HEADERS | END_STREAM | FrameFlag.PRIORITY, 1, Buffer.alloc(3)),
    );
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });
});

describe("RFC 9113 6.3 PRIORITY", () => {
  it("6.3 PRIORITY with a stream identifier of 0x0 is a connection error PROTOCOL_ERROR [h2spec http2/6.3/1]", async () => {
    const c = await connect();
    send(c.client, frame(FrameType.PRIORITY, 0, 0, priorityPayload(1, 16)));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.3 PRIORITY of a length other than 5 is a stream error FRAME_SIZE_ERROR [h2spec http2/6.3/2]", async () => {
    const { client } = await connect();
    await halfClosedRemote(client, 1);
    send(client, frame(FrameType.PRIORITY, 0, 1, Buffer.alloc(4)));
    await expectStreamError(client, 1, ErrorCode.FRAME_SIZE_ERROR);
  });

  it("6.3 PRIORITY of a length other than 5 on an idle stream is a connection error FRAME_SIZE_ERROR (no RST_STREAM on an idle stream, 6.4)", async () => {
    const c = await connect();
    send(c.client, frame(FrameType.PRIORITY, 0, 1, Buffer.alloc(4)));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
    expect(c.client.frames.filter((f) => f.type === FrameType.RST_STREAM)).toEqual([]);
  });

  it("6.3 PRIORITY with weight 1 is accepted [h2spec generic/3.3/1]", async () => {
    const { client } = await connect();
    send(client, frame(FrameType.PRIORITY, 0, 1, priorityPayload(0, 1)));
    await expectAlive(client, false);
  });

  it("6.3 PRIORITY with weight 256 is accepted [h2spec generic/3.3/2]", async () => {
    const { client } = await connect();
    send(client, frame(FrameType.PRIORITY, 0, 1, priorityPayload(0, 256)));
    await expectAlive(client, false);
  });

  it("6.3 PRIORITY with a stream dependency is accepted [h2spec generic/3.3/3]", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, getFields()));
    await client.response(1);
    send(client, frame(FrameType.PRIORITY, 0, 3, priorityPayload(1, 16)));
    await expectAlive(client, false);
  });

  it("6.3 PRIORITY with the exclusive flag is accepted [h2spec generic/3.3/4]", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, getFields()));
    await client.response(1);
    send(client, frame(FrameType.PRIORITY, 0, 3, priorityPayload(1, 16, true)));
    await expectAlive(client, false);
  });

  it("6.3 PRIORITY for an idle stream, then HEADERS for a lower stream id [h2spec generic/3.3/5]", async () => {
    const { client } = await connect();
    send(client, frame(FrameType.PRIORITY, 0, 5, priorityPayload(0, 16)), headersFrame(3, getFields()));
    await expectResponse(client, 3);
  });

  it("6.3 PRIORITY on an open stream changes nothing the client can see: the request completes", async () => {
    const { client } = await connect();
    send(
      client,
      headersFrame(1, postFields(), END_HEADERS),
      frame(FrameType.PRIORITY, 0, 1, priorityPayload(0, 64, true)),
      dataFrame(1, "p", true),
    );
    expect((await expectResponse(client, 1)).body).toBe("p");
  });
});

describe("RFC 9113 6.4 RST_STREAM", () => {
  it("6.4 RST_STREAM with a stream identifier of 0x0 is a connection error PROTOCOL_ERROR [h2spec http2/6.4/1]", async () => {
    const c = await connect();
    send(c.client, rstStreamFrame(0, ErrorCode.CANCEL));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.4 RST_STREAM on an idle stream is a connection error PROTOCOL_ERROR [h2spec http2/6.4/2]", async () => {
    const c = await connect();
    send(c.client, rstStreamFrame(1, ErrorCode.CANCEL));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.4 RST_STREAM of a length other than 4 is a connection error FRAME_SIZE_ERROR [h2spec http2/6.4/3]", async () => {
    const c = await connect();
    await halfClosedRemote(c.client, 1);
    send(c.client, frame(FrameType.RST_STREAM, 0, 1, Buffer.alloc(3)));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it("6.4 RST_STREAM ends the stream at once: the server sends nothing more on it [h2spec generic/3.4/1]", async () => {
    const { client } = await connect([[SettingId.INITIAL_WINDOW_SIZE, 10]]);
    await starvedStream(client, 1);
    send(client, rstStreamFrame(1, ErrorCode.CANCEL));
    await expectSilent(client, 1);
  });
});

describe("RFC 9113 6.5 SETTINGS", () => {
  it("6.5 SETTINGS with ACK and a payload is a connection error FRAME_SIZE_ERROR [h2spec http2/6.5/1]", async () => {
    const c = await connect();
    send(c.client, settingsFrame([[SettingId.ENABLE_PUSH, 0]], FrameFlag.ACK));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it("6.5 SETTINGS with a stream identifier other than 0x0 is a connection error PROTOCOL_ERROR [h2spec http2/6.5/2]", async () => {
    const c = await connect();
    send(c.client, settingsFrame([[SettingId.ENABLE_PUSH, 0]], 0, 1));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.5 SETTINGS of a length that is not a multiple of 6 is a connection error FRAME_SIZE_ERROR [h2spec http2/6.5/3]", async () => {
    const c = await connect();
    send(c.client, frame(FrameType.SETTINGS, 0, 0, Buffer.from([0, 2, 0, 0, 0])));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  const parameters: [string, number, number, string][] = [
    ["SETTINGS_HEADER_TABLE_SIZE", SettingId.HEADER_TABLE_SIZE, 4096, "generic/3.5/1"],
    ["SETTINGS_ENABLE_PUSH", SettingId.ENABLE_PUSH, 0, "generic/3.5/2"],
    ["SETTINGS_MAX_CONCURRENT_STREAMS", SettingId.MAX_CONCURRENT_STREAMS, 100, "generic/3.5/3"],
    ["SETTINGS_INITIAL_WINDOW_SIZE", SettingId.INITIAL_WINDOW_SIZE, 100, "generic/3.5/4"],
    ["SETTINGS_MAX_FRAME_SIZE", SettingId.MAX_FRAME_SIZE, 16_384, "generic/3.5/5"],
    ["SETTINGS_MAX_HEADER_LIST_SIZE", SettingId.MAX_HEADER_LIST_SIZE, 16_384, "generic/3.5/6"],
    ["an undefined parameter", 0xff, 1, "generic/3.5/7"],
  ];
  for (const [name, id, value, h2spec] of parameters) {
    it(`6.5 SETTINGS with ${name} is acknowledged [h2spec ${h2spec}]`, async () => {
      const { client } = await connect();
      const acks = settingsAcks(client);
      send(client, settingsFrame([[id, value]]));
      await expectAlive(client, false);
      expect(settingsAcks(client)).toBe(acks + 1);
    });
  }

  it("6.5 an unsolicited SETTINGS ACK is ignored", async () => {
    const { client } = await connect();
    send(client, frame(FrameType.SETTINGS, FrameFlag.ACK, 0));
    await expectAlive(client, false);
  });
});

describe("RFC 9113 6.5.2 defined settings", () => {
  it("6.5.2 SETTINGS_ENABLE_PUSH other than 0 or 1 is a connection error PROTOCOL_ERROR [h2spec http2/6.5.2/1]", async () => {
    const c = await connect();
    send(c.client, settingsFrame([[SettingId.ENABLE_PUSH, 2]]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.5.2 SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 is a connection error FLOW_CONTROL_ERROR [h2spec http2/6.5.2/2]", async () => {
    const c = await connect();
    send(c.client, settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 2 ** 31]]));
    await expectConnectionError(c, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it("6.5.2 SETTINGS_MAX_FRAME_SIZE below 16384 is a connection error PROTOCOL_ERROR [h2spec http2/6.5.2/3]", async () => {
    const c = await connect();
    send(c.client, settingsFrame([[SettingId.MAX_FRAME_SIZE, 16_383]]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.5.2 SETTINGS_MAX_FRAME_SIZE above 2^24-1 is a connection error PROTOCOL_ERROR [h2spec http2/6.5.2/4]", async () => {
    const c = await connect();
    send(c.client, settingsFrame([[SettingId.MAX_FRAME_SIZE, 2 ** 24]]));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.5.2 the bounds themselves are valid: INITIAL_WINDOW_SIZE 2^31-1, MAX_FRAME_SIZE 16384 and 2^24-1, ENABLE_PUSH 0 and 1", async () => {
    const { client } = await connect();
    send(
      client,
      settingsFrame([
        [SettingId.INITIAL_WINDOW_SIZE, MAX_WINDOW],
        [SettingId.MAX_FRAME_SIZE, 16_384],
        [SettingId.MAX_FRAME_SIZE, 2 ** 24 - 1],
        [SettingId.ENABLE_PUSH, 1],
        [SettingId.ENABLE_PUSH, 0],
      ]),
    );
    await expectAlive(client, false);
    send(client, headersFrame(1, getFields()));
    await expectResponse(client, 1);
  });

  it("6.5.2 a SETTINGS parameter with an unknown identifier is ignored [h2spec http2/6.5.2/5]", async () => {
    const { client } = await connect();
    send(client, settingsFrame([[0xff, 1]]));
    await expectAlive(client, false);
    send(client, headersFrame(1, getFields()));
    await expectResponse(client, 1);
  });

  it("6.5.2 a header list past the SETTINGS_MAX_HEADER_LIST_SIZE the server advertised gets a 431, and the connection goes on", async () => {
    const { client, serverSettings } = await connect([], { maxHeaderListSize: 1000 });
    const s = serverSettings.settings;
    expect(s[s.indexOf(SettingId.MAX_HEADER_LIST_SIZE) + 1]).toBe(1000);
    send(client, headersFrame(1, [...getFields(), ["x-big", "b".repeat(1000)]]));
    await expectResponse(client, 1, "431");
    send(client, headersFrame(3, getFields()));
    await expectResponse(client, 3);
  });

  it("6.5.2 SETTINGS_MAX_FRAME_SIZE from the client bounds the DATA frames the server sends", async () => {
    const { client } = await connect([[SettingId.INITIAL_WINDOW_SIZE, 100_000]]);
    send(client, windowUpdateFrame(0, 100_000), headersFrame(1, getFields("/bytes/40000")));
    const res = await expectResponse(client, 1);
    expect(res.body.length).toBe(40_000);
    expect(Math.max(...dataOf(client, 1).map((f) => f.data.length))).toBe(16_384);
  });

  it("6.5.2 SETTINGS_HEADER_TABLE_SIZE 0: the server's next field block starts with a table size update to 0 (RFC 7541 4.2)", async () => {
    const { client } = await connect([[SettingId.HEADER_TABLE_SIZE, 0]]);
    send(client, headersFrame(1, getFields()));
    await client.response(1);
    const head = client.stream(1).find((f) => f.type === FrameType.HEADERS)!;
    expect(head.data[0]).toBe(0x20);
  });

  it("6.5.2 SETTINGS_HEADER_TABLE_SIZE 0 then 4096 before the next block: it signals both, the smallest first (RFC 7541 4.2)", async () => {
    const { client } = await connect();
    send(
      client,
      settingsFrame([[SettingId.HEADER_TABLE_SIZE, 0]]),
      settingsFrame([[SettingId.HEADER_TABLE_SIZE, 4096]]),
    );
    send(client, headersFrame(1, getFields()));
    await client.response(1, WAIT);
    const head = client.stream(1).find((f) => f.type === FrameType.HEADERS)!;
    expect([...head.data.subarray(0, 4)]).toEqual([0x20, 0x3f, 0xe1, 0x1f]);
  });

  it("6.5.2 a SETTINGS_ENABLE_PUSH of 1 from the client changes nothing: the server pushes nothing", async () => {
    const { client } = await connect([[SettingId.ENABLE_PUSH, 1]]);
    send(client, headersFrame(1, getFields()));
    await expectResponse(client, 1);
    expect(client.frames.filter((f) => f.type === FrameType.PUSH_PROMISE)).toEqual([]);
  });
});

describe("RFC 9113 6.5.3 settings synchronization", () => {
  it("6.5.3 several values of SETTINGS_INITIAL_WINDOW_SIZE in one frame: processed in order, the last one applies [h2spec http2/6.5.3/1]", async () => {
    const { client } = await connect([
      [SettingId.INITIAL_WINDOW_SIZE, 100],
      [SettingId.INITIAL_WINDOW_SIZE, 1],
    ]);
    send(client, headersFrame(1, getFields("/bytes/50")));
    const first = await nextData(client, 1);
    expect(first.data.length).toBe(1);
  });

  it("6.5.3 a SETTINGS frame without ACK is answered with a SETTINGS ACK [h2spec http2/6.5.3/2]", async () => {
    const { client } = await connect();
    const acks = settingsAcks(client);
    send(client, settingsFrame([[SettingId.MAX_CONCURRENT_STREAMS, 10]]));
    const ack = await client.waitFor(
      (f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) !== 0,
      2000,
      client.frames.length,
    );
    expect(ack.data.length).toBe(0);
    expect(settingsAcks(client)).toBe(acks + 1);
  });

  it("6.5.3 a client that never acknowledges the server's SETTINGS gets a connection error SETTINGS_TIMEOUT", async () => {
    const { client, done } = serve(conformanceHandler, { settingsTimeout: 30 });
    send(client, Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"), settingsFrame([]));
    await expectConnectionError({ client, done }, ErrorCode.SETTINGS_TIMEOUT);
  });
});

describe("RFC 9113 6.7 PING", () => {
  it("6.7 PING is answered with a PING ACK carrying the same data [h2spec http2/6.7/1, generic/3.7/1]", async () => {
    const { client } = await connect();
    send(client, frame(FrameType.PING, 0, 0, Buffer.from("h2spec!!")));
    const ack = await client.waitFor((f) => f.type === FrameType.PING);
    expect(ack.flags).toBe(FrameFlag.ACK);
    expect(ack.data.toString()).toBe("h2spec!!");
  });

  it("6.7 a PING with ACK is not answered [h2spec http2/6.7/2]", async () => {
    const { client } = await connect();
    send(client, frame(FrameType.PING, FrameFlag.ACK, 0, Buffer.from("unknown!")));
    await expectAlive(client, false);
    expect(
      client.frames.filter((f) => f.type === FrameType.PING && f.data.toString() === "unknown!"),
    ).toEqual([]);
  });

  it("6.7 PING with a stream identifier other than 0x0 is a connection error PROTOCOL_ERROR [h2spec http2/6.7/3]", async () => {
    const c = await connect();
    send(c.client, frame(FrameType.PING, 0, 1, Buffer.alloc(8)));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.7 PING of a length other than 8 is a connection error FRAME_SIZE_ERROR [h2spec http2/6.7/4]", async () => {
    const c = await connect();
    send(c.client, frame(FrameType.PING, 0, 0, Buffer.alloc(6)));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });
});

describe("RFC 9113 6.8 GOAWAY", () => {
  it("6.8 GOAWAY with a stream identifier other than 0x0 is a connection error PROTOCOL_ERROR [h2spec http2/6.8/1]", async () => {
    const c = await connect();
    send(c.client, goawayFrame(0, ErrorCode.NO_ERROR, 1));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.8 after the client's GOAWAY the server finishes its streams and closes [h2spec generic/3.8/1]", async () => {
    const c = await connect();
    await halfClosedRemote(c.client, 1);
    send(c.client, goawayFrame(1, ErrorCode.NO_ERROR));
    await expectAlive(c.client, false);
    send(c.client, rstStreamFrame(1, ErrorCode.CANCEL));
    await expectCleanClose(c);
  });

  it("6.8 GOAWAY of a length below 8 is a connection error FRAME_SIZE_ERROR", async () => {
    const c = await connect();
    send(c.client, frame(FrameType.GOAWAY, 0, 0, Buffer.alloc(7)));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it("6.8 graceful shutdown: GOAWAY 2^31-1 and a PING, then GOAWAY with the last stream; later streams are ignored, earlier ones complete", async () => {
    const shutdown = createShutdown();
    const { client, done } = serve(conformanceHandler, { shutdown });
    await client.handshake();
    await halfClosedRemote(client, 1);
    void shutdown.close();
    const first = await client.goaway();
    expect([first.lastStreamId, first.errorCode]).toEqual([MAX_WINDOW, ErrorCode.NO_ERROR]);
    const ping = await client.waitFor((f) => f.type === FrameType.PING && (f.flags & FrameFlag.ACK) === 0);
    send(client, frame(FrameType.PING, FrameFlag.ACK, 0, ping.data));
    const final = await client.waitFor((f) => f.type === FrameType.GOAWAY && f.lastStreamId !== MAX_WINDOW);
    expect([final.lastStreamId, final.errorCode]).toEqual([1, ErrorCode.NO_ERROR]);
    const at = client.frames.length;
    // Frames on a stream above the last stream id are ignored (6.8), DATA included (counted for flow control).
    send(
      client,
      headersFrame(3, postFields(), END_HEADERS),
      dataFrame(3, "ignored"),
      headersFrame(3, [["x-trailer", "1"]]),
    );
    await pingRoundTrip(client);
    expect(client.frames.slice(at).filter((f) => f.streamId === 3)).toEqual([]);
    send(client, rstStreamFrame(1, ErrorCode.CANCEL));
    await client.waitClosed();
    await done;
  });
});

describe("RFC 9113 6.9 WINDOW_UPDATE", () => {
  it("6.9 WINDOW_UPDATE with an increment of 0 on the connection is a connection error PROTOCOL_ERROR [h2spec http2/6.9/1]", async () => {
    const c = await connect();
    send(c.client, windowUpdateFrame(0, 0));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.9 WINDOW_UPDATE with an increment of 0 on a stream is a stream error PROTOCOL_ERROR [h2spec http2/6.9/2]", async () => {
    const { client } = await connect();
    await halfClosedRemote(client, 1);
    send(client, windowUpdateFrame(1, 0));
    await expectStreamError(client, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.9 WINDOW_UPDATE of a length other than 4 is a connection error FRAME_SIZE_ERROR [h2spec http2/6.9/3]", async () => {
    const c = await connect();
    send(c.client, frame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.from([0, 0, 1])));
    await expectConnectionError(c, ErrorCode.FRAME_SIZE_ERROR);
  });

  it("6.9 WINDOW_UPDATE on the connection is accepted [h2spec generic/3.9/1]", async () => {
    const { client } = await connect();
    send(client, windowUpdateFrame(0, 1));
    await expectAlive(client, false);
  });

  it("6.9 WINDOW_UPDATE on a stream is accepted [h2spec generic/3.9/2]", async () => {
    const { client } = await connect();
    await halfClosedRemote(client, 1);
    send(client, windowUpdateFrame(1, 1));
    await expectAlive(client, false);
  });

  it("6.9 the server sends no more DATA than the window allows, and resumes on WINDOW_UPDATE", async () => {
    const { client } = await connect([[SettingId.INITIAL_WINDOW_SIZE, 10]]);
    send(client, headersFrame(1, getFields("/bytes/25")));
    await nextData(client, 1);
    await expectAlive(client, false);
    expect(dataOf(client, 1).reduce((n, f) => n + f.data.length, 0)).toBe(10);
    send(client, windowUpdateFrame(1, 5));
    await expectAlive(client, false);
    expect(dataOf(client, 1).reduce((n, f) => n + f.data.length, 0)).toBe(15);
    send(client, windowUpdateFrame(1, 100));
    expect((await client.response(1)).body.length).toBe(25);
  });

  it("6.9 DATA past the stream window the server advertised is a stream error FLOW_CONTROL_ERROR", async () => {
    const { client } = await connect([], { initialWindowSize: 100 });
    send(
      client,
      headersFrame(1, postFields("/hold"), END_HEADERS),
      dataFrame(1, "d".repeat(100)),
      dataFrame(1, "d"),
    );
    await expectStreamError(client, 1, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it("6.9 DATA past the connection window is a connection error FLOW_CONTROL_ERROR", async () => {
    const c = await connect([], { connectionWindowSize: 65_535 });
    // Nobody reads these bodies, so no credit comes back: 4 x 16384 = 65536, one octet past the connection window.
    const chunk = Buffer.alloc(16_384);
    send(
      c.client,
      headersFrame(1, postFields("/hold"), END_HEADERS),
      headersFrame(3, postFields("/hold"), END_HEADERS),
    );
    send(c.client, dataFrame(1, chunk), dataFrame(1, chunk), dataFrame(3, chunk), dataFrame(3, chunk));
    await expectConnectionError(c, ErrorCode.FLOW_CONTROL_ERROR);
  });
});

describe("RFC 9113 6.9.1 the flow-control window", () => {
  it("6.9.1 DATA on a stream the server reset still counts against the connection window, and is credited back", async () => {
    const { client } = await connect([], { connectionWindowSize: 65_535 });
    /** `total` octets of DATA on `id` in frames of at most 16384, END_STREAM on the last if `end`. */
    const data = (id: number, total: number, end: boolean): Buffer[] => {
      const out: Buffer[] = [];
      for (let left = total; left > 0; left -= 16_384) {
        out.push(dataFrame(id, Buffer.alloc(Math.min(left, 16_384)), end && left <= 16_384));
      }
      return out;
    };
    // Stream 1 is malformed (reset by the server); its 60000 octets of DATA still come, and are dropped.
    send(client, headersFrame(1, postFields("/echo", [["X-Upper", "1"]]), FrameFlag.END_HEADERS));
    await expectStreamError(client, 1, ErrorCode.PROTOCOL_ERROR);
    const at = client.frames.length;
    send(client, ...data(1, 60_000, false));
    await client.waitFor((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0, WAIT, at);
    await expectAlive(client);
    const credit = client.frames
      .slice(at)
      .filter((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0)
      .reduce((n, f) => n + f.windowIncrement, 0);
    expect(credit).toBeGreaterThanOrEqual(30_000);
    // The whole window the client now has: without the credit it would overflow the connection window.
    const window = 65_535 - 60_000 + credit;
    send(client, headersFrame(3, postFields("/echo"), FrameFlag.END_HEADERS), ...data(3, window, true));
    expect((await expectResponse(client, 3)).body.length).toBe(window);
  });

  it("6.9.1 SETTINGS_INITIAL_WINDOW_SIZE of 1: the server sends DATA of 1 octet [h2spec http2/6.9.1/1]", async () => {
    const { client } = await connect([[SettingId.INITIAL_WINDOW_SIZE, 1]]);
    send(client, headersFrame(1, getFields("/bytes/20")));
    expect((await nextData(client, 1)).data.length).toBe(1);
  });

  it("6.9.1 WINDOW_UPDATEs that take the connection and a stream window to exactly 2^31-1 are accepted", async () => {
    const c = await connect();
    await halfClosedRemote(c.client, 1);
    // The connection window is 65535 - 4 ("held"), and so is the stream's.
    send(c.client, windowUpdateFrame(0, MAX_WINDOW - 65_531), windowUpdateFrame(1, MAX_WINDOW - 65_531));
    await expectAlive(c.client, false);
    // Both were counted: each window is at the maximum now, so one octet more is too much for either.
    send(c.client, windowUpdateFrame(1, 1));
    await expectStreamError(c.client, 1, ErrorCode.FLOW_CONTROL_ERROR);
    send(c.client, windowUpdateFrame(0, 1));
    await expectConnectionError(c, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it("6.9.1 WINDOW_UPDATEs that take the connection window past 2^31-1 are a connection error FLOW_CONTROL_ERROR [h2spec http2/6.9.1/2]", async () => {
    const c = await connect();
    send(c.client, windowUpdateFrame(0, MAX_WINDOW), windowUpdateFrame(0, MAX_WINDOW));
    await expectConnectionError(c, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it("6.9.1 WINDOW_UPDATEs that take a stream window past 2^31-1 are a stream error FLOW_CONTROL_ERROR [h2spec http2/6.9.1/3]", async () => {
    const { client } = await connect();
    await halfClosedRemote(client, 1);
    send(client, windowUpdateFrame(1, MAX_WINDOW), windowUpdateFrame(1, MAX_WINDOW));
    await expectStreamError(client, 1, ErrorCode.FLOW_CONTROL_ERROR);
  });
});

describe("RFC 9113 6.9.2 initial flow-control window size", () => {
  it("6.9.2 SETTINGS_INITIAL_WINDOW_SIZE changes stream windows only: the connection window stays at 65535", async () => {
    const { client } = await connect([[SettingId.INITIAL_WINDOW_SIZE, 100_000]]);
    send(client, headersFrame(1, getFields("/bytes/70000")));
    const sent = (): number => dataOf(client, 1).reduce((n, f) => n + f.data.length, 0);
    await client.waitFor(() => sent() >= 65_535);
    await expectAlive(client, false);
    expect(sent()).toBe(65_535);
    send(client, windowUpdateFrame(0, 10_000));
    expect((await client.response(1)).body.length).toBe(70_000);
  });

  it("6.9.2 a SETTINGS_INITIAL_WINDOW_SIZE change after HEADERS applies to the open stream [h2spec http2/6.9.2/1]", async () => {
    const { client } = await connect([[SettingId.INITIAL_WINDOW_SIZE, 0]]);
    send(client, headersFrame(1, getFields("/bytes/20")));
    await client.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1);
    await expectAlive(client, false);
    expect(dataOf(client, 1)).toEqual([]);
    send(client, settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 1]]));
    expect((await nextData(client, 1)).data.length).toBe(1);
  });

  it("6.9.2 a SETTINGS change can make a stream window negative: nothing is sent until it is positive again [h2spec http2/6.9.2/2]", async () => {
    const { client } = await connect([[SettingId.INITIAL_WINDOW_SIZE, 5]]);
    send(client, headersFrame(1, getFields("/bytes/20")));
    await nextData(client, 1);
    await expectAlive(client, false);
    expect(dataOf(client, 1).reduce((n, f) => n + f.data.length, 0)).toBe(5);
    // 5 sent under a window of 5; the new initial size 2 makes the window 2 - 5 = -3.
    send(client, settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 2]]), windowUpdateFrame(1, 3));
    await expectAlive(client, false);
    expect(dataOf(client, 1).reduce((n, f) => n + f.data.length, 0)).toBe(5);
    send(client, windowUpdateFrame(1, 1));
    const next = await nextData(client, 1, client.frames.length);
    expect(next.data.length).toBe(1);
  });

  it("6.9.2 SETTINGS_INITIAL_WINDOW_SIZE above the maximum window is a connection error FLOW_CONTROL_ERROR [h2spec http2/6.9.2/3]", async () => {
    const c = await connect();
    send(c.client, settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 2 ** 31]]));
    await expectConnectionError(c, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it("6.9.2 a SETTINGS_INITIAL_WINDOW_SIZE change that takes an open stream's window past 2^31-1 is a connection error FLOW_CONTROL_ERROR", async () => {
    const c = await connect();
    await halfClosedRemote(c.client, 1);
    // "held" took 4 octets of 65535: the window is 65531; raise it to exactly 2^31-1, then move it by +1.
    send(
      c.client,
      windowUpdateFrame(1, MAX_WINDOW - 65_531),
      settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 65_536]]),
    );
    await expectConnectionError(c, ErrorCode.FLOW_CONTROL_ERROR);
  });
});

describe("RFC 9113 6.10 CONTINUATION", () => {
  it("6.10 several CONTINUATION frames after HEADERS form one field block [h2spec http2/6.10/1, generic/3.10/2]", async () => {
    const { client } = await connect();
    const fields = block([...getFields(), ["x-dummy", "d".repeat(100)]]);
    send(
      client,
      frame(FrameType.HEADERS, END_STREAM, 1, fields.subarray(0, 20)),
      frame(FrameType.CONTINUATION, 0, 1, fields.subarray(20, 50)),
      frame(FrameType.CONTINUATION, 0, 1, fields.subarray(50, 80)),
      frame(FrameType.CONTINUATION, END_HEADERS, 1, fields.subarray(80)),
    );
    await expectResponse(client, 1);
  });

  it("6.10 one CONTINUATION frame after HEADERS [h2spec generic/3.10/1]", async () => {
    const { client } = await connect();
    const fields = block(getFields());
    send(
      client,
      frame(FrameType.HEADERS, END_STREAM, 1, fields.subarray(0, 15)),
      frame(FrameType.CONTINUATION, END_HEADERS, 1, fields.subarray(15)),
    );
    await expectResponse(client, 1);
  });

  it("6.10 a CONTINUATION followed by a frame other than CONTINUATION is a connection error PROTOCOL_ERROR [h2spec http2/6.10/2]", async () => {
    const c = await connect();
    const fields = block(getFields());
    send(
      c.client,
      frame(FrameType.HEADERS, END_STREAM, 1, fields.subarray(0, 10)),
      frame(FrameType.CONTINUATION, 0, 1, fields.subarray(10, 20)),
      dataFrame(1, "test", true),
    );
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.10 CONTINUATION with a stream identifier of 0x0 is a connection error PROTOCOL_ERROR [h2spec http2/6.10/3]", async () => {
    const c = await connect();
    const fields = block(getFields());
    send(
      c.client,
      frame(FrameType.HEADERS, END_STREAM, 1, fields.subarray(0, 10)),
      frame(FrameType.CONTINUATION, END_HEADERS, 0, fields.subarray(10)),
    );
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.10 CONTINUATION after a HEADERS frame with END_HEADERS is a connection error PROTOCOL_ERROR [h2spec http2/6.10/4]", async () => {
    const c = await connect();
    send(
      c.client,
      headersFrame(1, getFields(), END_HEADERS),
      frame(FrameType.CONTINUATION, END_HEADERS, 1, block([["x-dummy", "1"]])),
    );
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.10 CONTINUATION after a CONTINUATION with END_HEADERS is a connection error PROTOCOL_ERROR [h2spec http2/6.10/5]", async () => {
    const c = await connect();
    const fields = block(getFields());
    send(
      c.client,
      frame(FrameType.HEADERS, 0, 1, fields.subarray(0, 10)),
      frame(FrameType.CONTINUATION, END_HEADERS, 1, fields.subarray(10)),
      frame(FrameType.CONTINUATION, END_HEADERS, 1, block([["x-dummy", "1"]])),
    );
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.10 CONTINUATION after a DATA frame is a connection error PROTOCOL_ERROR [h2spec http2/6.10/6]", async () => {
    const c = await connect();
    send(
      c.client,
      headersFrame(1, postFields("/hold"), END_HEADERS),
      dataFrame(1, "test"),
      frame(FrameType.CONTINUATION, END_HEADERS, 1, block([["x-dummy", "1"]])),
    );
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("6.10 flags CONTINUATION does not define (PADDED, PRIORITY, END_STREAM) are ignored: the payload is all fragment", async () => {
    const { client } = await connect();
    const fields = block(getFields());
    send(
      client,
      frame(FrameType.HEADERS, END_STREAM, 1, fields.subarray(0, 10)),
      frame(
        FrameType.CONTINUATION,
        END_HEADERS | FrameFlag.PADDED | FrameFlag.PRIORITY | END_STREAM,
        1,
        fields.subarray(10),
      ),
    );
    await expectResponse(client, 1);
  });

  it("6.10 CONTINUATION on another stream than the open field block is a connection error PROTOCOL_ERROR", async () => {
    const c = await connect();
    const fields = block(getFields());
    send(
      c.client,
      frame(FrameType.HEADERS, END_STREAM, 1, fields.subarray(0, 10)),
      frame(FrameType.CONTINUATION, END_HEADERS, 3, fields.subarray(10)),
    );
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });
});
