import { describe, expect, it } from "vitest";
import { HpackDecoder, HpackEncoder } from "../src/index.js";

// RFC 7541 Appendix C, written out (and cross-checked against an independent decoder, Debian's python3-hpack).

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ""), "hex");
}

type Fields = [string, string][];

interface Step {
  wire: string;
  headers: Fields;
  /** Dynamic table after the step, newest first, and its size. */
  table: Fields;
  size: number;
}

const REQUEST_1: Fields = [
  [":method", "GET"],
  [":scheme", "http"],
  [":path", "/"],
  [":authority", "www.example.com"],
];
const REQUEST_2: Fields = [...REQUEST_1, ["cache-control", "no-cache"]];
const REQUEST_3: Fields = [
  [":method", "GET"],
  [":scheme", "https"],
  [":path", "/index.html"],
  [":authority", "www.example.com"],
  ["custom-key", "custom-value"],
];
const TABLE_1: Fields = [[":authority", "www.example.com"]];
const TABLE_2: Fields = [["cache-control", "no-cache"], ...TABLE_1];
const TABLE_3: Fields = [["custom-key", "custom-value"], ...TABLE_2];

const RESPONSE_1: Fields = [
  [":status", "302"],
  ["cache-control", "private"],
  ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
  ["location", "https://www.example.com"],
];
const RESPONSE_2: Fields = [[":status", "307"], ...RESPONSE_1.slice(1)];
const RESPONSE_3: Fields = [
  [":status", "200"],
  ["cache-control", "private"],
  ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
  ["location", "https://www.example.com"],
  ["content-encoding", "gzip"],
  ["set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"],
];
const RTABLE_1: Fields = [
  ["location", "https://www.example.com"],
  ["date", "Mon, 21 Oct 2013 20:13:21 GMT"],
  ["cache-control", "private"],
  [":status", "302"],
];
const RTABLE_2: Fields = [[":status", "307"], ...RTABLE_1.slice(0, 3)];
const RTABLE_3: Fields = [
  ["set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"],
  ["content-encoding", "gzip"],
  ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
];

const C3: Step[] = [
  { wire: "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", headers: REQUEST_1, table: TABLE_1, size: 57 },
  { wire: "8286 84be 5808 6e6f 2d63 6163 6865", headers: REQUEST_2, table: TABLE_2, size: 110 },
  {
    wire: "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    headers: REQUEST_3,
    table: TABLE_3,
    size: 164,
  },
];

const C4: Step[] = [
  { wire: "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", headers: REQUEST_1, table: TABLE_1, size: 57 },
  { wire: "8286 84be 5886 a8eb 1064 9cbf", headers: REQUEST_2, table: TABLE_2, size: 110 },
  {
    wire: "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    headers: REQUEST_3,
    table: TABLE_3,
    size: 164,
  },
];

const C5: Step[] = [
  {
    wire:
      "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 " +
      "474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    headers: RESPONSE_1,
    table: RTABLE_1,
    size: 222,
  },
  { wire: "4803 3330 37c1 c0bf", headers: RESPONSE_2, table: RTABLE_2, size: 222 },
  {
    wire:
      "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 " +
      "666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 " +
      "3630 303b 2076 6572 7369 6f6e 3d31",
    headers: RESPONSE_3,
    table: RTABLE_3,
    size: 215,
  },
];

const C6: Step[] = [
  {
    wire:
      "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 " +
      "63c7 8f0b 97c8 e9ae 82ae 43d3",
    headers: RESPONSE_1,
    table: RTABLE_1,
    size: 222,
  },
  { wire: "4883 640e ffc1 c0bf", headers: RESPONSE_2, table: RTABLE_2, size: 222 },
  {
    wire:
      "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 " +
      "b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
    headers: RESPONSE_3,
    table: RTABLE_3,
    size: 215,
  },
];

/** Reads the dynamic table back through the decoder (indexed fields leave it unchanged): 62 is the newest. */
function dynamicTable(decoder: HpackDecoder): Fields {
  const out: Fields = [];
  for (let i = 0; i < decoder.tableLength; i++) {
    // An indexed field 62 + i, encoded with the 7-bit prefix integer of RFC 7541 5.1.
    const index = 62 + i;
    const bytes = index < 127 ? [0x80 | index] : [0xff, index - 127];
    out.push(decoder.decode(Buffer.from(bytes), 1).pairs()[0]!);
  }
  return out;
}

function flat(fields: Fields): string[] {
  return fields.flat();
}

describe("RFC 7541 C.1 integer representation (through size updates and indices)", () => {
  it("C.1.2: 1337 with a 5-bit prefix is 1f 9a 0a", () => {
    // A dynamic table size update uses the 5-bit prefix: 001 11111, then 1337 - 31 in 7-bit groups.
    const decoder = new HpackDecoder({ maxTableSize: 4096 });
    decoder.decode(hex("3f 9a 0a"), 1);
    expect(decoder.tableMaxSize).toBe(1337);
  });
  it("C.1.1: 10 with a 5-bit prefix is one octet", () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex("2a"), 1); // 001 01010
    expect(decoder.tableMaxSize).toBe(10);
  });
  it("the encoder writes 1337 the same way", () => {
    const encoder = new HpackEncoder();
    encoder.setMaxTableSize(1337);
    expect(encoder.encode([]).toString("hex")).toBe("3f9a0a");
  });
});

