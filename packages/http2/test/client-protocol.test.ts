import { Request } from "@tessera/http";
import { memoryConnPair } from "@tessera/net";
import { afterEach, describe, expect, it } from "vitest";
import {
  clientConnection,
  ErrorCode,
  FrameFlag,
  FrameType,
  type Http2ClientConnection,
  type Http2ClientOptions,
  Http2ConnectionClosedError,
  Http2MalformedResponseError,
  Http2PrefaceError,
  Http2RequestNotProcessedError,
  Http2StreamResetError,
  SettingId,
} from "../src/index.js";
import { RawClient } from "./support/raw-client.js";

// Our client against a raw server that writes whatever frames a test wants: what the client puts on the wire,
// and how it answers each thing a server may do (RFC 9113 from the client's side).

const open: Http2ClientConnection[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.destroy();
});

/** A raw server (it expects the client preface) and a client connection to it, after the SETTINGS exchange. */
async function rawServer(
  options?: Http2ClientOptions,
  settings: [number, number][] = [],
): Promise<{ raw: RawClient; client: Http2ClientConnection }> {
  const [a, b] = memoryConnPair();
  const raw = new RawClient(b, true, "client");
  raw.w.settings(settings);
  raw.flush();
  const client = await clientConnection(a, options);
  open.push(client);
  await raw.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) !== 0);
  return { raw, client };
}

/** The raw server answers stream `id` with HEADERS `fields`. */
function respond(raw: RawClient, id: number, fields: [string, string][], endStream = true): void {
  raw.w.headers(id, raw.encoder.encodePairs(fields), { endStream });
  raw.flush();
}

/** A request whose outcome the test does not look at (the connection is destroyed after each test). */
function ignore(pending: Promise<unknown>): void {
  pending.catch(() => {});
}

const headersOf = (raw: RawClient, id: number) =>
  raw.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === id);

describe("what the client sends (RFC 9113 3.4, 6.5, 8.3.1)", () => {
  it("opens with the preface, SETTINGS (push off, 1 MiB stream window, 64 KiB header list) and a WINDOW_UPDATE", async () => {
    const { raw, client } = await rawServer();
    const settings = raw.frames.find((f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) === 0);
    expect(settings?.settings).toEqual([
      SettingId.ENABLE_PUSH,
      0,
      SettingId.INITIAL_WINDOW_SIZE,
      1024 * 1024,
      SettingId.MAX_HEADER_LIST_SIZE,
      65_536,
    ]);
    const update = raw.frames.find((f) => f.type === FrameType.WINDOW_UPDATE);
    expect(update).toMatchObject({ streamId: 0, windowIncrement: 16 * 1024 * 1024 - 65_535 });
    ignore(client.serve(Request.get("http://example.com:8080/p?q")));
    const h = await headersOf(raw, 1);
    expect(h.headers).toEqual([
      [":method", "GET"],
      [":authority", "example.com:8080"],
      [":scheme", "http"],
      [":path", "/p?q"],
    ]);
    expect(h.endStream).toBe(true);
  });

  it("emulates a browser: SETTINGS entries in the given order, its WINDOW_UPDATE, pseudo-header order, priorities", async () => {
    // Firefox-like: m,p,a,s, PRIORITY frames before the first HEADERS, and a HEADERS priority.
    const { raw, client } = await rawServer({
      settings: [
        [SettingId.HEADER_TABLE_SIZE, 65_536],
        [SettingId.INITIAL_WINDOW_SIZE, 131_072],
        [SettingId.MAX_FRAME_SIZE, 16_384],
      ],
      windowUpdate: 12_517_377,
      pseudoHeaderOrder: ["method", "path", "authority", "scheme"],
      priorityFrames: [
        { streamId: 3, priority: { dependency: 0, weight: 201, exclusive: false } },
        { streamId: 5, priority: { dependency: 0, weight: 101, exclusive: false } },
      ],
      headerPriority: { dependency: 3, weight: 42, exclusive: false },
    });
    const settings = raw.frames.find((f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) === 0);
    expect(settings?.settings).toEqual([1, 65_536, 4, 131_072, 5, 16_384]);
    expect(raw.frames.find((f) => f.type === FrameType.WINDOW_UPDATE)?.windowIncrement).toBe(12_517_377);
    ignore(client.serve(Request.get("https://example.com/")));
    await headersOf(raw, 1);
    const order = raw.frames
      .filter((f) => f.type === FrameType.PRIORITY || f.type === FrameType.HEADERS)
      .map((f) => `${f.type === FrameType.PRIORITY ? "P" : "H"}${f.streamId}`);
    expect(order).toEqual(["P3", "P5", "H1"]);
    const h = raw.frames.find((f) => f.type === FrameType.HEADERS)!;
    expect(h.headers!.slice(0, 4).map(([n]) => n)).toEqual([":method", ":path", ":authority", ":scheme"]);
    expect(h.flags & FrameFlag.PRIORITY).toBe(FrameFlag.PRIORITY);
  });

  it("drops connection-specific fields and Host (carried as :authority); keeps te: trailers only", async () => {
    const { raw, client } = await rawServer();
    ignore(
      client.serve(
        Request.get("/x", {
          headers: {
            Host: "h.example",
            Connection: "keep-alive",
            TE: "gzip",
            "Keep-Alive": "5",
            Accept: "*/*",
          },
        }),
      ),
    );
    const h = await headersOf(raw, 1);
    expect(h.headers).toEqual([
      [":method", "GET"],
      [":authority", "h.example"],
      [":scheme", "http"],
      [":path", "/x"],
      ["accept", "*/*"],
    ]);
  });

  it("uses odd, increasing stream ids", async () => {
    const { raw, client } = await rawServer();
    for (let i = 0; i < 3; i++) ignore(client.serve(Request.get(`http://x/${i}`)));
    await headersOf(raw, 5);
    expect(raw.frames.filter((f) => f.type === FrameType.HEADERS).map((f) => f.streamId)).toEqual([1, 3, 5]);
  });
});

