import { describe, expect, it } from "vitest";
import { ClientHelloError, isGrease, ja3, ja4, readClientHello } from "../src/index.js";
import { ext, helloMessage, records } from "./support/hello-builder.js";

function complete(bytes: Buffer) {
  const read = readClientHello(bytes);
  if (read.status !== "complete") throw new Error("expected a complete hello");
  return read;
}

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ClientHelloError) return error.reason;
    throw error;
  }
  return undefined;
}

// A Chrome-like hello with GREASE in every place Chrome puts it.
const chromeLike = helloMessage({
  ciphers: [0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f],
  extensions: [
    ext.raw(0x3a3a),
    ext.sni("example.com"),
    ext.raw(23),
    ext.raw(0xff01, Buffer.from([0])),
    ext.groups(0x4a4a, 0x001d, 0x0017),
    ext.pointFormats(0),
    ext.alpn("h2", "http/1.1"),
    ext.sigAlgs(0x0403, 0x0804, 0x0401),
    ext.versions(0x5a5a, 0x0304, 0x0303),
    ext.raw(0x1a1a, Buffer.from([0])),
  ],
});

describe("readClientHello", () => {
  it("parses every field a fingerprint or a router needs", () => {
    const { hello, length } = complete(records(chromeLike));
    expect(length).toBe(chromeLike.length + 5);
    expect(hello.version).toBe(0x0303);
    expect(hello.recordVersion).toBe(0x0301);
    expect(hello.serverName).toBe("example.com");
    expect(hello.alpn).toEqual(["h2", "http/1.1"]);
    expect(hello.supportedVersions).toEqual([0x5a5a, 0x0304, 0x0303]);
    expect(hello.supportedGroups).toEqual([0x4a4a, 0x1d, 0x17]);
    expect(hello.ecPointFormats).toEqual([0]);
    expect(hello.signatureAlgorithms).toEqual([0x0403, 0x0804, 0x0401]);
    expect(hello.cipherSuites).toEqual([0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f]);
    expect(hello.extensions.map((e) => e.type)).toEqual([0x3a3a, 0, 23, 0xff01, 10, 11, 16, 13, 43, 0x1a1a]);
    expect(hello.raw.equals(chromeLike)).toBe(true);
  });

  it("gives the same answer for every split into records and every prefix", () => {
    const whole = complete(records(chromeLike)).hello;
    for (const fragment of [1, 2, 3, 7, 50, 200]) {
      const bytes = records(chromeLike, fragment);
      for (let cut = 0; cut < bytes.length; cut++) {
        expect(readClientHello(bytes.subarray(0, cut)).status).toBe("incomplete");
      }
      const { hello, length } = complete(bytes);
      expect(length).toBe(bytes.length);
      expect(ja4(hello).fingerprint).toBe(ja4(whole).fingerprint);
      expect(hello.serverName).toBe("example.com");
    }
  });

  it("reports how far the hello went when more bytes follow it", () => {
    const bytes = Buffer.concat([records(chromeLike), Buffer.from("trailing")]);
    expect(complete(bytes).length).toBe(chromeLike.length + 5);
  });

  it("accepts a hello without an extensions block (SSL 3.0 / TLS 1.0 style)", () => {
    const { hello } = complete(records(helloMessage({ version: 0x0301 })));
    expect(hello.extensions).toEqual([]);
    expect(hello.serverName).toBeUndefined();
    expect(ja4(hello).fingerprint).toMatch(/^t10i020000_[0-9a-f]{12}_000000000000$/);
  });

  it("rejects what is not TLS at the first byte", () => {
    expect(reason(() => readClientHello(Buffer.from("G")))).toBe("not-tls");
    expect(reason(() => readClientHello(Buffer.from("GET / HTTP/1.1\r\n")))).toBe("not-tls");
    expect(reason(() => readClientHello(Buffer.from([0x16, 0x02])))).toBe("not-tls");
    // SSLv2-compatible hello (0x80 length prefix)
    expect(reason(() => readClientHello(Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01])))).toBe("not-tls");
  });

  it("rejects bad records, other messages and oversized hellos with typed reasons", () => {
    expect(reason(() => readClientHello(Buffer.from([22, 3, 1, 0, 0])))).toBe("bad-record");
    expect(reason(() => readClientHello(Buffer.from([22, 3, 1, 0x40, 0x01])))).toBe("bad-record");
    expect(reason(() => readClientHello(Buffer.from([22, 3, 1, 0, 4, 2, 0, 0, 0])))).toBe("not-client-hello");
    expect(reason(() => readClientHello(Buffer.from([22, 3, 1, 0, 1, 11])))).toBe("not-client-hello");
    const split = records(chromeLike, 10);
    const alert = Buffer.concat([split.subarray(0, 15), Buffer.from([21, 3, 3, 0, 2, 2, 40])]);
    expect(reason(() => readClientHello(alert))).toBe("unexpected-record");
    const big = Buffer.from([22, 3, 1, 0, 4, 1, 0, 0x40, 0x00]);
    expect(reason(() => readClientHello(big))).toBe("too-large");
    expect(reason(() => readClientHello(big, { maxBytes: 20_000 }))).toBeUndefined();
  });

  it("rejects malformed fields", () => {
    const cases: Buffer[] = [
      helloMessage({ ciphers: [] }),
      helloMessage({ compression: [] }),
      helloMessage({ sessionId: Buffer.alloc(33) }),
      helloMessage({ extensions: [ext.sni("a"), ext.sni("b")] }),
      helloMessage({ extensions: [ext.raw(16, Buffer.from([0, 0]))] }),
      helloMessage({ extensions: [ext.raw(16, Buffer.from([0, 1, 0]))] }),
      helloMessage({ extensions: [ext.raw(43, Buffer.from([3, 3, 4, 3]))] }),
      helloMessage({ extensions: [ext.raw(0, Buffer.from([0, 3, 0, 0, 0]))] }),
    ];
    for (const message of cases) expect(reason(() => readClientHello(records(message)))).toBe("malformed");
    // The header's length and the body's content disagree.
    const short = Buffer.from(chromeLike);
    short.writeUInt8(short[3]! - 1, 3);
    expect(reason(() => readClientHello(records(short)))).toBe("malformed");
  });
});

