import { service } from "@tessera/core";
import { Body, type Request, Response } from "@tessera/http";
import { memoryConnPair } from "@tessera/net";
import { describe, expect, it } from "vitest";
import { ErrorCode, FrameType, type Http2ServerOptions, SettingId, server } from "../src/index.js";
import { RawClient } from "./support/raw-client.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const GET: [string, string][] = [
  [":method", "GET"],
  [":scheme", "http"],
  [":authority", "t"],
  [":path", "/"],
];

/** One server, many connections: an attacked connection must not make the server unresponsive to others. */
function target(
  handler: (req: Request) => Response | Promise<Response>,
  options?: Http2ServerOptions,
): {
  connect(pair?: { highWaterMark?: number; read?: boolean }): {
    client: RawClient;
    done: Promise<void>;
    errors: Error[];
  };
} {
  const errors: Error[] = [];
  const srv = server(service(handler), { ...options, onError: (e) => errors.push(e) });
  return {
    connect(pair) {
      const [c, s] = memoryConnPair(
        pair?.highWaterMark === undefined ? undefined : { highWaterMark: pair.highWaterMark },
      );
      const done = srv.serve(s);
      return { client: new RawClient(c, pair?.read ?? true), done, errors };
    },
  };
}

async function stillServes(t: ReturnType<typeof target>): Promise<void> {
  const { client } = t.connect();
  await client.handshake();
  client.headers(1, [...GET.slice(0, 3), [":path", "/alive"]]);
  expect((await client.response(1)).status).toBe("200");
}

