import { service } from "@tessera/core";
import { Body, type Request, Response } from "@tessera/http";
import { expect, it } from "vitest";
import { memoryServer, sleep } from "./support/server-harness.js";

// Randomized (seeded, reproducible with FUZZ_SEED / FUZZ_ROUNDS): a client that pauses and resumes reading at
// random while pipelining requests (some with Expect: 100-continue) whose answers are large, buffered or
// streamed, with and without a length; small connection buffers so that write backpressure holds the parser.
it("pipelining against a slow, erratic reader: every response complete, in order", async () => {
  let seed = Number(process.env.FUZZ_SEED ?? 5);
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let round = 0; round < Number(process.env.FUZZ_ROUNDS ?? 6); round++) {
    const n = 15;
    const requests: string[] = [];
    for (let i = 0; i < n; i++) {
      const size = Math.floor(random() * 70000);
      const body = "q".repeat(Math.floor(random() * 100));
      const expect = random() < 0.2 ? "Expect: 100-continue\r\n" : "";
      requests.push(
        `POST /${i}/${size} HTTP/1.1\r\nHost: a\r\n${expect}Content-Length: ${body.length}\r\n\r\n${body}`,
      );
    }
    const t = memoryServer(
      service(async (req: Request) => {
        const [, i, size] = req.path.split("/");
        await req.body.text();
        if (random() < 0.3) await sleep(1);
        const big = Buffer.alloc(Number(size), 65 + (Number(i) % 26));
        if (random() < 0.5) return new Response(200, undefined, Body.fromBytes(big));
        async function* parts() {
          for (let p = 0; p < big.length; p += 16384) yield big.subarray(p, p + 16384);
        }
        return new Response(
          200,
          undefined,
          Body.fromIterable(parts(), random() < 0.5 ? { length: big.length } : undefined),
        );
      }),
      { maxPipelined: 1 + Math.floor(random() * 5) },
      { highWaterMark: 256 + Math.floor(random() * 4096) },
    );
    t.reader.expect(...Array(n).fill("POST"));
    const wire = Buffer.from(requests.join(""), "latin1");
    const pauser = setInterval(() => {
      if (random() < 0.5) t.client.stream.pause();
      else t.client.stream.resume();
    }, 2);
    for (let pos = 0; pos < wire.length; ) {
      const k = 1 + Math.floor(random() * 300);
      t.send(wire.subarray(pos, pos + k));
      pos += k;
      if (random() < 0.3) await sleep(0);
    }
    try {
      await t.reader.until(
        () => t.reader.responses.filter((r) => r.status === 200 && r.complete).length === n,
        "all",
        10000,
      );
    } finally {
      clearInterval(pauser);
      t.client.stream.resume();
    }
    const finals = t.reader.responses.filter((r) => r.status === 200);
    finals.forEach((r, i) => {
      const size = Number(requests[i]!.split(" ")[1]!.split("/")[2]);
      expect(r.body.length).toBe(size);
      if (size > 0) expect(r.body[0]).toBe(65 + (i % 26));
    });
    t.client.stream.end();
    await t.served;
  }
});
