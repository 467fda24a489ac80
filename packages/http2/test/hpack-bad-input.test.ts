import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  HpackDecoder,
  HpackEncoder,
  Http2CompressionError,
  type Http2Error,
  Http2HeaderListTooLargeError,
  InvalidOutgoingHeaderError,
} from "../src/index.js";

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ""), "hex");
}

/** Decoding `wire` with a fresh decoder fails with a COMPRESSION_ERROR whose message matches `message`. */
function expectCompressionError(
  wire: string | Buffer,
  message: RegExp,
  decoder = new HpackDecoder(),
): Http2Error {
  let caught: unknown;
  try {
    decoder.decode(typeof wire === "string" ? hex(wire) : wire, 3);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(Http2CompressionError);
  const err = caught as Http2CompressionError;
  expect(err.code).toBe("ERR_HTTP2_COMPRESSION");
  expect(err.errorCode).toBe(ErrorCode.COMPRESSION_ERROR);
  expect(err.errorName).toBe("COMPRESSION_ERROR");
  expect(err.scope).toBe("connection");
  expect(err.streamId).toBe(3);
  expect(err.message).toMatch(message);
  // The context is gone: the decoder refuses everything afterwards, even a valid block.
  expect(() => decoder.decode(hex("82"), 5)).toThrow(err);
  return err;
}

describe("malformed blocks are typed COMPRESSION_ERRORs, never raw TypeErrors", () => {
  it("truncated integers", () => {
    expectCompressionError("ff", /truncated/); // indexed, 7-bit prefix all ones, no continuation octet
    expectCompressionError("ff 80", /truncated/); // continuation bit set on the last octet
    expectCompressionError("7f ff ff", /truncated/); // literal name index continues past the end
    expectCompressionError("3f", /truncated/); // size update
    const err = expectCompressionError("0f", /truncated/);
    expect(err.cause).toBeInstanceOf(TypeError); // what hpack.js threw, kept as the cause
  });
  it("integer overflow (more than 4 continuation octets, or values past 2^28)", () => {
    expectCompressionError("ff 80 80 80 80 01", /integer too large/);
    expectCompressionError("ff ff ff ff ff ff ff ff ff 0f", /integer too large/);
    expectCompressionError("3f ff ff ff ff 0f", /integer too large/);
  });
  it("an index of 0, or past the static and dynamic tables", () => {
    expectCompressionError("80", /index 0/);
    expectCompressionError("be", /index 62 is past the end/); // dynamic table empty
    expectCompressionError("ff 80 80 80 7f", /past the end/); // a large but valid integer
    expectCompressionError("7e 00", /index 62 is past the end/); // literal with an indexed name
    // 61 static entries + 1 dynamic: 63 is one too far.
    const decoder = new HpackDecoder();
    decoder.decode(hex("400161 0162"), 1);
    expect(decoder.decode(hex("be"), 1).pairs()).toEqual([["a", "b"]]);
    expectCompressionError("bf", /index 63 is past the end of the table \(62 entries, 1 dynamic\)/, decoder);
  });
  it("strings longer than the block", () => {
    expectCompressionError("00 05 616263", /string longer than the rest/);
    expectCompressionError("00 01 61 05 62", /string longer than the rest/);
    expectCompressionError("00 01 61 7f", /truncated/); // a 7-bit length of 127 needs a continuation octet
    expectCompressionError("00 01 61", /truncated/); // the value is missing altogether
  });
  it("Huffman: EOS inside a string, padding over 7 bits, padding that is not all ones", () => {
    // "a" is 00011 (5 bits): with 111 it is the octet 1f.
    expect(new HpackDecoder().decode(hex("00 81 1f 00"), 1).pairs()).toEqual([["a", ""]]);
    expectCompressionError("00 84 ff ff ff ff 00", /EOS symbol/); // 30 ones: EOS itself
    expectCompressionError("00 85 1f ff ff ff ff 00", /EOS symbol/); // "a" then EOS
    expectCompressionError("00 82 1f ff 00", /padding longer than 7 bits/); // "a" + 8 more ones
    expectCompressionError("00 81 ff 00", /padding longer than 7 bits/); // 8 ones and nothing else
    expectCompressionError("00 81 18 00", /padding is not the most significant bits of EOS/); // 000 padding
  });
});

describe("dynamic table size updates", () => {
  it("may not exceed the acknowledged SETTINGS_HEADER_TABLE_SIZE", () => {
    expect(new HpackDecoder().decode(hex("3fe11f"), 1).count).toBe(0); // 4096: fine
    expectCompressionError("3fe21f", /4097 exceeds SETTINGS_HEADER_TABLE_SIZE 4096/);
    expectCompressionError(
      "3fe11f",
      /4096 exceeds SETTINGS_HEADER_TABLE_SIZE 100/,
      new HpackDecoder({ maxTableSize: 100 }),
    );
  });
  it("a decoder starts at 4096 octets like every HTTP/2 table, whatever its setting", () => {
    // A smaller setting: the peer's first block must bring the table down.
    expectCompressionError(
      "82",
      /does not start with the dynamic table size update/,
      new HpackDecoder({ maxTableSize: 100 }),
    );
    const small = new HpackDecoder({ maxTableSize: 100 });
    expect(small.tableMaxSize).toBe(4096);
    expect(small.decode(hex("3f45 82"), 1).count).toBe(1);
    expect(small.tableMaxSize).toBe(100);
    // A larger setting does not grow the table until the peer says so.
    const large = new HpackDecoder({ maxTableSize: 65_536 });
    expect(large.tableMaxSize).toBe(4096);
    expect(large.decode(hex("82"), 1).count).toBe(1);
    expect(large.tableMaxSize).toBe(4096);
  });
  it("must come before the first field", () => {
    expectCompressionError("82 20", /after the first header field/);
    expect(new HpackDecoder().decode(hex("20 3f e1 1f 82"), 1).pairs()).toEqual([[":method", "GET"]]);
  });
  it("shrinks the table, evicting entries", () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex("400161 0162 400163 0164"), 1);
    expect(decoder.tableLength).toBe(2);
    decoder.decode(hex("3f 03"), 1); // to 34: only one 34-octet entry fits
    expect(decoder.tableLength).toBe(1);
    expect(decoder.decode(hex("be"), 1).pairs()).toEqual([["c", "d"]]);
    decoder.decode(hex("20"), 1); // to 0: empty
    expect(decoder.tableLength).toBe(0);
    expectCompressionError("be", /past the end/, decoder);
  });
  it("a lower SETTINGS_HEADER_TABLE_SIZE requires an update at the start of the next block", () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex("400161 0162"), 1);
    decoder.setMaxTableSize(1024);
    expectCompressionError("82", /does not start with the dynamic table size update/, decoder);

    const ok = new HpackDecoder();
    ok.setMaxTableSize(1024);
    expect(ok.decode(hex("3f e1 07 82"), 1).count).toBe(1); // 1024
    expect(ok.tableMaxSize).toBe(1024);
    // A later block needs no update.
    expect(ok.decode(hex("82"), 1).count).toBe(1);
  });
  it("an empty block does not satisfy a required update", () => {
    const decoder = new HpackDecoder();
    decoder.setMaxTableSize(0);
    expectCompressionError(Buffer.alloc(0), /does not start with the dynamic table size update/, decoder);
  });
  it("lowered then raised again: the lowest value must be signalled (RFC 7541 4.2)", () => {
    const decoder = new HpackDecoder();
    decoder.setMaxTableSize(100);
    decoder.setMaxTableSize(4096);
    expectCompressionError("3fe11f 82", /does not start with/, decoder); // only 4096 signalled
    const ok = new HpackDecoder();
    ok.setMaxTableSize(100);
    ok.setMaxTableSize(4096);
    expect(ok.decode(hex("3f 45 3fe11f 82"), 1).count).toBe(1); // 100, then 4096
    expect(ok.tableMaxSize).toBe(4096);
  });
  it("a raised limit needs no update, and allows a larger one", () => {
    const decoder = new HpackDecoder();
    decoder.setMaxTableSize(65_536);
    expect(decoder.decode(hex("82"), 1).count).toBe(1);
    expect(decoder.tableMaxSize).toBe(4096);
    decoder.decode(hex("3f e1 ff 03"), 1); // 65536
    expect(decoder.tableMaxSize).toBe(65_536);
  });
  it("the encoder announces its table size changes, lowest first", () => {
    const encoder = new HpackEncoder({ maxTableSize: 65_536 });
    const decoder = new HpackDecoder({ maxTableSize: 65_536 });
    expect(encoder.encode([]).length).toBe(0); // peer default 4096: nothing to say
    encoder.setMaxTableSize(100);
    encoder.setMaxTableSize(8192);
    const block = encoder.encode([":method", "GET"]);
    expect(block.toString("hex")).toBe("3f45" + "3fe13f" + "82"); // 100, 8192, then the field
    decoder.setMaxTableSize(100);
    decoder.setMaxTableSize(8192);
    expect(decoder.decode(block, 1).pairs()).toEqual([[":method", "GET"]]);
    expect(decoder.tableMaxSize).toBe(8192);
    // An encoder capped below the peer's default announces its cap in the first block.
    expect(new HpackEncoder({ maxTableSize: 0 }).encode([":method", "GET"]).toString("hex")).toBe("2082");
  });
});