describe("RFC 7541 C.2 header field representations", () => {
  it("C.2.1 literal with indexing", () => {
    const decoder = new HpackDecoder();
    const list = decoder.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"), 1);
    expect(list.pairs()).toEqual([["custom-key", "custom-header"]]);
    expect(decoder.tableSize).toBe(55);
    expect(decoder.tableLength).toBe(1);
    const encoder = new HpackEncoder({ huffman: "never" });
    expect(encoder.encode(["custom-key", "custom-header"]).toString("hex")).toBe(
      "400a637573746f6d2d6b65790d637573746f6d2d686561646572",
    );
    expect(encoder.tableSize).toBe(55);
  });
  it("C.2.2 literal without indexing", () => {
    const decoder = new HpackDecoder();
    expect(decoder.decode(hex("040c 2f73 616d 706c 652f 7061 7468"), 1).pairs()).toEqual([
      [":path", "/sample/path"],
    ]);
    expect(decoder.tableSize).toBe(0);
    // :path is in the encoder's default noIndex list, so it comes out exactly like the RFC's example.
    expect(new HpackEncoder({ huffman: "never" }).encode([":path", "/sample/path"]).toString("hex")).toBe(
      "040c2f73616d706c652f70617468",
    );
  });
  it("C.2.3 literal never indexed", () => {
    const decoder = new HpackDecoder();
    const list = decoder.decode(hex("1008 7061 7373 776f 7264 0673 6563 7265 74"), 1);
    expect(list.pairs()).toEqual([["password", "secret"]]);
    expect(list.neverIndexed).toEqual([0]);
    expect(list.isNeverIndexed(0)).toBe(true);
    expect(decoder.tableSize).toBe(0);
    const encoder = new HpackEncoder({ huffman: "never", neverIndex: ["password"] });
    expect(encoder.encode(["password", "secret"]).toString("hex")).toBe("100870617373776f726406736563726574");
    // ... and per call, as a proxy forwarding a never-indexed field does.
    const proxy = new HpackEncoder({ huffman: "never" });
    expect(proxy.encode(["password", "secret"], [0]).toString("hex")).toBe(
      "100870617373776f726406736563726574",
    );
  });
  it("C.2.4 indexed field", () => {
    expect(new HpackDecoder().decode(hex("82"), 1).pairs()).toEqual([[":method", "GET"]]);
    expect(new HpackEncoder().encode([":method", "GET"]).toString("hex")).toBe("82");
  });
});

/**
 * A decoder whose table is `size` octets, as in the RFC's examples. An HTTP/2 decoder starts at 4096 like its
 * peer's encoder, so a smaller table takes the SETTINGS change plus the size update the peer's encoder then
 * sends (as our encoder does in the encoding test: 3f e1 01 for 256).
 */
function rfcDecoder(size: number): HpackDecoder {
  const decoder = new HpackDecoder({ maxTableSize: size });
  if (size === 256) decoder.decode(hex("3fe101"), 1);
  expect(decoder.tableMaxSize).toBe(size);
  return decoder;
}

// The RFC examples index every literal (location too) and C.5/C.6 use a 256-octet table.
const RFC_STYLE = { noIndex: [] as string[], neverIndex: [] as string[] };

function runSequence(title: string, steps: Step[], tableSize: number, huffman: "never" | "auto"): void {
  describe(title, () => {
    it("decodes each block, leaving the RFC's dynamic table", () => {
      const decoder = rfcDecoder(tableSize);
      for (const step of steps) {
        const list = decoder.decode(hex(step.wire), 1);
        expect(list.pairs()).toEqual(step.headers);
        expect(list.size).toBe(step.headers.reduce((n, [k, v]) => n + k.length + v.length + 32, 0));
        expect(decoder.tableSize).toBe(step.size);
      }
    });
    it("the dynamic table holds the RFC's entries, newest first", () => {
      for (let upTo = 1; upTo <= steps.length; upTo++) {
        const decoder = rfcDecoder(tableSize);
        for (const step of steps.slice(0, upTo)) decoder.decode(hex(step.wire), 1);
        expect(dynamicTable(decoder)).toEqual(steps[upTo - 1]!.table);
      }
    });
    it("the encoder produces exactly the RFC's bytes", () => {
      const encoder = new HpackEncoder({ ...RFC_STYLE, huffman, maxTableSize: tableSize });
      // The peer (the RFC's decoder) is configured for this table size: nothing to announce.
      encoder.setMaxTableSize(tableSize);
      for (const step of steps) {
        const block = encoder.encode(flat(step.headers));
        // With tableSize < 4096 the first block starts with the size update our encoder owes; strip it.
        let wire = block.toString("hex");
        if (tableSize === 256 && step === steps[0]) {
          expect(wire.startsWith("3fe101")).toBe(true); // update to 256: 001 11111, 256 - 31 = 225 = e1 01
          wire = wire.slice(6);
        }
        expect(wire).toBe(step.wire.replace(/\s+/g, ""));
        expect(encoder.tableSize).toBe(step.size);
      }
    });
  });
}

runSequence("RFC 7541 C.3 requests without Huffman", C3, 4096, "never");
runSequence("RFC 7541 C.4 requests with Huffman", C4, 4096, "auto");
runSequence("RFC 7541 C.5 responses without Huffman (256-octet table, evictions)", C5, 256, "never");
runSequence("RFC 7541 C.6 responses with Huffman (256-octet table, evictions)", C6, 256, "auto");
