import { service } from "@tessera/core";
import { type Request, Response } from "@tessera/http";
import { describe, expect, it } from "vitest";
import { ErrorCode, FrameFlag, FrameType, SettingId } from "../src/index.js";
import { serve } from "./support/raw-client.js";

const hello = service((req: Request) => Response.text(`hello ${req.path}`));

describe("connection core (RFC 9113 3.4, 6.5, 6.7, 6.8)", () => {
  it("sends its SETTINGS first (push disabled, stream limit), ACKs the client's, and serves a request", async () => {
    const { client } = serve(hello, { maxConcurrentStreams: 7 });
    const settings = await client.handshake();
    expect(client.frames[0]!.type).toBe(FrameType.SETTINGS);
    const s = settings.settings;
    const value = (id: number): number | undefined => {
      for (let i = 0; i < s.length; i += 2) if (s[i] === id) return s[i + 1];
      return undefined;
    };
    expect(value(SettingId.ENABLE_PUSH)).toBe(0);
    expect(value(SettingId.MAX_CONCURRENT_STREAMS)).toBe(7);
    await client.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) !== 0);
    client.get(1, "/a");
    const res = await client.response(1);
    expect(res.status).toBe("200");
    expect(res.body).toBe("hello /a");
  });

  it("answers PING with a PING ACK carrying the same data", async () => {
    const { client } = serve(hello);
    await client.handshake();
    client.w.ping(Buffer.from("12345678"));
    client.flush();
    const ack = await client.waitFor((f) => f.type === FrameType.PING);
    expect(ack.flags & FrameFlag.ACK).toBe(FrameFlag.ACK);
    expect(ack.data.toString()).toBe("12345678");
  });

  it("ends with GOAWAY PROTOCOL_ERROR when the preface is wrong", async () => {
    const { client, done } = serve(hello);
    client.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const goaway = await client.goaway();
    expect(goaway.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    await done;
  });

  it("ends with SETTINGS_TIMEOUT when the client never ACKs our SETTINGS", async () => {
    const { client, done } = serve(hello, { settingsTimeout: 50 });
    client.w.preface().settings([]);
    client.flush();
    const goaway = await client.goaway();
    expect(goaway.errorCode).toBe(ErrorCode.SETTINGS_TIMEOUT);
    await done;
  });

  it("applies the client's MAX_FRAME_SIZE to what it writes", async () => {
    const big = "x".repeat(40_000);
    const { client } = serve(service(() => Response.text(big)));
    await client.handshake([
      [SettingId.MAX_FRAME_SIZE, 32_768],
      [SettingId.INITIAL_WINDOW_SIZE, 1_000_000],
    ]);
    client.w.windowUpdate(0, 1_000_000);
    client.flush();
    client.get(1);
    const res = await client.response(1);
    expect(res.body.length).toBe(40_000);
    const data = client.stream(1).filter((f) => f.type === FrameType.DATA);
    expect(data[0]!.data.length).toBe(32_768);
  });

  it("closes after the client's GOAWAY once streams are done", async () => {
    const { client, done } = serve(hello);
    await client.handshake();
    client.w.goaway(0, ErrorCode.NO_ERROR);
    client.flush();
    await done;
    await client.waitClosed();
  });

  it("PUSH_PROMISE from a client is a connection PROTOCOL_ERROR", async () => {
    const { client, done } = serve(hello);
    await client.handshake();
    client.get(1, "/", false);
    client.w.frame(FrameType.PUSH_PROMISE, FrameFlag.END_HEADERS, 1, Buffer.from([0, 0, 0, 2]));
    client.flush();
    expect((await client.goaway()).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    await done;
  });

  it("ignores PRIORITY, also on idle streams, and unknown frame types", async () => {
    const { client } = serve(hello);
    await client.handshake();
    client.w.priority(5, { dependency: 0, weight: 16 });
    client.w.frame(0xfa, 0, 0, Buffer.from("x"));
    client.flush();
    client.get(1);
    expect((await client.response(1)).status).toBe("200");
    client.get(3);
    expect((await client.response(3)).status).toBe("200");
  });
});

