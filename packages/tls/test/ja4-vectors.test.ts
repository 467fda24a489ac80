import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type ClientHello, ja4, readClientHello } from "../src/index.js";
import { tcpFlows } from "./support/pcap.js";

// The captures and expected values come from FoxIO's JA4 repository (BSD-3-Clause, see fixtures/ja4/LICENSE-JA4).
// Each JSON entry names a TCP connection; "JA4.1" is the fingerprint of its first ClientHello, "JA4.2" of the
// second (after a HelloRetryRequest). Entries without JA4 (QUIC, HTTP-only) are not ours to check.
const dir = new URL("./fixtures/ja4/", import.meta.url);

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

// The ClientHellos of one direction of a connection: the first handshake record that starts a ClientHello
// (after a SOCKS or CONNECT preamble, if any), then any further one in the plaintext records that follow.
function helloes(bytes: Buffer): ClientHello[] {
  let start = -1;
  for (let i = 0; i + 5 < bytes.length; i++) {
    if (bytes[i] === 0x16 && bytes[i + 1] === 3 && bytes[i + 5] === 1) {
      start = i;
      break;
    }
  }
  if (start < 0) return [];
  const out: ClientHello[] = [];
  let at = start;
  while (at + 5 <= bytes.length) {
    const type = bytes[at];
    const length = bytes.readUInt16BE(at + 3);
    if (type === 0x16 && bytes[at + 5] === 1) {
      const read = readClientHello(bytes.subarray(at));
      if (read.status !== "complete") break;
      out.push(read.hello);
      at += read.length;
    } else if (type === 0x16 || type === 0x14) at += 5 + length;
    else break;
  }
  return out;
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