describe("header list size limit (RFC 9113 6.5.2) and the HPACK bomb", () => {
  it("counts name + value + 32 per field and rejects a list over the limit as a stream error", () => {
    // ":method: GET" is 7 + 3 + 32 = 42.
    expect(new HpackDecoder({ maxHeaderListSize: 84 }).decode(hex("82 82"), 1).size).toBe(84);
    let caught: unknown;
    try {
      new HpackDecoder({ maxHeaderListSize: 83 }).decode(hex("82 82"), 9);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(Http2HeaderListTooLargeError);
    const err = caught as Http2HeaderListTooLargeError;
    expect(err.code).toBe("ERR_HTTP2_HEADER_LIST_TOO_LARGE");
    expect(err.scope).toBe("stream");
    expect(err.streamId).toBe(9);
    expect(err.errorCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(err.limit).toBe(83);
  });

  it("a bomb: 4 KB entry referenced 20,000 times is refused without building the list", () => {
    // One literal with incremental indexing (a 4,000-octet value), then 20,000 one-octet references to it:
    // 24 KB on the wire, about 80 MB of header list.
    const literal = Buffer.concat([hex("40 01 78 7f a1 1e"), Buffer.alloc(4000, 0x61)]); // value length 4000
    const bomb = Buffer.concat([literal, Buffer.alloc(20_000, 0xbe)]);
    const decoder = new HpackDecoder({ maxHeaderListSize: 16 * 1024 });
    const pushes = countArrayPushes(() => {
      expect(() => decoder.decode(bomb, 1)).toThrow(Http2HeaderListTooLargeError);
    });
    // Only the fields below the limit were ever stored (4 of them, 2 strings each).
    expect(pushes).toBeLessThanOrEqual(8);
    // The table is still in step with the encoder: the connection can go on.
    expect(decoder.tableLength).toBe(1);
    expect(decoder.decode(hex("be"), 3).get("x")).toBe("a".repeat(4000));
  });

  it("a bomb through indexed static entries and repeated literals is bounded the same way", () => {
    const decoder = new HpackDecoder({ maxHeaderListSize: 1000 });
    expect(() => decoder.decode(Buffer.alloc(10_000, 0x82), 1)).toThrow(Http2HeaderListTooLargeError);
    // Literal without indexing, new name: still counted, and the decoder stays usable.
    const literal = hex("00 01 61 01 62");
    expect(() => decoder.decode(Buffer.concat(Array(100).fill(literal)), 1)).toThrow(
      Http2HeaderListTooLargeError,
    );
    expect(decoder.decode(hex("82"), 1).count).toBe(1);
  });

  it("the limit can be changed between blocks", () => {
    const decoder = new HpackDecoder({ maxHeaderListSize: 10 });
    expect(() => decoder.decode(hex("82"), 1)).toThrow(Http2HeaderListTooLargeError);
    decoder.maxHeaderListSize = 42;
    expect(decoder.decode(hex("82"), 1).count).toBe(1);
    expect(decoder.maxHeaderListSize).toBe(42);
  });
});

/** Counts Array.prototype.push calls made by the decoder while `fn` runs (how many strings it stored). */
function countArrayPushes(fn: () => void): number {
  const original = Array.prototype.push;
  let strings = 0;
  Array.prototype.push = function (this: unknown[], ...items: unknown[]) {
    for (const item of items) if (typeof item === "string") strings++;
    return original.apply(this, items);
  };
  try {
    fn();
  } finally {
    Array.prototype.push = original;
  }
  return strings;
}

describe("the encoder refuses what HPACK cannot carry, and works around hpack.js's quirks", () => {
  it("refuses characters above U+00FF with a typed error", () => {
    const encoder = new HpackEncoder();
    expect(() => encoder.encode(["x-name", "caf\u00e9 \u20ac"])).toThrow(InvalidOutgoingHeaderError);
    expect(() => encoder.encode(["x-\u0100", "v"])).toThrow(/above U\+00FF/);
    expect(() => encoder.encode(["odd"])).toThrow(TypeError);
    // Latin1 (obs-text) is fine, and comes back octet for octet.
    const block = encoder.encode(["x-latin1", "caf\u00e9"]);
    expect(new HpackDecoder().decode(block, 1).get("x-latin1")).toBe("caf\u00e9");
  });
  it("names that collide with Object.prototype members round-trip (hpack.js's own lookup gets them wrong)", () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const fields = ["constructor", "length", "__proto__", "x", "tostring", "y", "hasOwnProperty", "values"];
    for (let round = 0; round < 2; round++) {
      expect(decoder.decode(encoder.encode(fields), 1).fields).toEqual(fields);
    }
  });
  it("sends authorization, proxy-authorization and short cookies never-indexed, and a proxy keeps the flag", () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const fields = [
      "authorization",
      "Bearer x",
      "cookie",
      "a=1",
      "cookie",
      "session=0123456789abcdef0123",
      "x-secret",
      "s",
    ];
    const list = decoder.decode(encoder.encode(fields, [3]), 1);
    expect(list.fields).toEqual(fields);
    expect(list.neverIndexed).toEqual([0, 1, 3]);
    // Forwarding the list keeps the never-indexed fields never-indexed (RFC 7541 7.1.3).
    const next = new HpackDecoder().decode(new HpackEncoder().encode(list.fields, list.neverIndexed), 1);
    expect(next.neverIndexed).toEqual([0, 1, 3]);
    // Sensitive fields never enter the dynamic table: only the long cookie did.
    expect(decoder.tableLength).toBe(1);
  });
  it("does not index noIndex names nor entries over 3/4 of the table", () => {
    const encoder = new HpackEncoder();
    encoder.encode([":path", "/a", "content-length", "12", "x-big", "v".repeat(3100)]);
    expect(encoder.tableLength).toBe(0);
    encoder.encode(["x-small", "v"]);
    expect(encoder.tableLength).toBe(1);
  });
});
