import { service } from "@tessera/core";
import { Body, HeaderMap, type Request, Response } from "@tessera/http";
import { describe, expect, it } from "vitest";
import { ErrorCode, FrameType, MAX_WINDOW_SIZE, SettingId } from "../src/index.js";
import { type Got, serve } from "./support/raw-client.js";

const never = service(() => new Promise<Response>(() => {}));
const post = (id: number): [string, string][] => [
  [":method", "POST"],
  [":scheme", "http"],
  [":path", `/${id}`],
];
const dataBytes = (frames: Got[]): number =>
  frames.filter((f) => f.type === FrameType.DATA).reduce((n, f) => n + f.data.length, 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("receiving (RFC 9113 6.9)", () => {
  it("DATA beyond the stream window (our INITIAL_WINDOW_SIZE, once ACKed) is a stream FLOW_CONTROL_ERROR", async () => {
    const { client } = serve(never, { initialWindowSize: 100 });
    await client.handshake();
    client.headers(1, post(1), false);
    client.w.data(1, Buffer.alloc(101));
    client.flush();
    expect((await client.rst(1)).errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
  });

  it("DATA beyond the connection window is a connection FLOW_CONTROL_ERROR", async () => {
    const { client, done } = serve(never, { connectionWindowSize: 65_535 });
    await client.handshake();
    for (const id of [1, 3, 5]) {
      client.headers(id, post(id), false);
      client.w.data(id, Buffer.alloc(12_000)).data(id, Buffer.alloc(8_000)); // 60 000 in all
    }
    client.flush();
    await sleep(20);
    expect(client.frames.some((f) => f.type === FrameType.GOAWAY)).toBe(false);
    client.w.data(1, Buffer.alloc(6_000)); // 66 000: past the connection window, not the stream's
    client.flush();
    expect((await client.goaway()).errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    await done;
  });

  it("gives credit (WINDOW_UPDATE) only for what the handler read, so a slow reader stops the client", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { client } = serve(
      service(async (req: Request) => {
        await gate;
        const text = await req.body.text();
        return Response.text(String(text.length));
      }),
      { initialWindowSize: 1000, connectionWindowSize: 65_535 },
    );
    await client.handshake();
    client.headers(1, post(1), false);
    client.w.data(1, Buffer.alloc(1000));
    client.flush();
    await sleep(50);
    expect(client.frames.filter((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 1)).toHaveLength(
      0,
    );
    release();
    const update = await client.waitFor((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 1);
    expect(update.windowIncrement).toBe(1000);
    client.w.data(1, Buffer.alloc(500), { endStream: true });
    client.flush();
    expect((await client.response(1)).body).toBe("1500");
  });

  it("credits padding at once, and batches credit for dribbled one-byte frames", async () => {
    const { client } = serve(
      service(async (req: Request) => Response.text(String((await req.body.text()).length))),
      { initialWindowSize: 1000 },
    );
    await client.handshake();
    client.headers(1, post(1), false);
    for (let i = 0; i < 200; i++) client.w.data(1, Buffer.from("x"));
    client.flush();
    await sleep(50);
    const updates = client.frames.filter((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 1);
    expect(updates.length).toBeLessThanOrEqual(1);
    client.w.data(1, Buffer.from("y"), { endStream: true, padding: 100 });
    client.flush();
    expect((await client.response(1)).body).toBe("201");
  });
});

describe("sending (RFC 9113 6.9)", () => {
  const text = (n: number) => service(() => Response.text("z".repeat(n)));

  it("respects the client's stream window and resumes on WINDOW_UPDATE", async () => {
    const { client } = serve(text(100));
    await client.handshake([[SettingId.INITIAL_WINDOW_SIZE, 10]]);
    client.get(1);
    await client.waitFor((f) => f.type === FrameType.DATA);
    await sleep(30);
    expect(dataBytes(client.stream(1))).toBe(10);
    client.w.windowUpdate(1, 90);
    client.flush();
    expect((await client.response(1)).body).toBe("z".repeat(100));
  });

  it("respects the connection window across streams", async () => {
    const { client } = serve(text(40_000));
    await client.handshake([[SettingId.INITIAL_WINDOW_SIZE, 100_000]]);
    client.get(1);
    client.get(3);
    await sleep(50);
    expect(dataBytes(client.frames)).toBe(65_535);
    client.w.windowUpdate(0, 20_000);
    client.flush();
    await client.response(1);
    await client.response(3);
    expect(dataBytes(client.frames)).toBe(80_000);
  });

  it("a lower INITIAL_WINDOW_SIZE can make a stream window negative (RFC 9113 6.9.2)", async () => {
    const { client } = serve(text(200));
    await client.handshake([[SettingId.INITIAL_WINDOW_SIZE, 100]]);
    client.get(1);
    await client.waitFor((f) => f.type === FrameType.DATA);
    client.w.settings([[SettingId.INITIAL_WINDOW_SIZE, 50]]); // window 100 - 100 - 50 = -50
    client.w.windowUpdate(1, 60); // +60 = 10
    client.flush();
    await sleep(50);
    expect(dataBytes(client.stream(1))).toBe(110);
    client.w.windowUpdate(1, 1000);
    client.flush();
    expect((await client.response(1)).body.length).toBe(200);
  });

  it("window overflow past 2^31-1: stream error on a stream, connection error on the connection or via SETTINGS", async () => {
    const a = serve(never);
    await a.client.handshake();
    a.client.get(1);
    a.client.w.windowUpdate(1, MAX_WINDOW_SIZE);
    a.client.flush();
    expect((await a.client.rst(1)).errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    a.client.w.windowUpdate(0, MAX_WINDOW_SIZE);
    a.client.flush();
    expect((await a.client.goaway()).errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);

    const b = serve(never);
    await b.client.handshake();
    b.client.get(1);
    b.client.w.windowUpdate(1, MAX_WINDOW_SIZE - 65_535);
    b.client.w.settings([[SettingId.INITIAL_WINDOW_SIZE, 65_536]]);
    b.client.flush();
    expect((await b.client.goaway()).errorCode).toBe(ErrorCode.FLOW_CONTROL_ERROR);
  });

  it("sends trailers after the data, with END_STREAM", async () => {
    const { client } = serve(
      service(() => {
        async function* body(): AsyncGenerator<Uint8Array> {
          yield Buffer.from("ab");
          yield Buffer.from("cd");
        }
        const trailers = () => new HeaderMap([["Grpc-Status", "0"]]);
        return Response.create({ body: Body.fromIterable(body(), { trailers }) });
      }),
    );
    await client.handshake();
    client.get(1);
    const res = await client.response(1);
    expect(res.body).toBe("abcd");
    expect(res.trailers).toEqual([["grpc-status", "0"]]);
  });
});

describe("output buffering", () => {
  it("resumes DATA held back by the output high-water mark even when the socket never emits 'drain'", async () => {
    // A socket buffer far above our 64 KiB mark: write() always returns true, so no 'drain' ever comes.
    const { client } = serve(
      service(() => Response.text("b".repeat(1_000_000))),
      {},
      { highWaterMark: 8 * 1024 * 1024 },
    );
    await client.handshake([[SettingId.INITIAL_WINDOW_SIZE, 0x7fffffff]]);
    client.w.windowUpdate(0, 0x7fffffff - 65_535);
    client.flush();
    client.get(1);
    expect((await client.response(1, 5000)).body.length).toBe(1_000_000);
  });
});
