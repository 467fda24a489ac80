import { describe, expect, it } from "vitest";
import {
  crc32c,
  encodeProxyHeader,
  PROXY_V2_SIGNATURE,
  ProxyHeaderError,
  type ProxyHeaderParse,
  ProxyHeaderTooLargeError,
  ProxySslClient,
  ProxyTlvType,
  parseProxyHeader,
} from "../src/index.js";

const SIG = PROXY_V2_SIGNATURE.toString("hex");
const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ""), "hex");
const v2 = (rest: string): Buffer => hex(SIG + rest);

/** Parse `bytes` fed as every prefix, and check the answers agree with parsing all of them at once. */
function parseEveryPrefix(bytes: Buffer): ProxyHeaderParse {
  const whole = parseProxyHeader(bytes);
  for (let n = 0; n < bytes.length; n++) {
    const partial = parseProxyHeader(bytes.subarray(0, n));
    if (whole.status === "complete" && n < whole.length) expect(partial.status).toBe("incomplete");
    if (whole.status === "complete" && n >= whole.length) expect(partial).toEqual(whole);
  }
  return whole;
}

/** The error parsing `bytes` throws; every prefix either throws the same or is still incomplete. */
function errorOf(bytes: Buffer): ProxyHeaderError | ProxyHeaderTooLargeError {
  let error: unknown;
  try {
    parseProxyHeader(bytes);
  } catch (e) {
    error = e;
  }
  expect(error).toBeDefined();
  for (let n = 0; n < bytes.length; n++) {
    try {
      expect(parseProxyHeader(bytes.subarray(0, n)).status).toBe("incomplete");
    } catch (e) {
      expect((e as Error).constructor).toBe((error as Error).constructor);
      expect((e as { reason?: string }).reason).toBe((error as { reason?: string }).reason);
    }
  }
  return error as ProxyHeaderError;
}

function reasonOf(bytes: Buffer | string): string | undefined {
  const error = errorOf(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
  expect(error).toBeInstanceOf(ProxyHeaderError);
  expect((error as ProxyHeaderError).code).toBe("ERR_NET_PROXY_HEADER_INVALID");
  return (error as ProxyHeaderError).reason;
}

describe("crc32c", () => {
  it("gives the standard check value and the RFC 3720 (iSCSI) test vectors", () => {
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)))).toBe(0x113fdb5c);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  it("continues across pieces", () => {
    const data = Buffer.from("the PROXY protocol, version 2");
    expect(crc32c(data.subarray(10), crc32c(data.subarray(0, 10)))).toBe(crc32c(data));
  });
});