describe("what the client does with what the server sends", () => {
  it("skips interim 1xx responses and resolves with the final one", async () => {
    const { raw, client } = await rawServer();
    const pending = client.serve(Request.get("http://x/"));
    await headersOf(raw, 1);
    respond(
      raw,
      1,
      [
        [":status", "103"],
        ["link", "</a.css>; rel=preload"],
      ],
      false,
    );
    respond(raw, 1, [
      [":status", "200"],
      ["content-length", "0"],
    ]);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.body.text()).toBe("");
  });

  it("respects the server's stream window: sends no more DATA than INITIAL_WINDOW_SIZE until WINDOW_UPDATE", async () => {
    const { raw, client } = await rawServer({}, [[SettingId.INITIAL_WINDOW_SIZE, 10]]);
    ignore(client.serve(Request.post("http://x/", "0123456789abcdefghij")));
    await headersOf(raw, 1);
    await new Promise((r) => setTimeout(r, 30));
    const sent = () =>
      raw.frames
        .filter((f) => f.type === FrameType.DATA && f.streamId === 1)
        .reduce((n, f) => n + f.data.length, 0);
    expect(sent()).toBe(10);
    raw.w.windowUpdate(1, 10);
    raw.flush();
    await raw.waitFor((f) => f.type === FrameType.DATA && f.endStream);
    expect(sent()).toBe(20);
  });

  it("REFUSED_STREAM fails the request with a retry-safe error (requestSent false)", async () => {
    const { raw, client } = await rawServer();
    const pending = client.serve(Request.post("http://x/", "body"));
    await headersOf(raw, 1);
    raw.w.rstStream(1, ErrorCode.REFUSED_STREAM);
    raw.flush();
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Http2RequestNotProcessedError);
    expect(error).toMatchObject({ code: "ERR_HTTP2_REQUEST_NOT_PROCESSED", requestSent: false });
  });

  it("another RST_STREAM fails the request with the reset's code", async () => {
    const { raw, client } = await rawServer();
    const pending = client.serve(Request.get("http://x/"));
    await headersOf(raw, 1);
    raw.w.rstStream(1, ErrorCode.INTERNAL_ERROR);
    raw.flush();
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Http2StreamResetError);
    expect((error as Http2StreamResetError).errorCode).toBe(ErrorCode.INTERNAL_ERROR);
    expect(client.closed).toBe(false);
  });

  it("GOAWAY: streams above its last id fail retry-safe, the ones below finish, then the connection closes", async () => {
    const { raw, client } = await rawServer();
    const one = client.serve(Request.get("http://x/1"));
    const three = client.serve(Request.get("http://x/3"));
    await headersOf(raw, 3);
    raw.w.goaway(1, ErrorCode.NO_ERROR);
    raw.flush();
    await expect(three).rejects.toBeInstanceOf(Http2RequestNotProcessedError);
    expect(client.closed).toBe(true);
    expect(client.capacity).toBe(0);
    respond(raw, 1, [[":status", "200"]], false);
    raw.w.data(1, Buffer.from("last"), { endStream: true });
    raw.flush();
    expect(await (await one).body.text()).toBe("last");
    await raw.goaway();
  });

  it("answers PING with a PING ACK carrying the same data", async () => {
    const { raw } = await rawServer();
    raw.w.ping(Buffer.from("12345678"));
    raw.flush();
    const ack = await raw.waitFor((f) => f.type === FrameType.PING && (f.flags & FrameFlag.ACK) !== 0);
    expect(ack.data.toString()).toBe("12345678");
  });

  it("follows MAX_CONCURRENT_STREAMS changes in later SETTINGS", async () => {
    const { raw, client } = await rawServer({}, [[SettingId.MAX_CONCURRENT_STREAMS, 5]]);
    expect(client.capacity).toBe(5);
    raw.w.settings([[SettingId.MAX_CONCURRENT_STREAMS, 1]]);
    raw.flush();
    await raw.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) !== 0, 2000, 1);
    await new Promise((r) => setTimeout(r, 10));
    expect(client.capacity).toBe(1);
  });

  it("a server that never sends SETTINGS fails the connect with ERR_HTTP2_HANDSHAKE_TIMEOUT", async () => {
    const [a] = memoryConnPair();
    await expect(clientConnection(a, { handshakeTimeout: 50 })).rejects.toMatchObject({
      code: "ERR_HTTP2_HANDSHAKE_TIMEOUT",
    });
  });

  it("a server that opens with anything but SETTINGS is a connection error", async () => {
    const [a, b] = memoryConnPair();
    const raw = new RawClient(b, true, "client");
    raw.w.ping(Buffer.alloc(8));
    raw.flush();
    await expect(clientConnection(a)).rejects.toBeInstanceOf(Http2PrefaceError);
    const goaway = await raw.goaway();
    expect(goaway.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it("the server closing mid-response fails the body with ERR_HTTP2_CONNECTION_CLOSED", async () => {
    const { raw, client } = await rawServer();
    const pending = client.serve(Request.get("http://x/"));
    await headersOf(raw, 1);
    respond(raw, 1, [[":status", "200"]], false);
    raw.w.data(1, Buffer.from("part"));
    raw.flush();
    const res = await pending;
    raw.conn.stream.end();
    const error = await res.body.text().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Http2ConnectionClosedError);
    expect(error).toMatchObject({ requestSent: true });
    expect(client.closed).toBe(true);
  });
});

