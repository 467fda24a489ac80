import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ja4 } from "../src/index.js";
import { helloes, JA4_CAPTURES } from "./support/captures.js";
import { tcpFlows } from "./support/pcap.js";

// The captures and expected values come from FoxIO's JA4 repository (BSD-3-Clause, see LICENSE-JA4 beside them).
// Each JSON entry names a TCP connection; "JA4.1" is the fingerprint of its first ClientHello, "JA4.2" of the
// second (after a HelloRetryRequest). Entries without JA4 (QUIC, HTTP-only) are not ours to check.
const dir = JA4_CAPTURES;

interface Expected {
  readonly src: string;
  readonly srcport: string;
  readonly dst: string;
  readonly dstport: string;
  readonly "JA4.1"?: string;
  readonly "JA4.2"?: string;
  readonly "JA4_r.1"?: string;
  readonly "JA4_r.2"?: string;
}

const captures = readdirSync(dir).filter((f) => f.endsWith(".json"));

describe("JA4 of the reference captures", () => {
  it("has the captures", () => {
    expect(captures.length).toBeGreaterThanOrEqual(10);
  });

  for (const name of captures) {
    const expected = (JSON.parse(readFileSync(new URL(name, dir), "utf8")) as Expected[]).filter(
      (e) => e["JA4.1"] !== undefined,
    );
    if (expected.length === 0) continue;
    it(`${name.replace(/\.json$/, "")}: ${expected.length} connections`, () => {
      const flows = tcpFlows(readFileSync(new URL(name.replace(/\.json$/, ""), dir)));
      for (const e of expected) {
        const flow = flows.find(
          (f) =>
            f.src === e.src &&
            f.srcPort === Number(e.srcport) &&
            f.dst === e.dst &&
            f.dstPort === Number(e.dstport),
        );
        expect(flow, `${e.src}:${e.srcport} -> ${e.dst}:${e.dstport}`).toBeDefined();
        const found = helloes(flow!.bytes);
        const got = found.map((h) => ja4(h));
        expect(got[0]?.raw).toBe(e["JA4_r.1"]);
        expect(got[0]?.fingerprint).toBe(e["JA4.1"]);
        if (e["JA4.2"] !== undefined) {
          expect(got[1]?.raw).toBe(e["JA4_r.2"]);
          expect(got[1]?.fingerprint).toBe(e["JA4.2"]);
        }
      }
    });
  }
});
