import { describe, expect, it } from "vitest";
import {
  detectProtocol,
  memoryConnPair,
  PeekTimeoutError,
  type SniffedProtocol,
  sniff,
} from "../src/index.js";
import { collect, delay } from "./helpers.js";

const H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const PROXY_V2 = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11,
]);

const samples: Array<[string, Buffer, SniffedProtocol]> = [
  ["a TLS ClientHello", Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), "tls"],
  ["a TLS 1.3-era record version", Buffer.from([0x16, 0x03, 0x03, 0x00]), "tls"],
  ["the h2 prior-knowledge preface", Buffer.from(`${H2_PREFACE}\x00\x00\x12\x04`), "http2"],
  ["an HTTP/1.1 GET", Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), "http1"],
  ["an HTTP CONNECT", Buffer.from("CONNECT example.com:443 HTTP/1.1\r\n"), "http1"],
  ["a PRI request that is not the preface", Buffer.from("PRI /x HTTP/1.1\r\n"), "http1"],
  ["a SOCKS5 greeting", Buffer.from([0x05, 0x01, 0x00]), "socks5"],
  ["a SOCKS4 CONNECT", Buffer.from([0x04, 0x01, 0x00, 0x50, 127, 0, 0, 1, 0]), "socks4"],
  ["a PROXY v1 header", Buffer.from("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET /"), "proxy-v1"],
  ["a PROXY v2 header", PROXY_V2, "proxy-v2"],
  ["SSH", Buffer.from("SSH-2.0-OpenSSH_9.2\r\n"), "unknown"],
  ["a lower-case method", Buffer.from("get / HTTP/1.1\r\n"), "http1"],
  ["a line with no method", Buffer.from(" / HTTP/1.1\r\n"), "unknown"],
  ["binary noise", Buffer.from([0x00, 0xff, 0x10]), "unknown"],
  ["SOCKS5 with no methods", Buffer.from([0x05, 0x00]), "unknown"],
  ["a TLS alert record", Buffer.from([0x15, 0x03, 0x01]), "unknown"],
  ["a handshake byte with a bad version", Buffer.from([0x16, 0x07, 0x01]), "unknown"],
  ["an endless token", Buffer.from("A".repeat(40)), "unknown"],
];

describe("detectProtocol", () => {
  it.each(samples)("classifies %s", (_name, bytes, protocol) => {
    expect(detectProtocol(bytes)).toBe(protocol);
  });

  it.each(samples)(
    "gives the same answer for %s whatever prefix it sees first (incremental)",
    (_n, bytes, protocol) => {
      // Every prefix is either undecided or already the final answer: a decision never changes with more bytes.
      let decidedAt = -1;
      for (let n = 0; n <= bytes.length; n++) {
        const answer = detectProtocol(bytes.subarray(0, n));
        if (answer !== undefined) {
          expect(answer).toBe(protocol);
          if (decidedAt < 0) decidedAt = n;
        } else {
          expect(decidedAt).toBe(-1);
        }
      }
      expect(decidedAt).toBeGreaterThan(0);
    },
  );

  it("waits while the bytes could still be the h2 preface or a PROXY header", () => {
    expect(detectProtocol(Buffer.from("P"))).toBeUndefined();
    expect(detectProtocol(Buffer.from("PRI * HTTP/2.0\r\n"))).toBeUndefined();
    expect(detectProtocol(Buffer.from("PROXY"))).toBeUndefined();
    expect(detectProtocol(Buffer.from("POST "))).toBe("http1");
    expect(detectProtocol(Buffer.alloc(0))).toBeUndefined();
  });
});

describe("sniff", () => {
  it("tells the protocol from bytes arriving one at a time and hands on a connection that replays them", async () => {
    const [client, server] = memoryConnPair();
    const sniffing = sniff(server, { timeout: 2_000 });
    for (const byte of Buffer.from(H2_PREFACE)) {
      client.stream.write(Buffer.from([byte]));
      await delay(1);
    }
    const sniffed = await sniffing;
    expect(sniffed.protocol).toBe("http2");
    expect(sniffed.bytes.toString()).toBe(H2_PREFACE);
    expect(sniffed.conn).toBe(server);
    expect(sniffed.conn.extensions).toBe(server.extensions);
    client.stream.end("rest");
    expect((await collect(sniffed.conn.stream)).toString()).toBe(`${H2_PREFACE}rest`);
  });

  it("returns as soon as the first chunk decides", async () => {
    const [client, server] = memoryConnPair();
    client.stream.write(Buffer.from([0x05, 0x01, 0x00]));
    const sniffed = await sniff(server);
    expect(sniffed.protocol).toBe("socks5");
    expect(sniffed.status).toBe("done");
  });

  it("stops at max bytes and calls that unknown", async () => {
    const [client, server] = memoryConnPair();
    client.stream.write("ABCDEFGHIJ");
    const sniffed = await sniff(server, { max: 8 });
    expect(sniffed.status).toBe("limit");
    expect(sniffed.protocol).toBe("unknown");
  });

  it("reports a client that ends early as unknown with what it sent", async () => {
    const [client, server] = memoryConnPair();
    client.stream.end("GE");
    const sniffed = await sniff(server);
    expect(sniffed.status).toBe("end");
    expect(sniffed.protocol).toBe("unknown");
    expect((await collect(sniffed.conn.stream)).toString()).toBe("GE");
  });

  it("times out on a silent client with the typed error, leaving the connection usable", async () => {
    const [client, server] = memoryConnPair();
    const error = await sniff(server, { timeout: 30 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PeekTimeoutError);
    client.stream.end("late");
    expect((await collect(server.stream)).toString()).toBe("late");
  });
});