describe("malformed responses (RFC 9113 8.1.1): stream PROTOCOL_ERROR, the connection goes on", () => {
  const cases: [string, [string, string][]][] = [
    ["no :status", [["content-type", "text/plain"]]],
    [
      "upper-case field name",
      [
        [":status", "200"],
        ["X-Upper", "1"],
      ],
    ],
    [
      "a request pseudo-header",
      [
        [":status", "200"],
        [":path", "/"],
      ],
    ],
    [
      "pseudo-header after a field",
      [
        ["server", "x"],
        [":status", "200"],
      ],
    ],
    [
      "connection-specific field",
      [
        [":status", "200"],
        ["connection", "close"],
      ],
    ],
    ["a bad :status", [[":status", "2000"]]],
    ["101 in HTTP/2", [[":status", "101"]]],
  ];
  for (const [name, fields] of cases) {
    it(`${name}: the request fails, RST_STREAM PROTOCOL_ERROR`, async () => {
      const { raw, client } = await rawServer();
      const pending = client.serve(Request.get("http://x/"));
      await headersOf(raw, 1);
      respond(raw, 1, fields);
      await expect(pending).rejects.toBeInstanceOf(Http2MalformedResponseError);
      const rst = await raw.rst(1);
      expect(rst.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
      expect(client.closed).toBe(false);
    });
  }

  it("DATA beyond content-length fails the body", async () => {
    const { raw, client } = await rawServer();
    const pending = client.serve(Request.get("http://x/"));
    await headersOf(raw, 1);
    respond(
      raw,
      1,
      [
        [":status", "200"],
        ["content-length", "2"],
      ],
      false,
    );
    raw.w.data(1, Buffer.from("toolong"), { endStream: true });
    raw.flush();
    const res = await pending;
    await expect(res.body.text()).rejects.toBeInstanceOf(Http2MalformedResponseError);
    expect((await raw.rst(1)).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it("DATA on a HEAD response fails it", async () => {
    const { raw, client } = await rawServer();
    const pending = client.serve(Request.head("http://x/"));
    await headersOf(raw, 1);
    respond(
      raw,
      1,
      [
        [":status", "200"],
        ["content-length", "4"],
      ],
      false,
    );
    const res = await pending;
    expect(await res.body.text()).toBe("");
    raw.w.data(1, Buffer.from("body"), { endStream: true });
    raw.flush();
    expect((await raw.rst(1)).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });
});

describe("connection errors from the server's frames: GOAWAY with the code, every exchange fails", () => {
  it("PUSH_PROMISE after we disabled push: PROTOCOL_ERROR", async () => {
    const { raw, client } = await rawServer();
    const pending = client.serve(Request.get("http://x/"));
    await headersOf(raw, 1);
    raw.w.frame(
      FrameType.PUSH_PROMISE,
      FrameFlag.END_HEADERS,
      1,
      Buffer.concat([
        Buffer.from([0, 0, 0, 2]),
        raw.encoder.encodePairs([
          [":method", "GET"],
          [":scheme", "http"],
          [":authority", "x"],
          [":path", "/pushed"],
        ]),
      ]),
    );
    raw.flush();
    await expect(pending).rejects.toBeInstanceOf(Http2ConnectionClosedError);
    expect((await raw.goaway()).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(client.closed).toBe(true);
  });

  it("DATA past our connection window: FLOW_CONTROL_ERROR", async () => {
    const { raw, client } = await rawServer({ windowUpdate: 0, initialWindowSize: 1_000_000 });
    const pending = client.serve(Request.get("http://x/"));
    await headersOf(raw, 1);
    respond(raw, 1, [[":status", "200"]], false);
    raw.w.data(1, Buffer.alloc(16_384));
    raw.w.data(1, Buffer.alloc(16_384));
    raw.w.data(1, Buffer.alloc(16_384));
    raw.w.data(1, Buffer.alloc(16_384));
    raw.w.data(1, Buffer.alloc(100));
    raw.flush();
    const res = await pending;
    await expect(res.body.text()).rejects.toBeInstanceOf(Http2ConnectionClosedError);
    expect((await raw.goaway()).errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
  });

  it("HEADERS on a stream the client never opened: PROTOCOL_ERROR", async () => {
    const { raw } = await rawServer();
    respond(raw, 7, [[":status", "200"]]);
    expect((await raw.goaway()).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });
});
