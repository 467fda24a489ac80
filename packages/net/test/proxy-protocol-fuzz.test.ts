import { describe, expect, it } from "vitest";
import { prng } from "../../../test-support/prng.js";
import {
  encodeProxyHeader,
  ProxyHeaderError,
  type ProxyHeaderInit,
  ProxyHeaderTooLargeError,
  parseProxyHeader,
  type SocketAddress,
} from "../src/index.js";

// Seeded, so a failure reproduces.
const random = prng(0x5eed);
const int = (n: number): number => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
const text = (n: number): string =>
  Array.from({ length: n }, () => String.fromCharCode(0x21 + int(94))).join("");

function ipv4(): string {
  return Array.from({ length: 4 }, () => int(256)).join(".");
}
function ipv6(): string {
  const groups = Array.from({ length: 8 }, () => (random() < 0.4 ? 0 : int(0x10000)).toString(16));
  return groups.join(":");
}
function address(family: "IPv4" | "IPv6"): SocketAddress {
  return { family, host: family === "IPv4" ? ipv4() : ipv6(), port: int(65536) };
}

function randomInit(version: 1 | 2): ProxyHeaderInit {
  const kind = pick(version === 1 ? ["IPv4", "IPv6", "none"] : ["IPv4", "IPv6", "unix", "none", "local"]);
  const init: { -readonly [K in keyof ProxyHeaderInit]: ProxyHeaderInit[K] } = {};
  if (kind === "IPv4" || kind === "IPv6") {
    init.source = address(kind);
    init.destination = address(kind);
  } else if (kind === "unix") {
    init.source = { family: "unix", path: `/tmp/${text(int(90))}` };
    init.destination = { family: "unix", path: `\0${text(int(90))}` };
  } else if (kind === "local") init.command = "local";
  if (version === 2 && kind !== "local") {
    if (random() < 0.5) init.transport = pick(["stream", "dgram"] as const);
    if (random() < 0.5) init.alpn = pick(["h2", "http/1.1", "h3"]);
    if (random() < 0.5) init.authority = `${text(1 + int(40))}.example`;
    if (random() < 0.3) init.uniqueId = bytes(int(129));
    if (random() < 0.3) init.ssl = { client: int(8), verify: int(3), version: "TLSv1.3", cn: text(int(20)) };
    if (random() < 0.2) init.netns = text(int(10));
    if (random() < 0.3) init.tlvs = [{ type: 0xe0 + int(32), value: bytes(int(64)) }];
    if (random() < 0.3) init.noop = 3 + int(20);
    if (random() < 0.5) init.crc32c = true;
  }
  return init;
}

/** Parse `input` fed in random pieces (each call sees everything so far), as a connection delivers it. */
function parseInPieces(input: Buffer): ReturnType<typeof parseProxyHeader> {
  let end = 0;
  for (;;) {
    end = Math.min(input.length, end + 1 + int(8));
    const parsed = parseProxyHeader(input.subarray(0, end));
    if (parsed.status !== "incomplete" || end === input.length) return parsed;
  }
}

function outcome(input: Buffer): string {
  try {
    const parsed = parseProxyHeader(input);
    return parsed.status === "complete" ? `complete ${parsed.length}` : parsed.status;
  } catch (error) {
    // Only the two typed errors: anything else (a TypeError, a RangeError from a Buffer read) is a bug.
    expect(error instanceof ProxyHeaderError || error instanceof ProxyHeaderTooLargeError).toBe(true);
    return `${(error as ProxyHeaderError).code} ${(error as ProxyHeaderError).reason ?? ""}`;
  }
}

describe("PROXY protocol fuzz", () => {
  it("random headers round-trip through encode and parse, in random pieces, with data after them", () => {
    for (let i = 0; i < 1_000; i++) {
      const version = pick([1, 2] as const);
      const init = randomInit(version);
      const header = encodeProxyHeader(version, init);
      const input = Buffer.concat([header, bytes(int(20))]);
      const parsed = parseInPieces(input);
      expect(parsed).toMatchObject({ status: "complete", length: header.length });
      expect(parsed).toEqual(parseProxyHeader(input));
      if (parsed.status !== "complete") continue;
      if (init.command === "local") expect(parsed.header.command).toBe(version === 2 ? "local" : "proxy");
      if (init.source !== undefined && init.source.family !== "unix") {
        expect(parsed.header.source).toMatchObject({ port: init.source.port });
      }
      if (init.authority !== undefined) expect(parsed.header.authority).toBe(init.authority);
      if (init.crc32c === true) expect(parsed.header.crc32c).toBeTypeOf("number");
    }
  });

  it("mutated headers give a result or a typed error, the same whole or in pieces", () => {
    for (let i = 0; i < 3_000; i++) {
      const version = pick([1, 2] as const);
      const header = Buffer.from(encodeProxyHeader(version, randomInit(version)));
      const mutated = (() => {
        switch (int(4)) {
          case 0: {
            const at = int(header.length);
            header[at] = int(256);
            return header;
          }
          case 1:
            return header.subarray(0, int(header.length));
          case 2: {
            const at = int(header.length);
            return Buffer.concat([header.subarray(0, at), bytes(1 + int(4)), header.subarray(at)]);
          }
          default: {
            // A length field or a TLV length grown or shrunk: the interesting bytes of v2.
            if (version === 2 && header.length > 16)
              header.writeUInt16BE(int(0x200), pick([14, 16 + int(header.length - 17)]));
            return header;
          }
        }
      })();
      const whole = outcome(mutated);
      let pieces: string;
      try {
        const parsed = parseInPieces(mutated);
        pieces = parsed.status === "complete" ? `complete ${parsed.length}` : parsed.status;
      } catch (error) {
        pieces = `${(error as ProxyHeaderError).code} ${(error as ProxyHeaderError).reason ?? ""}`;
      }
      // An error may show earlier in pieces than whole only if it is the same error.
      expect(pieces).toBe(whole);
    }
  });

  it("random bytes are absent, incomplete or a typed error; never a crash", () => {
    for (let i = 0; i < 5_000; i++) {
      const prefix = pick([
        Buffer.alloc(0),
        Buffer.from("PROXY "),
        Buffer.from("0d0a0d0a000d0a515549540a", "hex"),
      ]);
      outcome(Buffer.concat([prefix, bytes(int(120))]));
    }
  });
});