describe("stream states (RFC 9113 5.1)", () => {
  const conn = async () => {
    const s = serve(
      service(async (req: Request) => {
        const body = await req.body.text();
        return Response.text(`got ${body}`);
      }),
    );
    await s.client.handshake();
    return s;
  };

  it("DATA on an idle stream is a connection PROTOCOL_ERROR", async () => {
    const { client, done } = await conn();
    client.w.data(1, Buffer.from("x"));
    client.flush();
    expect((await client.goaway()).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    await done;
  });

  it("WINDOW_UPDATE and RST_STREAM on idle streams are connection PROTOCOL_ERRORs", async () => {
    for (const send of [
      (c: ReturnType<typeof serve>["client"]) => c.w.windowUpdate(3, 10),
      (c: ReturnType<typeof serve>["client"]) => c.w.rstStream(3, ErrorCode.CANCEL),
    ]) {
      const { client, done } = await conn();
      send(client);
      client.flush();
      expect((await client.goaway()).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
      await done;
    }
  });

  it("an even stream id, or a decreasing one, is a connection PROTOCOL_ERROR / STREAM_CLOSED", async () => {
    const a = await conn();
    a.client.get(2);
    expect((await a.client.goaway()).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    const b = await conn();
    b.client.get(5);
    await b.client.response(5);
    b.client.get(3); // never opened, below 5: a decreasing id
    const goaway = await b.client.goaway();
    expect(goaway.errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(goaway.lastStreamId).toBe(5);
    const c = await conn();
    c.client.get(1);
    await c.client.response(1);
    c.client.get(1); // HEADERS again on a stream that closed
    expect((await c.client.goaway()).errorCode).toBe(ErrorCode.STREAM_CLOSED);
  });

  it("DATA after END_STREAM (half-closed remote) is a stream error STREAM_CLOSED; the connection lives", async () => {
    const { client } = serve(service(() => new Promise<Response>(() => {})));
    await client.handshake();
    client.get(1, "/", true);
    client.w.data(1, Buffer.from("late"));
    client.flush();
    expect((await client.rst(1)).errorCode).toBe(ErrorCode.STREAM_CLOSED);
    client.w.ping(Buffer.alloc(8));
    client.flush();
    await client.waitFor((f) => f.type === FrameType.PING);
  });

  it("HEADERS after END_STREAM is a stream error STREAM_CLOSED", async () => {
    const { client } = serve(service(() => new Promise<Response>(() => {})));
    await client.handshake();
    client.get(1, "/", true);
    client.headers(1, [["x-trailer", "1"]], true);
    expect((await client.rst(1)).errorCode).toBe(ErrorCode.STREAM_CLOSED);
  });

  it("trailers without END_STREAM are malformed: stream PROTOCOL_ERROR", async () => {
    const { client } = await conn();
    client.headers(
      1,
      [
        [":method", "POST"],
        [":scheme", "http"],
        [":path", "/"],
      ],
      false,
    );
    client.headers(1, [["x-trailer", "1"]], false);
    expect((await client.rst(1)).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it("a request body and trailers reach the handler", async () => {
    let trailers: string | undefined;
    const { client } = serve(
      service(async (req: Request) => {
        const text = await req.body.text();
        trailers = req.body.trailers?.get("x-sum");
        return Response.text(`got ${text}`);
      }),
    );
    await client.handshake();
    client.headers(
      1,
      [
        [":method", "POST"],
        [":scheme", "http"],
        [":path", "/"],
      ],
      false,
    );
    client.w.data(1, Buffer.from("abc"));
    client.flush();
    client.headers(1, [["x-sum", "3"]], true);
    expect((await client.response(1)).body).toBe("got abc");
    expect(trailers).toBe("3");
  });

  it("refuses streams past MAX_CONCURRENT_STREAMS with REFUSED_STREAM", async () => {
    const { client } = serve(
      service(() => new Promise<Response>(() => {})),
      { maxConcurrentStreams: 2 },
    );
    await client.handshake();
    client.get(1);
    client.get(3);
    client.get(5);
    expect((await client.rst(5)).errorCode).toBe(ErrorCode.REFUSED_STREAM);
    expect(client.stream(1)).toHaveLength(0);
  });

  it("a client RST_STREAM aborts the request's signal", async () => {
    let aborted: unknown;
    const { client } = serve(
      service(
        (req: Request) =>
          new Promise<Response>((resolve) => {
            req.signal.addEventListener("abort", () => {
              aborted = req.signal.reason;
              resolve(Response.text("late"));
            });
          }),
      ),
    );
    await client.handshake();
    client.get(1);
    await new Promise((r) => setTimeout(r, 20));
    client.w.rstStream(1, ErrorCode.CANCEL);
    client.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect((aborted as { code?: string }).code).toBe("ERR_HTTP2_STREAM_RESET");
    expect(client.stream(1)).toHaveLength(0);
  });

  it("request extensions fork the connection's; each request gets its own", async () => {
    const seen: boolean[] = [];
    const { client, serverConn } = serve(
      service((req: Request) => {
        seen.push(req.extensions.parent === serverConn.extensions);
        return Response.text("ok");
      }),
    );
    await client.handshake();
    client.get(1);
    client.get(3);
    await client.response(3);
    await client.response(1);
    expect(seen).toEqual([true, true]);
  });

  it("a handler that throws gets 500; one that fails after the headers gets RST_STREAM INTERNAL_ERROR", async () => {
    const { client } = serve(
      service((req: Request) => {
        if (req.path === "/throw") throw new Error("boom");
        async function* body(): AsyncGenerator<Uint8Array> {
          yield Buffer.from("part");
          throw new Error("midway");
        }
        return Response.create({ body: body() });
      }),
    );
    await client.handshake();
    client.get(1, "/throw");
    expect((await client.response(1)).status).toBe("500");
    client.get(3, "/stream");
    expect((await client.rst(3)).errorCode).toBe(ErrorCode.INTERNAL_ERROR);
  });

  it("a response complete before the request body: RST_STREAM NO_ERROR, and DATA in flight after it is ignored", async () => {
    const { client } = serve(service(() => Response.text("early")));
    await client.handshake();
    client.headers(
      1,
      [
        [":method", "POST"],
        [":scheme", "http"],
        [":path", "/"],
      ],
      false,
    );
    expect((await client.response(1)).body).toBe("early");
    const rst = await client.rst(1);
    expect(rst.errorCode).toBe(ErrorCode.NO_ERROR);
    for (let i = 0; i < 5; i++) client.w.data(1, Buffer.alloc(1000));
    client.headers(1, [["x-t", "1"]], true);
    client.w.ping(Buffer.from("after---"));
    client.flush();
    await client.waitFor((f) => f.type === FrameType.PING);
    expect(client.frames.filter((f) => f.type === FrameType.RST_STREAM)).toHaveLength(1);
    expect(client.frames.some((f) => f.type === FrameType.GOAWAY)).toBe(false);
  });
});

describe("idle connections", () => {
  it("drain after idleTimeout with no open stream", async () => {
    const { client, done } = serve(hello, { idleTimeout: 50 });
    await client.handshake();
    client.get(1);
    await client.response(1);
    await done;
    const goaways = client.frames.filter((f) => f.type === FrameType.GOAWAY);
    expect(goaways.at(-1)!.lastStreamId).toBe(1);
    expect(goaways.at(-1)!.errorCode).toBe(ErrorCode.NO_ERROR);
  });

  it("a client that vanishes mid-request: the request's signal aborts and serve() resolves", async () => {
    let aborted = false;
    const { client, done } = serve(
      service(
        (req: Request) =>
          new Promise<Response>((resolve) => {
            req.signal.addEventListener("abort", () => {
              aborted = true;
              resolve(Response.text("gone"));
            });
          }),
      ),
    );
    await client.handshake();
    client.get(1);
    await new Promise((r) => setTimeout(r, 20));
    client.conn.stream.destroy();
    await done;
    expect(aborted).toBe(true);
  });
});
