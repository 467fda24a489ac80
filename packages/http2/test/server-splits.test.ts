import { service } from "@tessera/core";
import { type Request, Response } from "@tessera/http";
import { describe, expect, it } from "vitest";
import { FrameWriter, HpackEncoder } from "../src/index.js";
import { prng } from "./support/frames.js";
import { serve } from "./support/raw-client.js";

const app = service(async (req: Request) => {
  const body = await req.body.text();
  return Response.text(`${req.method} ${req.path} ${body.length} ${req.body.trailers?.get("x-t") ?? "-"}`);
});

/** The whole client side of a conversation as one byte string. */
function conversation(): Buffer {
  const w = new FrameWriter();
  const enc = new HpackEncoder();
  w.preface().settings([]).settingsAck();
  const head = (method: string, path: string): Buffer =>
    enc.encodePairs([
      [":method", method],
      [":scheme", "http"],
      [":authority", "split"],
      [":path", path],
      ["user-agent", "split-test"],
    ]);
  w.headers(1, head("GET", "/one"), { endStream: true });
  w.headers(3, head("POST", "/two"), { endStream: false });
  w.data(3, Buffer.alloc(3000, 1), { padding: 7 });
  w.ping(Buffer.from("pingpong"));
  w.data(3, Buffer.alloc(1000, 2));
  w.headers(3, enc.encodePairs([["x-t", "yes"]]), { endStream: true });
  w.headers(5, head("PUT", "/three"), { endStream: false });
  w.data(5, Buffer.alloc(0), { endStream: true });
  return w.take();
}

describe("incremental input", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`any split of the client's bytes gives the same answers (seed ${seed})`, async () => {
      const random = prng(seed);
      const bytes = conversation();
      const { client } = serve(app);
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + Math.floor(random() * (random() < 0.3 ? 8 : 600));
        client.write(bytes.subarray(at, at + n));
        at += n;
        if (random() < 0.2) await new Promise((r) => setImmediate(r));
      }
      const answers = [];
      for (const id of [1, 3, 5]) answers.push((await client.response(id)).body);
      expect(answers).toEqual(["GET /one 0 -", "POST /two 4000 yes", "PUT /three 0 -"]);
    });
  }
});
