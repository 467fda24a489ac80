// RFC 7541 (HPACK) as the server's decoder must apply it: each representation accepted, and every decoding error
// a connection error COMPRESSION_ERROR (RFC 9113 4.3).
import { describe, expect, it } from "vitest";
import {
  block,
  connect,
  ErrorCode,
  expectConnectionError,
  expectResponse,
  FrameFlag,
  FrameType,
  frame,
  getFields,
  hpackInt,
  hpackString,
  send,
} from "./conformance.js";

const END = FrameFlag.END_HEADERS | FrameFlag.END_STREAM;

/** :method GET, :scheme http, :path / from the static table (indexes 2, 6, 4). */
const STATIC_GET = [0x82, 0x86, 0x84];

/** A HEADERS frame (END_HEADERS, END_STREAM) carrying exactly `bytes` as its field block. */
function raw(streamId: number, bytes: number[]): Buffer {
  return frame(FrameType.HEADERS, END, streamId, Buffer.from(bytes));
}

/** A GET whose :authority ("test") is written with the representation in `authority`. */
function getWith(authority: number[]): number[] {
  return [...STATIC_GET, ...authority];
}

/** Sends `bytes` as the field block of stream 1 and expects a 200. */
async function accepted(bytes: number[]): Promise<void> {
  const { client } = await connect();
  send(client, raw(1, bytes));
  await expectResponse(client, 1);
}

/** Sends `bytes` as the field block of stream 1 and expects a connection error COMPRESSION_ERROR. */
async function compressionError(bytes: number[]): Promise<void> {
  const c = await connect();
  send(c.client, raw(1, bytes));
  await expectConnectionError(c, ErrorCode.COMPRESSION_ERROR);
}

describe("RFC 7541 6 binary format: every representation is accepted", () => {
  it("6.1 an indexed header field [h2spec generic/5/1]", async () => {
    await accepted(getWith([0x01, ...hpackString("test")]));
  });

  it("6.2.1 a literal with incremental indexing, indexed name [h2spec generic/5/2]", async () => {
    await accepted(getWith([0x41, ...hpackString("test")]));
  });

  it("6.2.1 a literal with incremental indexing, new name [h2spec generic/5/3]", async () => {
    await accepted(getWith([0x40, ...hpackString(":authority"), ...hpackString("test")]));
  });

  it("6.2.2 a literal without indexing, indexed name [h2spec generic/5/4]", async () => {
    await accepted(getWith([0x01, ...hpackString("test")]));
  });

  it("6.2.2 a literal without indexing, new name [h2spec generic/5/5]", async () => {
    await accepted(getWith([0x00, ...hpackString(":authority"), ...hpackString("test")]));
  });

  it("6.2.3 a literal never indexed, indexed name [h2spec generic/5/6]", async () => {
    await accepted(getWith([0x11, ...hpackString("test")]));
  });

  it("6.2.3 a literal never indexed, new name [h2spec generic/5/7]", async () => {
    await accepted(getWith([0x10, ...hpackString(":authority"), ...hpackString("test")]));
  });

  it("6.3 a dynamic table size update at the start of a block [h2spec generic/5/8]", async () => {
    await accepted([...hpackInt(4096, 5, 0x20), ...getWith([0x01, ...hpackString("test")])]);
  });

  it("5.2 Huffman-encoded string literals [h2spec generic/5/9]", async () => {
    // "www.example.com", Huffman-coded (RFC 7541 C.4.1).
    const huffman = Buffer.from("f1e3c2e5f23a6ba0ab90f4ff", "hex");
    await accepted(getWith([0x41, 0x80 | huffman.length, ...huffman]));
  });

  it("2.3.2 an entry added with incremental indexing is referenced by index 62 in a later block", async () => {
    const { client } = await connect();
    send(client, raw(1, getWith([0x41, ...hpackString("test")])));
    await expectResponse(client, 1);
    send(client, raw(3, getWith([0xbe])));
    await expectResponse(client, 3);
  });
});

describe("RFC 7541 2.3 indexing tables", () => {
  it("2.3.3 the dynamic table is first in, first out: index 62 is the newest entry, 63 the one before", async () => {
    const { client } = await connect();
    const cookie = (value: string): number[] => [0x40 | 32, ...hpackString(value)]; // name: static 32, cookie
    const path = [0x04, ...hpackString("/cookie")]; // :path, without indexing
    send(
      client,
      raw(1, [0x82, 0x86, ...path, 0x01, ...hpackString("test"), ...cookie("a=1"), ...cookie("b=2")]),
    );
    expect((await expectResponse(client, 1)).body).toBe("a=1; b=2");
    send(client, raw(3, [0x82, 0x86, ...path, 0x01, ...hpackString("test"), 0xbe, 0xbf]));
    expect((await expectResponse(client, 3)).body).toBe("b=2; a=1");
  });

  it("6.2.2, 6.2.3 literals without indexing and never indexed leave the dynamic table alone", async () => {
    const c = await connect();
    const fields = [
      0x00,
      ...hpackString("x-a"),
      ...hpackString("1"),
      0x10,
      ...hpackString("x-b"),
      ...hpackString("2"),
    ];
    send(c.client, raw(1, [...getWith([0x01, ...hpackString("test")]), ...fields]));
    await expectResponse(c.client, 1);
    send(c.client, raw(3, [...getWith([0x01, ...hpackString("test")]), 0xbe]));
    await expectConnectionError(c, ErrorCode.COMPRESSION_ERROR);
  });
});

