import { service } from "@tessera/core";
import { type Request, Response } from "@tessera/http";
import { memoryConnPair } from "@tessera/net";
import { expect, it } from "vitest";
import { FrameType, FrameWriter, HpackEncoder, server } from "../src/index.js";
import { prng } from "./support/frames.js";

const app = service(async (req: Request) => {
  const body = await req.body.bytes().catch(() => new Uint8Array(0));
  return Response.text(`${req.path} ${body.length}`);
});

/** A random mix of valid and hostile frames after a valid preface. */
function randomConversation(seed: number): Buffer {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const w = new FrameWriter();
  const enc = new HpackEncoder();
  w.preface().settings([]).settingsAck();
  let next = 1;
  const id = (): number => (r() < 0.8 ? Math.max(1, next - 2 * Math.floor(r() * 3)) : Math.floor(r() * 20));
  for (let i = 0; i < 40; i++) {
    const kind = Math.floor(r() * 11);
    const sid = id();
    if (kind <= 2) {
      const fields: [string, string][] = [
        [":method", pick(["GET", "POST", "CONNECT", ""])],
        [":scheme", "http"],
        [":path", pick(["/", "/x", "", "*"])],
      ];
      if (r() < 0.3)
        fields.push([
          pick(["te", "connection", "X-Up", "", "content-length"]),
          pick(["1", "trailers", " x"]),
        ]);
      const stream = r() < 0.7 ? next : Math.max(1, sid);
      if (stream === next) next += 2;
      w.headers(stream, enc.encodePairs(fields), { endStream: r() < 0.5 });
    } else if (kind <= 4) {
      w.data(Math.max(1, sid), Buffer.alloc(Math.floor(r() * 3000)), {
        endStream: r() < 0.4,
        padding: r() < 0.2 ? 5 : 0,
      });
    } else if (kind === 5) w.rstStream(Math.max(1, sid), Math.floor(r() * 14));
    else if (kind === 6) w.windowUpdate(sid, 1 + Math.floor(r() * 100_000));
    else if (kind === 7) w.priority(Math.max(1, sid), { dependency: Math.max(1, sid) + 1, weight: 16 });
    else if (kind === 8) w.ping(Buffer.alloc(8, i));
    else if (kind === 9) w.settings([[4, Math.floor(r() * 200_000)]]);
    else
      w.frame(
        pick([FrameType.CONTINUATION, FrameType.PUSH_PROMISE, 0xee]),
        Math.floor(r() * 256),
        sid,
        Buffer.alloc(Math.floor(r() * 10)),
      );
  }
  return w.take();
}

it("random hostile conversations: only protocol errors, never an internal one, and the connection always ends", async () => {
  for (let seed = 1; seed <= 150; seed++) {
    const errors: Error[] = [];
    const [c, s] = memoryConnPair();
    const done = server(app, { onError: (e) => errors.push(e) }).serve(s);
    c.stream.on("data", () => {});
    c.stream.on("error", () => {});
    c.stream.write(randomConversation(seed));
    await new Promise((r) => setTimeout(r, 5));
    c.stream.end();
    await done;
    for (const e of errors) {
      expect(`${seed}: ${(e as { code?: string }).code}`).toMatch(/^\d+: ERR_HTTP2_(?!INTERNAL)/);
    }
    c.stream.destroy();
  }
}, 20_000);
