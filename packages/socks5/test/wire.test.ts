import { formatIpv6 } from "@tessera/net";
import { describe, expect, it } from "vitest";
import {
  encodeAuthStatus,
  encodeCredentials,
  encodeGreeting,
  encodeMessage,
  encodeMethodSelection,
  encodeUdpDatagram,
  type MessageParser,
  parseAuthStatus,
  parseCredentials,
  parseGreeting,
  parseMessage,
  parseMethodSelection,
  parseUdpDatagram,
  Socks5ProtocolError,
  socks5Address,
} from "../src/index.js";

/** Feed `bytes` to `parse` as a reader would: accumulate chunks split at `cuts`, parse after each. */
function feed<T>(parse: MessageParser<T>, bytes: Buffer, cuts: number[]) {
  let seen = Buffer.alloc(0);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    seen = Buffer.concat([seen, bytes.subarray(at, cut)]);
    at = cut;
    const parsed = parse(seen);
    if (parsed !== undefined) return parsed;
  }
  return undefined;
}

/** Every way of cutting into one-byte writes, and a few random splits. */
function splits(length: number): number[][] {
  const all: number[][] = [[], Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1)];
  for (let i = 1; i < length; i++) all.push([i]);
  let seed = 7;
  for (let n = 0; n < 20; n++) {
    const cuts = new Set<number>();
    for (let k = 0; k < 3; k++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      cuts.add(1 + (seed % Math.max(1, length - 1)));
    }
    all.push([...cuts].filter((c) => c < length).sort((a, b) => a - b));
  }
  return all;
}

function everySplit<T>(parse: MessageParser<T>, bytes: Buffer, trailing = Buffer.from("PIPELINED")) {
  const whole = Buffer.concat([bytes, trailing]);
  const first = feed(parse, whole, []);
  expect(first).toBeDefined();
  expect(first!.length).toBe(bytes.length);
  for (const cuts of splits(whole.length)) expect(feed(parse, whole, cuts)).toEqual(first);
  // Any proper prefix is incomplete, never an error.
  for (let n = 0; n < bytes.length; n++) expect(parse(bytes.subarray(0, n))).toBeUndefined();
  return first!.value;
}

describe("wire format", () => {
  it("greeting: methods, any split, pipelined bytes not consumed", () => {
    expect(everySplit(parseGreeting, encodeGreeting([0, 2]))).toEqual({ methods: [0, 2] });
    expect(everySplit(parseGreeting, Buffer.from([5, 1, 0]))).toEqual({ methods: [0] });
  });

  it("greeting: a bad version fails at the first byte; zero methods fail", () => {
    for (const first of [4, 0x16, 0x47, 0]) {
      let error: unknown;
      try {
        parseGreeting(Buffer.from([first]));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(Socks5ProtocolError);
      expect((error as Socks5ProtocolError).reason).toBe("version");
      expect((error as Socks5ProtocolError).code).toBe("ERR_SOCKS5_PROTOCOL");
    }
    expect(() => parseGreeting(Buffer.from([5, 0]))).toThrow(
      expect.objectContaining({ reason: "no-methods" }),
    );
  });

  it("method selection and RFC 1929 status", () => {
    expect(everySplit(parseMethodSelection, encodeMethodSelection(0xff))).toBe(0xff);
    expect(everySplit(parseAuthStatus, encodeAuthStatus(1))).toBe(1);
    expect(() => parseAuthStatus(Buffer.from([5, 0]))).toThrow(Socks5ProtocolError);
  });

  it("RFC 1929 credentials: UTF-8, long and empty fields, any split", () => {
    const long = "u".repeat(255);
    expect(everySplit(parseCredentials, encodeCredentials({ username: long, password: "p:ß" }))).toEqual({
      username: long,
      password: "p:ß",
    });
    expect(everySplit(parseCredentials, encodeCredentials({ username: "", password: "" }))).toEqual({
      username: "",
      password: "",
    });
    expect(() => parseCredentials(Buffer.from([5]))).toThrow(expect.objectContaining({ reason: "version" }));
    expect(() => encodeCredentials({ username: "x".repeat(256), password: "" })).toThrow(RangeError);
  });

  it("requests and replies with IPv4, IPv6 and domain addresses round-trip in any split", () => {
    const cases = [
      { host: "127.0.0.1", port: 80 },
      { host: "::1", port: 443 },
      { host: "2001:db8::8:800:200c:417a", port: 65535 },
      { host: "::ffff:1.2.3.4", port: 1 },
      { host: "example.com", port: 8080 },
      { host: "a".repeat(255), port: 1 },
    ];
    for (const target of cases) {
      const address = socks5Address(target);
      const bytes = encodeMessage(1, address);
      expect(everySplit(parseMessage, bytes)).toEqual({ code: 1, address });
    }
    expect(socks5Address({ host: "::1", port: 1 }).type).toBe("ipv6");
    expect(socks5Address({ host: "10.0.0.1", port: 1 }).type).toBe("ipv4");
    expect(socks5Address({ host: "x.test", port: 1 }).type).toBe("domain");
  });

  it("exact bytes of a CONNECT request as curl sends it", () => {
    expect([...encodeMessage(1, socks5Address({ host: "127.0.0.1", port: 8080 }))]).toEqual([
      5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90,
    ]);
    expect([...encodeMessage(1, socks5Address({ host: "ab", port: 80 }))]).toEqual([
      5, 1, 0, 3, 2, 97, 98, 0, 80,
    ]);
  });

  it("requests: unknown address type and empty domain are typed errors", () => {
    expect(() => parseMessage(Buffer.from([5, 1, 0, 9]))).toThrow(
      expect.objectContaining({ reason: "address-type" }),
    );
    expect(() => parseMessage(Buffer.from([5, 1, 0, 3, 0]))).toThrow(
      expect.objectContaining({ reason: "empty-domain" }),
    );
    expect(() => parseMessage(Buffer.from([4, 1]))).toThrow(expect.objectContaining({ reason: "version" }));
  });

  it("IPv6 text follows RFC 5952", () => {
    const bytes = (groups: number[]) => {
      const b = Buffer.alloc(16);
      groups.forEach((g, i) => {
        b.writeUInt16BE(g, i * 2);
      });
      return b;
    };
    expect(formatIpv6(bytes([0, 0, 0, 0, 0, 0, 0, 1]))).toBe("::1");
    expect(formatIpv6(bytes([0, 0, 0, 0, 0, 0, 0, 0]))).toBe("::");
    expect(formatIpv6(bytes([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]))).toBe("2001:db8::1:0:0:1");
    expect(formatIpv6(bytes([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]))).toBe("2001:db8:0:1:1:1:1:1");
    expect(formatIpv6(bytes([1, 0, 0, 2, 0, 0, 0, 3]))).toBe("1:0:0:2::3");
  });

  it("UDP datagrams: header and data round-trip; truncated ones are errors", () => {
    const address = socks5Address({ host: "192.0.2.1", port: 53 });
    const datagram = encodeUdpDatagram(address, Buffer.from("query"));
    expect(parseUdpDatagram(datagram)).toEqual({ frag: 0, address, data: Buffer.from("query") });
    const fragment = Buffer.from(datagram);
    fragment[2] = 1;
    expect(parseUdpDatagram(fragment).frag).toBe(1);
    expect(() => parseUdpDatagram(datagram.subarray(0, 6))).toThrow(Socks5ProtocolError);
    expect(() => parseUdpDatagram(Buffer.from([0, 0]))).toThrow(Socks5ProtocolError);
  });
});