describe("attacks (each ends the abusive connection with ENHANCE_YOUR_CALM and bounded work)", () => {
  it("Rapid Reset: HEADERS + RST_STREAM in a loop → GOAWAY ENHANCE_YOUR_CALM after the limit", async () => {
    let calls = 0;
    const t = target(
      async (req) => {
        if (req.path === "/alive") return Response.text("alive");
        calls++;
        await new Promise((r) => req.signal.addEventListener("abort", r));
        return Response.text("late");
      },
      { maxResetsPerWindow: 50 },
    );
    const { client, done } = t.connect();
    await client.handshake();
    for (let id = 1; id < 2 * 5000; id += 2) {
      client.w.headers(id, client.encoder.encodePairs(GET), { endStream: true });
      client.w.rstStream(id, ErrorCode.CANCEL);
    }
    client.flush();
    const goaway = await client.goaway();
    expect(goaway.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    await done;
    // Work stopped at the limit: the rest of the 5000 requests never reached the handler.
    expect(calls).toBeLessThanOrEqual(51);
    await stillServes(t);
  });

  it("MadeYouReset: requests the server must reset (malformed) count too", async () => {
    const t = target(() => Response.text("x"), { maxResetsPerWindow: 30 });
    const { client, done } = t.connect();
    await client.handshake();
    for (let id = 1; id < 2 * 1000; id += 2) {
      client.w.headers(id, client.encoder.encodePairs([...GET, ["", "zero-length name"]]), {
        endStream: true,
      });
    }
    client.flush();
    expect((await client.goaway()).errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    const resets = client.frames.filter((f) => f.type === FrameType.RST_STREAM);
    expect(resets.length).toBeGreaterThan(0);
    expect(resets.length).toBeLessThanOrEqual(31);
    expect(resets.every((f) => f.errorCode === ErrorCode.PROTOCOL_ERROR)).toBe(true);
    await done;
  });

  it("PING flood from a client that never reads: pending ACKs are bounded, then ENHANCE_YOUR_CALM", async () => {
    const t = target(() => Response.text("ok"), { maxPendingControlFrames: 100, outputHighWaterMark: 4096 });
    const { client, done, errors } = t.connect({ highWaterMark: 16 * 1024, read: false });
    client.w.preface().settings([]).settingsAck();
    client.flush();
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 1000; i++) client.w.ping(Buffer.alloc(8, i & 0xff));
      client.flush();
      await sleep(1);
      if (errors.length > 0) break;
    }
    await done;
    expect(errors.some((e) => (e as { code?: string }).code === "ERR_HTTP2_ENHANCE_YOUR_CALM")).toBe(true);
    await stillServes(t);
  });

  it("SETTINGS flood from a client that never reads: same bound", async () => {
    const t = target(() => Response.text("ok"), { maxPendingControlFrames: 100, outputHighWaterMark: 4096 });
    const { client, done, errors } = t.connect({ highWaterMark: 16 * 1024, read: false });
    client.w.preface().settings([]).settingsAck();
    client.flush();
    for (let round = 0; round < 20 && errors.length === 0; round++) {
      for (let i = 0; i < 1000; i++) client.w.settings([[SettingId.ENABLE_PUSH, 0]]);
      client.flush();
      await sleep(1);
    }
    await done;
    expect(errors.some((e) => (e as { code?: string }).code === "ERR_HTTP2_ENHANCE_YOUR_CALM")).toBe(true);
  });

  it("empty DATA frames without END_STREAM → ENHANCE_YOUR_CALM", async () => {
    const t = target(async (req) => Response.text(await req.body.text()), { maxEmptyFramesPerWindow: 20 });
    const { client, done } = t.connect();
    await client.handshake();
    client.headers(1, [[":method", "POST"], ...GET.slice(1)], false);
    for (let i = 0; i < 10_000; i++) client.w.data(1, Buffer.alloc(0));
    client.flush();
    expect((await client.goaway()).errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    await done;
  });

  it("empty CONTINUATION frames → ENHANCE_YOUR_CALM (CONTINUATION flood)", async () => {
    const t = target(() => Response.text("x"));
    const { client, done } = t.connect();
    await client.handshake();
    client.w.frame(FrameType.HEADERS, 0, 1, client.encoder.encodePairs(GET));
    for (let i = 0; i < 10_000; i++) client.w.frame(FrameType.CONTINUATION, 0, 1, Buffer.alloc(0));
    client.flush();
    expect((await client.goaway()).errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    await done;
  });

  it("stream-limit abuse: streams past the limit are refused, the handler sees only the limit, then calm", async () => {
    let calls = 0;
    const t = target(
      () => {
        calls++;
        return new Promise<Response>(() => {});
      },
      { maxConcurrentStreams: 10, maxResetsPerWindow: 100 },
    );
    const { client, done } = t.connect();
    await client.handshake();
    for (let id = 1; id < 2 * 1000; id += 2)
      client.w.headers(id, client.encoder.encodePairs(GET), { endStream: true });
    client.flush();
    expect((await client.goaway()).errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    const refused = client.frames.filter((f) => f.type === FrameType.RST_STREAM);
    expect(refused.every((f) => f.errorCode === ErrorCode.REFUSED_STREAM)).toBe(true);
    expect(calls).toBe(10);
    await done;
  });

  it("slow read: a client that never opens its window back-pressures the handler's body; output stays bounded", async () => {
    let pulled = 0;
    const t = target((req) => {
      if (req.path === "/alive") return Response.text("alive");
      async function* forever(): AsyncGenerator<Uint8Array> {
        for (;;) {
          pulled++;
          yield Buffer.alloc(16 * 1024);
        }
      }
      return Response.create({ body: Body.fromIterable(forever()) });
    });
    const { client } = t.connect();
    await client.handshake([[SettingId.INITIAL_WINDOW_SIZE, 0]]);
    client.headers(1, GET);
    await sleep(200);
    expect(pulled).toBeLessThanOrEqual(2);
    expect(client.stream(1).filter((f) => f.type === FrameType.DATA)).toHaveLength(0);
    await stillServes(t);
  });

  it("slow read at the socket: a client that does not read bounds what the server buffers", async () => {
    let pulled = 0;
    const [c, s] = memoryConnPair({ highWaterMark: 16 * 1024 });
    const srv = server(
      service(() => {
        async function* forever(): AsyncGenerator<Uint8Array> {
          for (;;) {
            pulled++;
            yield Buffer.alloc(16 * 1024);
          }
        }
        return Response.create({ body: Body.fromIterable(forever()) });
      }),
    );
    const done = srv.serve(s);
    const client = new RawClient(c, false);
    client.w
      .preface()
      .settings([[SettingId.INITIAL_WINDOW_SIZE, 0x7fffffff]])
      .settingsAck();
    client.w.windowUpdate(0, 0x7fffffff - 65_535);
    client.flush();
    client.headers(1, GET);
    await sleep(300);
    // 64 KiB of output high-water plus a few chunks in flight; nowhere near unbounded.
    expect(s.stream.writableLength).toBeLessThan(256 * 1024);
    expect(pulled).toBeLessThan(32);
    s.stream.destroy();
    await done;
  });

  it("data dribble: one-byte DATA frames get batched credit, not a WINDOW_UPDATE each", async () => {
    const t = target(async (req) => Response.text(String((await req.body.bytes()).length)));
    const { client } = t.connect();
    await client.handshake();
    client.headers(1, [[":method", "POST"], ...GET.slice(1)], false);
    for (let i = 0; i < 10_000; i++) client.w.data(1, Buffer.from("x"));
    client.w.data(1, Buffer.alloc(0), { endStream: true });
    client.flush();
    expect((await client.response(1)).body).toBe("10000");
    expect(client.frames.filter((f) => f.type === FrameType.WINDOW_UPDATE).length).toBeLessThanOrEqual(3);
    expect(client.frames.every((f) => f.type !== FrameType.GOAWAY)).toBe(true);
  });

  it("reset streams whose handlers ignore the signal still count: no more handlers than MAX_CONCURRENT_STREAMS", async () => {
    let calls = 0;
    const t = target(
      () => {
        calls++;
        return new Promise<Response>(() => {}); // never looks at its signal
      },
      { maxConcurrentStreams: 10 },
    );
    const { client } = t.connect();
    await client.handshake();
    for (let id = 1; id <= 39; id += 2) {
      client.w.headers(id, client.encoder.encodePairs(GET), { endStream: true });
      client.w.rstStream(id, ErrorCode.CANCEL);
    }
    client.flush();
    const refused = await client.rst(21);
    expect(refused.errorCode).toBe(ErrorCode.REFUSED_STREAM);
    expect(calls).toBe(10);
  });
});