describe("GREASE", () => {
  it("recognises exactly the sixteen RFC 8701 values", () => {
    const grease = [];
    for (let v = 0; v < 0x10000; v++) if (isGrease(v)) grease.push(v);
    expect(grease).toEqual(Array.from({ length: 16 }, (_, i) => (i * 0x10 + 0x0a) * 0x101));
  });

  it("leaves fingerprints unchanged whatever GREASE values a client picks", () => {
    const plain = helloMessage({
      ciphers: [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f],
      extensions: [
        ext.sni("example.com"),
        ext.raw(23),
        ext.raw(0xff01, Buffer.from([0])),
        ext.groups(0x001d, 0x0017),
        ext.pointFormats(0),
        ext.alpn("h2", "http/1.1"),
        ext.sigAlgs(0x0403, 0x0804, 0x0401),
        ext.versions(0x0304, 0x0303),
      ],
    });
    const a = complete(records(chromeLike)).hello;
    const b = complete(records(plain)).hello;
    expect(ja3(a)).toEqual(ja3(b));
    expect(ja4(a)).toEqual(ja4(b));
  });
});

describe("JA3", () => {
  it("joins version, ciphers, extensions, groups and point formats in wire order", () => {
    const { hello } = complete(records(chromeLike));
    const expected = "771,4865-4866-4867-49195-49199,0-23-65281-10-11-16-13-43,29-23,0";
    expect(ja3(hello).string).toBe(expected);
    // MD5 of that string, computed once with `printf %s STRING | md5sum`.
    expect(ja3(hello).hash).toBe("c667f5e769d7ea31cce02110b3c782e1");
  });

  it("matches the example in the JA3 README (Salesforce)", () => {
    const message = helloMessage({
      version: 0x0301,
      ciphers: [47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4],
      extensions: [ext.sni("example.com"), ext.groups(23, 24, 25), ext.pointFormats(0)],
    });
    const fingerprint = ja3(complete(records(message)).hello);
    expect(fingerprint.string).toBe("769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0");
    expect(fingerprint.hash).toBe("ada70206e40642a3e4461f35503241d5");
  });

  it("leaves empty fields empty", () => {
    const { hello } = complete(records(helloMessage({ version: 0x0301, ciphers: [0x2f] })));
    expect(ja3(hello).string).toBe("769,47,,,");
  });
});

describe("JA4", () => {
  it("builds the a part from version, SNI, counts and ALPN", () => {
    const { hello } = complete(records(chromeLike));
    // 5 ciphers and 8 extensions without GREASE; TLS 1.3 from supported_versions; "h2".
    expect(ja4(hello).fingerprint.split("_")[0]).toBe("t13d0508h2");
    expect(ja4(hello, "q").fingerprint.startsWith("q13d")).toBe(true);
    expect(ja4(hello).raw).toBe(
      "t13d0508h2_1301,1302,1303,c02b,c02f_000a,000b,000d,0017,002b,ff01_0403,0804,0401",
    );
  });

  it("prints ALPN ends as the spec says", () => {
    const a = (id: string) =>
      ja4(complete(records(helloMessage({ extensions: [ext.alpn(id)] }))).hello).fingerprint.slice(8, 10);
    expect(a("http/1.1")).toBe("h1");
    expect(a("x")).toBe("xx");
    expect(a("\xba\xad")).toBe("99");
    expect(a("/x!")).toBe("21"); // ASCII punctuation: first and last hex digit of 2f 78 21
    const none = ja4(complete(records(helloMessage({ extensions: [ext.sni("a.b")] }))).hello);
    expect(none.fingerprint.slice(0, 10)).toBe("t12d020100");
  });
});