describe("PROXY v1", () => {
  it("parses the spec's longest TCP4 line, leaving what follows", () => {
    const line = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
    const parsed = parseEveryPrefix(Buffer.from(`${line}GET / HTTP/1.1\r\n`));
    expect(parsed).toEqual({
      status: "complete",
      length: line.length,
      header: {
        version: 1,
        command: "proxy",
        family: "IPv4",
        transport: "stream",
        source: { family: "IPv4", host: "255.255.255.255", port: 65535 },
        destination: { family: "IPv4", host: "255.255.255.255", port: 65535 },
        tlvs: [],
      },
    });
  });

  it("parses TCP6 (the spec's 104-byte line) and reports IPv4-mapped addresses as IPv4, like PeerAddr", () => {
    const max = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    const line = `PROXY TCP6 ${max} ${max} 65535 65535\r\n`;
    expect(line.length).toBe(104);
    const parsed = parseEveryPrefix(Buffer.from(line));
    expect(parsed.status === "complete" && parsed.header.source).toEqual({
      family: "IPv6",
      host: max,
      port: 65535,
    });
    const mapped = parseProxyHeader(Buffer.from("PROXY TCP6 ::ffff:10.1.2.3 2001:db8::1 0 443\r\n"));
    expect(mapped.status === "complete" && mapped.header).toMatchObject({
      family: "IPv6",
      source: { family: "IPv4", host: "10.1.2.3", port: 0 },
      destination: { family: "IPv6", host: "2001:db8::1", port: 443 },
    });
  });

  it("parses UNKNOWN, short and the 107-byte maximum (whatever follows UNKNOWN is ignored)", () => {
    expect(parseEveryPrefix(Buffer.from("PROXY UNKNOWN\r\n"))).toEqual({
      status: "complete",
      length: 15,
      header: { version: 1, command: "proxy", family: "unspec", transport: "unspec", tlvs: [] },
    });
    const max = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    const line = `PROXY UNKNOWN ${max} ${max} 65535 65535\r\n`;
    expect(line.length).toBe(107);
    const parsed = parseEveryPrefix(Buffer.from(`${line}x`));
    expect(parsed).toMatchObject({ status: "complete", length: 107, header: { family: "unspec" } });
    expect(parseProxyHeader(Buffer.from("PROXY UNKNOWN whatever it says\r\n")).status).toBe("complete");
  });

  it("refuses a line longer than 107 bytes as soon as byte 107 is not the end", () => {
    const long = `PROXY UNKNOWN ${"a".repeat(200)}\r\n`;
    const error = errorOf(Buffer.from(long));
    expect(error).toBeInstanceOf(ProxyHeaderTooLargeError);
    expect(error.code).toBe("ERR_NET_PROXY_HEADER_TOO_LARGE");
    expect((error as ProxyHeaderTooLargeError).limit).toBe(107);
    // 105 characters then CRLF is 107: fine. 106 then CRLF is 108: too large, even with the CR at byte 107.
    expect(parseProxyHeader(Buffer.from(`PROXY UNKNOWN ${"a".repeat(91)}\r\n`)).status).toBe("complete");
    expect(() => parseProxyHeader(Buffer.from(`PROXY UNKNOWN ${"a".repeat(92)}\r`))).toThrow(
      ProxyHeaderTooLargeError,
    );
  });

  it.each([
    ["a bare LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "v1-syntax"],
    ["a CR without LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "v1-syntax"],
    ["a control byte", "PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", "v1-syntax"],
    ["a non-ASCII byte", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\xff\r\n", "v1-syntax"],
    ["a double space", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "v1-syntax"],
    ["a trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "v1-syntax"],
    ["a missing port", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "v1-syntax"],
    ["an extra field", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "v1-syntax"],
    ["no protocol", "PROXY \r\n", "v1-syntax"],
    ["only a protocol", "PROXY TCP4\r\n", "v1-syntax"],
    ["an unknown protocol", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "v1-protocol"],
    ["a lower-case protocol", "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "v1-protocol"],
    ["a protocol with a suffix", "PROXY TCP44 1.2.3.4 5.6.7.8 1 2\r\n", "v1-protocol"],
    ["UNKNOWN with a suffix", "PROXY UNKNOWNX\r\n", "v1-protocol"],
    ["an IPv6 address in TCP4", "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "v1-address"],
    ["an IPv4 address in TCP6", "PROXY TCP6 ::1 5.6.7.8 1 2\r\n", "v1-address"],
    ["an IPv4 address with a leading zero", "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", "v1-address"],
    ["a short IPv4 address", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "v1-address"],
    ["a host name", "PROXY TCP4 example.com 5.6.7.8 1 2\r\n", "v1-address"],
    ["an IPv6 zone id", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", "v1-address"],
    ["a bracketed IPv6 address", "PROXY TCP6 [::1] ::1 1 2\r\n", "v1-address"],
    ["a port over 65535", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "v1-port"],
    ["a port with a leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n", "v1-port"],
    ["a signed port", "PROXY TCP4 1.2.3.4 5.6.7.8 +80 2\r\n", "v1-port"],
    ["a hex port", "PROXY TCP4 1.2.3.4 5.6.7.8 0x50 2\r\n", "v1-port"],
    ["a six-digit port", "PROXY TCP4 1.2.3.4 5.6.7.8 1 000080\r\n", "v1-port"],
  ])("refuses %s", (_name, line, reason) => {
    expect(reasonOf(line)).toBe(reason);
  });

  it("fails early on a protocol it will never accept, before the CRLF", () => {
    expect(() => parseProxyHeader(Buffer.from("PROXY TCP5"))).toThrow(ProxyHeaderError);
    expect(() => parseProxyHeader(Buffer.from("PROXY TCP4X"))).toThrow(ProxyHeaderError);
    expect(parseProxyHeader(Buffer.from("PROXY UNKN")).status).toBe("incomplete");
  });

  it("says absent for bytes that are not a header, incomplete for a prefix of the signature", () => {
    expect(parseProxyHeader(Buffer.from("GET / HTTP/1.1\r\n"))).toEqual({ status: "absent" });
    expect(parseProxyHeader(Buffer.from("PROXYX"))).toEqual({ status: "absent" });
    expect(parseProxyHeader(Buffer.from("PRI * HTTP/2.0"))).toEqual({ status: "absent" });
    expect(parseProxyHeader(Buffer.from([0x16, 0x03, 0x01]))).toEqual({ status: "absent" });
    expect(parseProxyHeader(Buffer.from("PROX"))).toEqual({ status: "incomplete", version: undefined });
    expect(parseProxyHeader(Buffer.alloc(0))).toEqual({ status: "incomplete", version: undefined });
    expect(parseProxyHeader(Buffer.from("PROXY "))).toEqual({ status: "incomplete", version: 1 });
    expect(parseProxyHeader(PROXY_V2_SIGNATURE.subarray(0, 5))).toEqual({
      status: "incomplete",
      version: undefined,
    });
  });

  it("treats a version that is not accepted as absent", () => {
    expect(parseProxyHeader(Buffer.from("PROXY UNKNOWN\r\n"), { versions: [2] })).toEqual({
      status: "absent",
    });
    expect(parseProxyHeader(v2("20 00 0000"), { versions: [1] })).toEqual({ status: "absent" });
  });
});

describe("PROXY v2", () => {
  it("parses TCP over IPv4 (addresses, then ports, network order)", () => {
    const bytes = v2("21 11 000c  c0000201 c6336401  dc04 01bb");
    expect(parseEveryPrefix(Buffer.concat([bytes, Buffer.from("data")]))).toEqual({
      status: "complete",
      length: 28,
      header: {
        version: 2,
        command: "proxy",
        family: "IPv4",
        transport: "stream",
        source: { family: "IPv4", host: "192.0.2.1", port: 56324 },
        destination: { family: "IPv4", host: "198.51.100.1", port: 443 },
        tlvs: [],
      },
    });
  });

  it("parses TCP and UDP over IPv6, in RFC 5952 text", () => {
    const addresses = "20010db8000000000000000000000001 fe800000000000000202b3fffe1e8329 0050 1f90";
    const tcp = parseEveryPrefix(v2(`21 21 0024 ${addresses}`));
    expect(tcp.status === "complete" && tcp.header).toMatchObject({
      family: "IPv6",
      transport: "stream",
      source: { family: "IPv6", host: "2001:db8::1", port: 80 },
      destination: { family: "IPv6", host: "fe80::202:b3ff:fe1e:8329", port: 8080 },
    });
    const udp = parseEveryPrefix(v2(`21 22 0024 ${addresses}`));
    expect(udp.status === "complete" && udp.header.transport).toBe("dgram");
    const mapped = parseProxyHeader(
      v2(`21 21 0024 00000000000000000000ffff0a000001 ${"00".repeat(16)} 0001 0002`),
    );
    expect(mapped.status === "complete" && mapped.header).toMatchObject({
      source: { family: "IPv4", host: "10.0.0.1", port: 1 },
      destination: { family: "IPv6", host: "::", port: 2 },
    });
    const oneZero = parseProxyHeader(
      v2(`21 21 0024 20010db8000000010001000100010001 ${"00".repeat(15)}01 0001 0002`),
    );
    // A single zero group is not shortened to "::" (RFC 5952 4.2.2).
    expect(oneZero.status === "complete" && oneZero.header.source).toMatchObject({
      host: "2001:db8:0:1:1:1:1:1",
    });
  });

  it("parses UNIX stream addresses (NUL-terminated paths, abstract names with a leading \\0)", () => {
    const path = (text: string): string => Buffer.from(text).toString("hex").padEnd(216, "0");
    const parsed = parseEveryPrefix(v2(`21 31 00d8 ${path("/run/client.sock")} ${path("\0abstract")}`));
    expect(parsed.status === "complete" && parsed.header).toMatchObject({
      family: "unix",
      transport: "stream",
      source: { family: "unix", path: "/run/client.sock" },
      destination: { family: "unix", path: "\0abstract" },
    });
    const dgram = parseProxyHeader(v2(`21 32 00d8 ${"00".repeat(216)}`));
    expect(dgram.status === "complete" && dgram.header).toMatchObject({
      transport: "dgram",
      source: { family: "unix", path: "" },
    });
  });

  it("parses LOCAL (a health check) and discards its block, whatever the family", () => {
    expect(parseEveryPrefix(v2("20 00 0000 ffff"))).toEqual({
      status: "complete",
      length: 16,
      header: { version: 2, command: "local", family: "unspec", transport: "unspec", tlvs: [] },
    });
    const withBlock = parseProxyHeader(v2("20 11 000c 7f000001 7f000001 0001 0002"));
    expect(withBlock).toMatchObject({ status: "complete", length: 28, header: { command: "local" } });
    expect(withBlock.status === "complete" && withBlock.header.source).toBeUndefined();
  });

  it("parses PROXY over UNSPEC: no addresses, TLVs still read", () => {
    const parsed = parseEveryPrefix(v2("21 00 0005 01 0002 6832"));
    expect(parsed.status === "complete" && parsed.header).toMatchObject({
      command: "proxy",
      family: "unspec",
      transport: "unspec",
      alpn: "h2",
    });
    expect(parsed.status === "complete" && parsed.header.source).toBeUndefined();
  });

  it("decodes every TLV the spec defines and keeps unknown ones in wire order", () => {
    const tlv = (type: number, value: Buffer | string): string => {
      const bytes = typeof value === "string" ? Buffer.from(value) : value;
      return (
        type.toString(16).padStart(2, "0") +
        bytes.length.toString(16).padStart(4, "0") +
        bytes.toString("hex")
      );
    };
    const ssl = Buffer.concat([
      hex("07 00000000"),
      hex(tlv(0x21, "TLSv1.3")),
      hex(tlv(0x22, "client.example")),
      hex(tlv(0x23, "TLS_AES_256_GCM_SHA384")),
      hex(tlv(0x24, "SHA256")),
      hex(tlv(0x25, "RSA2048")),
      hex(tlv(0x2f, "unknown sub")),
    ]);
    const tlvs = [
      tlv(0x01, "h2"),
      tlv(0x02, "exämple.com"),
      tlv(0x04, Buffer.alloc(3)),
      tlv(0x05, Buffer.from("00112233", "hex")),
      tlv(0x20, ssl),
      tlv(0x30, "blue"),
      tlv(0xea, Buffer.from("01766970652d3132", "hex")),
      tlv(0x04, Buffer.alloc(0)),
    ].join("");
    const length = (12 + tlvs.length / 2).toString(16).padStart(4, "0");
    const parsed = parseEveryPrefix(v2(`21 11 ${length} 7f000001 7f000002 3039 0050 ${tlvs}`));
    expect(parsed.status).toBe("complete");
    if (parsed.status !== "complete") return;
    const header = parsed.header;
    expect(header.alpn).toBe("h2");
    expect(header.authority).toBe("exämple.com");
    expect(header.uniqueId).toEqual(Buffer.from("00112233", "hex"));
    expect(header.netns).toBe("blue");
    expect(header.ssl).toEqual({
      client: 7,
      verify: 0,
      ssl: true,
      certConn: true,
      certSession: true,
      verified: true,
      version: "TLSv1.3",
      cn: "client.example",
      cipher: "TLS_AES_256_GCM_SHA384",
      sigAlg: "SHA256",
      keyAlg: "RSA2048",
      tlvs: [0x21, 0x22, 0x23, 0x24, 0x25, 0x2f].map((type) => expect.objectContaining({ type })),
    });
    expect(header.tlvs.map((t) => t.type)).toEqual([0x01, 0x02, 0x04, 0x05, 0x20, 0x30, 0xea, 0x04]);
    expect(header.tlvs[6]!.value).toEqual(Buffer.from("01766970652d3132", "hex"));
    expect(header.crc32c).toBeUndefined();
  });

  it("reads the SSL TLV's flags: TLS without a client certificate is not 'verified'", () => {
    const parsed = parseProxyHeader(v2("21 00 0008 20 0005 01 00000000"));
    expect(parsed.status === "complete" && parsed.header.ssl).toMatchObject({
      ssl: true,
      certConn: false,
      certSession: false,
      verified: false,
      tlvs: [],
    });
    const failed = parseProxyHeader(v2("21 00 0008 20 0005 03 00000015"));
    expect(failed.status === "complete" && failed.header.ssl).toMatchObject({
      certConn: true,
      verify: 21,
      verified: false,
    });
  });

  it("checks the CRC32C TLV over the whole header with the checksum zeroed", () => {
    const header = encodeProxyHeader(2, {
      source: { family: "IPv4", host: "192.0.2.1", port: 1234 },
      destination: { family: "IPv4", host: "192.0.2.2", port: 443 },
      authority: "example.com",
      crc32c: true,
    });
    // The checksum, recomputed here from the definition.
    const zeroed = Buffer.from(header);
    zeroed.fill(0, header.length - 4);
    const expected = crc32c(zeroed);
    expect(header.readUInt32BE(header.length - 4)).toBe(expected);
    const parsed = parseEveryPrefix(header);
    expect(parsed.status === "complete" && parsed.header.crc32c).toBe(expected);
    // One flipped bit anywhere (the addresses, a TLV, the checksum itself) is refused.
    for (const at of [17, 32, header.length - 1]) {
      const bad = Buffer.from(header);
      bad[at]! ^= 0x01;
      expect(reasonOf(bad)).toBe("v2-crc32c");
    }
    // A CRC32C TLV that is not the last one: the bytes after it are covered too.
    const crcAt = header.length - 4;
    const longer = Buffer.concat([header, Buffer.from([0x04, 0x00, 0x01, 0x7a])]);
    longer.writeUInt16BE(longer.length - 16, 14);
    longer.fill(0, crcAt, crcAt + 4);
    longer.writeUInt32BE(crc32c(longer), crcAt);
    const middle = parseEveryPrefix(longer);
    expect(middle.status === "complete" && middle.header.crc32c).toBe(longer.readUInt32BE(crcAt));
    longer[longer.length - 1]! ^= 0x01;
    expect(reasonOf(longer)).toBe("v2-crc32c");
  });

  it.each([
    ["version 1 in the version nibble", "11 11 000c", "v2-version"],
    ["version 3", "31 11 000c", "v2-version"],
    ["command 2", "22 11 000c", "v2-command"],
    ["command 15", "2f 11 000c", "v2-command"],
    ["family 4", "21 41 000c", "v2-family"],
    ["transport 3", "21 13 000c", "v2-family"],
    ["INET with transport UNSPEC", "21 10 000c", "v2-family"],
    ["UNSPEC with transport STREAM", "21 01 0000", "v2-family"],
    ["INET with a short block", "21 11 000b 7f000001 7f000001 0001 00", "v2-address-length"],
    ["INET6 with an INET-sized block", "21 21 000c 7f000001 7f000001 0001 0002", "v2-address-length"],
    ["UNIX with a short block", `21 31 00d7 ${"00".repeat(215)}`, "v2-address-length"],
    ["a TLV running past the end", "21 11 0010 7f000001 7f000001 0001 0002 01 0002 68", "v2-tlv"],
    ["stray bytes after the TLVs", "21 11 000e 7f000001 7f000001 0001 0002 0100", "v2-tlv"],
    ["a CRC32C of 3 bytes", "21 00 0006 03 0003 000000", "v2-tlv"],
    ["two CRC32C TLVs", "21 00 000e 03 0004 00000000 03 0004 00000000", "v2-tlv"],
    ["two AUTHORITY TLVs", "21 00 0008 02 0001 61 02 0001 62", "v2-tlv"],
    ["two ALPN TLVs", "21 00 0008 01 0001 61 01 0001 62", "v2-tlv"],
    ["an AUTHORITY that is not UTF-8", "21 00 0005 02 0002 c328", "v2-tlv"],
    ["a NETNS that is not ASCII", "21 00 0005 30 0002 c3a4", "v2-tlv"],
    ["a UNIQUE_ID over 128 bytes", `21 00 0084 05 0081 ${"00".repeat(129)}`, "v2-tlv"],
    ["an SSL TLV of 4 bytes", "21 00 0007 20 0004 01000000", "v2-ssl-tlv"],
    ["an SSL sub-TLV running past the end", "21 00 000b 20 0008 01 00000000 21 0005", "v2-ssl-tlv"],
    ["two SSL_VERSION sub-TLVs", "21 00 000e 20 000b 01 00000000 21 0000 21 0000", "v2-ssl-tlv"],
    ["an SSL_CN that is not UTF-8", "21 00 000c 20 0009 01 00000000 22 0001 ff", "v2-ssl-tlv"],
    ["an SSL_CIPHER with a control byte", "21 00 000c 20 0009 01 00000000 23 0001 0a", "v2-ssl-tlv"],
  ])("refuses %s", (_name, rest, reason) => {
    expect(reasonOf(v2(rest))).toBe(reason);
  });

  it("accepts a UNIQUE_ID of exactly 128 bytes and an empty one", () => {
    expect(parseProxyHeader(v2(`21 00 0083 05 0080 ${"ab".repeat(128)}`)).status).toBe("complete");
    expect(parseProxyHeader(v2("21 00 0003 05 0000")).status).toBe("complete");
  });

  it("refuses a length over maxHeaderLength from the fixed header alone, before the rest arrives", () => {
    const fixed = v2("21 11 ffff");
    const error = errorOf(fixed);
    expect(error).toBeInstanceOf(ProxyHeaderTooLargeError);
    expect(error).toMatchObject({ limit: 4096, length: 16 + 0xffff });
    expect(() => parseProxyHeader(v2("21 00 0011"), { maxHeaderLength: 32 })).toThrow(
      ProxyHeaderTooLargeError,
    );
    expect(
      parseProxyHeader(v2(`21 00 0010 04 000d ${"00".repeat(13)}`), { maxHeaderLength: 32 }).status,
    ).toBe("complete");
  });

  it("refuses a bad version or family byte as soon as it arrives", () => {
    expect(() => parseProxyHeader(v2("11"))).toThrow(ProxyHeaderError);
    expect(() => parseProxyHeader(v2("21 44"))).toThrow(ProxyHeaderError);
    expect(parseProxyHeader(v2("21 11 00")).status).toBe("incomplete");
  });
});

describe("encodeProxyHeader", () => {
  const client = { family: "IPv4", host: "192.0.2.1", port: 56324 } as const;
  const server = { family: "IPv4", host: "198.51.100.1", port: 443 } as const;

  it("writes v1 lines", () => {
    expect(encodeProxyHeader(1, { source: client, destination: server }).toString()).toBe(
      "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n",
    );
    expect(
      encodeProxyHeader(1, {
        source: { family: "IPv6", host: "2001:db8::1", port: 1 },
        destination: server,
      }).toString(),
    ).toBe("PROXY TCP6 2001:db8::1 ::ffff:198.51.100.1 1 443\r\n");
    expect(encodeProxyHeader(1, {}).toString()).toBe("PROXY UNKNOWN\r\n");
    expect(encodeProxyHeader(1, { command: "local", source: client, destination: server }).toString()).toBe(
      "PROXY UNKNOWN\r\n",
    );
  });

  it("writes v2 bytes exactly as the spec lays them out", () => {
    expect(encodeProxyHeader(2, { source: client, destination: server })).toEqual(
      v2("21 11 000c c0000201 c6336401 dc04 01bb"),
    );
    expect(encodeProxyHeader(2, { command: "local" })).toEqual(v2("20 00 0000"));
    expect(encodeProxyHeader(2, { alpn: "h2", noop: 5 })).toEqual(v2("21 00 000a 01 0002 6832 04 0002 0000"));
  });

  it("round-trips every field through the parser", () => {
    const init = {
      transport: "dgram",
      source: { family: "IPv6", host: "2001:db8::5", port: 53 },
      destination: { family: "IPv4", host: "10.0.0.1", port: 5353 },
      alpn: "dot",
      authority: "dns.example",
      uniqueId: "conn-1",
      ssl: { client: ProxySslClient.SSL | ProxySslClient.CERT_CONN, verify: 0, version: "TLSv1.2", cn: "me" },
      netns: "ns1",
      tlvs: [{ type: 0xe0, value: "custom" }],
      crc32c: true,
    } as const;
    const parsed = parseEveryPrefix(encodeProxyHeader(2, init));
    expect(parsed.status === "complete" && parsed.header).toMatchObject({
      transport: "dgram",
      family: "IPv6",
      source: init.source,
      destination: { family: "IPv4", host: "10.0.0.1", port: 5353 },
      alpn: "dot",
      authority: "dns.example",
      uniqueId: Buffer.from("conn-1"),
      ssl: { ssl: true, certConn: true, verified: true, version: "TLSv1.2", cn: "me" },
      netns: "ns1",
    });
    expect(parsed.status === "complete" && parsed.header.tlvs.map((t) => t.type)).toEqual([
      ProxyTlvType.ALPN,
      ProxyTlvType.AUTHORITY,
      ProxyTlvType.UNIQUE_ID,
      ProxyTlvType.SSL,
      ProxyTlvType.NETNS,
      0xe0,
      ProxyTlvType.CRC32C,
    ]);
    const unix = encodeProxyHeader(2, {
      source: { family: "unix", path: "/tmp/a.sock" },
      destination: { family: "unix", path: "\0abstract" },
    });
    expect(parseProxyHeader(unix)).toMatchObject({
      status: "complete",
      header: { family: "unix", source: { path: "/tmp/a.sock" }, destination: { path: "\0abstract" } },
    });
  });

  it("refuses what a version cannot carry, with a typed error", () => {
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (error) {
        return (error as { code?: string }).code;
      }
      return undefined;
    };
    const encodeError = "ERR_NET_PROXY_HEADER_ENCODE";
    expect(code(() => encodeProxyHeader(1, { source: client, destination: server, alpn: "h2" }))).toBe(
      encodeError,
    );
    expect(code(() => encodeProxyHeader(1, { source: client, destination: server, crc32c: true }))).toBe(
      encodeError,
    );
    expect(
      code(() => encodeProxyHeader(1, { transport: "dgram", source: client, destination: server })),
    ).toBe(encodeError);
    expect(
      code(() =>
        encodeProxyHeader(1, {
          source: { family: "unix", path: "/a" },
          destination: { family: "unix", path: "/b" },
        }),
      ),
    ).toBe(encodeError);
    expect(code(() => encodeProxyHeader(2, { source: client }))).toBe(encodeError);
    expect(
      code(() => encodeProxyHeader(2, { source: client, destination: { family: "unix", path: "/b" } })),
    ).toBe(encodeError);
    expect(
      code(() => encodeProxyHeader(2, { source: { ...client, host: "nope" }, destination: server })),
    ).toBe(encodeError);
    expect(
      code(() => encodeProxyHeader(2, { source: { ...client, port: 70000 }, destination: server })),
    ).toBe(encodeError);
    expect(code(() => encodeProxyHeader(2, { uniqueId: "x".repeat(129) }))).toBe(encodeError);
    expect(
      code(() =>
        encodeProxyHeader(2, {
          source: { family: "unix", path: "p".repeat(108) },
          destination: { family: "unix", path: "" },
        }),
      ),
    ).toBe(encodeError);
    expect(code(() => encodeProxyHeader(2, { noop: 2 }))).toBe(encodeError);
  });
});
