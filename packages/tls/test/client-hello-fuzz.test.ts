import { expect, it } from "vitest";
import { prng } from "../../../test-support/prng.js";
import { ClientHelloError, ja3, ja4, readClientHello } from "../src/index.js";
import { ext, helloMessage, records } from "./support/hello-builder.js";

// Whatever the bytes, the reader either says "incomplete", returns a hello whose fingerprints compute, or
// throws a ClientHelloError: never another exception, never a hang.
function check(bytes: Buffer): void {
  try {
    const read = readClientHello(bytes);
    if (read.status === "complete") {
      expect(read.length).toBeLessThanOrEqual(bytes.length);
      ja3(read.hello);
      ja4(read.hello);
    }
  } catch (error) {
    if (!(error instanceof ClientHelloError)) throw error;
  }
}

// Seeded (test-support's generator), so a failure replays: an integer in [0, n).
function seeded(seed: number): (n: number) => number {
  const random = prng(seed);
  return (n) => Math.floor(random() * n);
}

const base = records(
  helloMessage({
    ciphers: [0x1301, 0x1302, 0xc02f],
    extensions: [
      ext.sni("fuzz.example"),
      ext.alpn("h2", "http/1.1"),
      ext.versions(0x0304, 0x0303),
      ext.groups(0x1d),
      ext.pointFormats(0),
      ext.sigAlgs(0x0403),
    ],
  }),
  40,
);

it("survives random bytes behind a handshake record header", () => {
  const next = seeded(5);
  for (let i = 0; i < 3000; i++) {
    const body = Buffer.from(Array.from({ length: i % 300 }, () => next(256)));
    check(Buffer.concat([Buffer.from([22, 3, 1, body.length >> 8, body.length & 0xff]), body]));
    check(Buffer.concat([Buffer.from([22, 3, 1, 0, 200, 1, 0, 0, 196]), body]));
  }
});

it("survives mutations of a valid hello (byte flips, truncation, insertion)", () => {
  const next = seeded(6);
  let completed = 0;
  for (let i = 0; i < 20_000; i++) {
    const bytes = Buffer.from(base);
    const edits = 1 + next(4);
    for (let e = 0; e < edits; e++) bytes[next(bytes.length)] = next(256);
    const cut = next(8) === 0 ? bytes.subarray(0, next(bytes.length)) : bytes;
    check(cut);
    if (readSafe(cut)) completed++;
  }
  // Most single-byte changes land in random or values the parser does not judge: some must still parse.
  expect(completed).toBeGreaterThan(100);
});

function readSafe(bytes: Buffer): boolean {
  try {
    return readClientHello(bytes).status === "complete";
  } catch {
    return false;
  }
}