describe("RFC 7541 2.3.3 index address space", () => {
  it("2.3.3 an indexed field with an index past the table is a COMPRESSION_ERROR [h2spec hpack/2.3.3/1]", async () => {
    await compressionError([...STATIC_GET, ...hpackInt(70, 7, 0x80)]);
  });

  it("2.3.3 a literal whose name index is past the table is a COMPRESSION_ERROR [h2spec hpack/2.3.3/2]", async () => {
    await compressionError([...STATIC_GET, ...hpackInt(70, 6, 0x40), ...hpackString("test")]);
  });
});

describe("RFC 7541 4 dynamic table management", () => {
  it("4.2 a dynamic table size update at the end of a block is a COMPRESSION_ERROR [h2spec hpack/4.2/1]", async () => {
    await compressionError([...block(getFields()), ...hpackInt(4096, 5, 0x20)]);
  });

  it("4.2 two size updates at the start of a block are accepted", async () => {
    await accepted([0x20, ...hpackInt(4096, 5, 0x20), ...getWith([0x01, ...hpackString("test")])]);
  });

  it("4.4 adding past the table's size evicts the oldest entry: its index then is past the table", async () => {
    const c = await connect();
    const client = c.client;
    // A 64-octet table, two entries of 36 octets: the second evicts the first.
    const first = [
      ...hpackInt(64, 5, 0x20),
      ...block(getFields()),
      0x40,
      ...hpackString("x-a"),
      ...hpackString("1"),
      0x40,
      ...hpackString("x-b"),
      ...hpackString("2"),
    ];
    send(client, raw(1, first));
    await expectResponse(client, 1);
    send(client, raw(3, [...block(getFields()), 0xbe])); // x-b, the only entry
    await expectResponse(client, 3);
    send(client, raw(5, [...block(getFields()), 0xbf])); // x-a, evicted
    await expectConnectionError(c, ErrorCode.COMPRESSION_ERROR);
  });

  it("4.4 an entry larger than the table empties it and is not added", async () => {
    await compressionError([
      0x20,
      0x40,
      ...hpackString("x-a"),
      ...hpackString("1"),
      ...block(getFields()),
      0xbe,
    ]);
  });
});

describe("RFC 7541 5 primitive type representations", () => {
  it("5.1 an integer that overflows is a COMPRESSION_ERROR", async () => {
    await compressionError([...STATIC_GET, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
  });

  it("5.2 a string literal longer than the block is a COMPRESSION_ERROR", async () => {
    await compressionError([...STATIC_GET, 0x01, 0x7f, 0x10, 0x61]);
  });

  it("5.2 a Huffman-encoded string literal containing the EOS symbol is a COMPRESSION_ERROR [h2spec hpack/5.2/1]", async () => {
    await compressionError([...STATIC_GET, 0x00, 0x84, 0xff, 0xff, 0xff, 0xff, ...hpackString("x")]);
  });

  it("5.2 Huffman padding longer than 7 bits is a COMPRESSION_ERROR [h2spec hpack/5.2/2]", async () => {
    // "a" is 00011; then 3 + 8 = 11 bits of 1s.
    await compressionError([...STATIC_GET, 0x00, 0x82, 0x1f, 0xff, ...hpackString("x")]);
  });

  it("5.2 Huffman padding that is not the most significant bits of EOS is a COMPRESSION_ERROR [h2spec hpack/5.2/3]", async () => {
    // "a" is 00011; then 000 as padding.
    await compressionError([...STATIC_GET, 0x00, 0x81, 0x18, ...hpackString("x")]);
  });
});

describe("RFC 7541 6 binary format: errors", () => {
  it("6.1 an indexed field with index 0 is a COMPRESSION_ERROR [h2spec hpack/6.1/1]", async () => {
    await compressionError([...STATIC_GET, 0x80]);
  });

  it("6.3 a size update larger than SETTINGS_HEADER_TABLE_SIZE is a COMPRESSION_ERROR [h2spec hpack/6.3/1]", async () => {
    const { serverSettings } = await connect();
    // The server leaves SETTINGS_HEADER_TABLE_SIZE at its default: 4096 is the limit.
    expect(serverSettings.settings.filter((v, i) => i % 2 === 0 && v === 0x1)).toEqual([]);
    await compressionError([...hpackInt(4097, 5, 0x20), ...block(getFields())]);
  });

  it("6.3 a size update after the first field of a block is a COMPRESSION_ERROR", async () => {
    await compressionError([...STATIC_GET, 0x20, 0x01, ...hpackString("test")]);
  });
});
