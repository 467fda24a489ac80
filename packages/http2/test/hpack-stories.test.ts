import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HpackDecoder, HpackEncoder, type HpackEncoderOptions, MAX_UINT32 } from "../src/index.js";

// The hpack-test-case corpus (github.com/http2jp/hpack-test-case), shared by the project in /work/shared. It is
// required: a missing folder fails the run instead of skipping it.
const ROOT = new URL("../../../../shared/testdata/hpack/", import.meta.url);

interface Case {
  seqno?: number;
  header_table_size?: number;
  wire?: string;
  headers: Record<string, string>[];
}
interface Story {
  file: string;
  cases: Case[];
}

function loadFolder(folder: string): Story[] {
  const dir = new URL(`${folder}/`, ROOT);
  const files = readdirSync(dir)
    .filter((f) => /^story_\d+\.json$/.test(f))
    .sort();
  return files.map((file) => ({
    file: `${folder}/${file}`,
    cases: (JSON.parse(readFileSync(new URL(file, dir), "utf8")) as { cases: Case[] }).cases,
  }));
}

/** Asserts `list.fields` equals `pairs` flattened; cheap when equal (tens of thousands of calls), a diff when not. */
function expectFields(actual: readonly string[], pairs: [string, string][], label: string): void {
  let same = actual.length === pairs.length * 2;
  for (let i = 0; same && i < pairs.length; i++) {
    same = actual[2 * i] === pairs[i]![0] && actual[2 * i + 1] === pairs[i]![1];
  }
  if (!same) expect([...actual], label).toEqual(pairs.flat());
}

function pairsOf(c: Case): [string, string][] {
  return c.headers.map((h) => {
    const entries = Object.entries(h);
    if (entries.length !== 1) throw new Error("a story header is one {name: value} object");
    return entries[0]!;
  });
}

const ENCODED = ["nghttp2", "go-hpack", "python-hpack", "nghttp2-16384-4096", "nghttp2-change-table-size"];
const STORIES = new Map(ENCODED.map((folder) => [folder, loadFolder(folder)]));
const RAW = loadFolder("raw-data");

describe("the corpus is there", () => {
  it("every folder holds its stories (31 or 32 each, 16,686 encoded blocks in all)", () => {
    for (const [folder, stories] of STORIES) expect(stories.length, folder).toBeGreaterThanOrEqual(31);
    expect(RAW.length).toBe(32);
    let cases = 0;
    for (const stories of STORIES.values()) for (const s of stories) cases += s.cases.length;
    expect(cases).toBe(16_686);
  });
});

for (const folder of ENCODED) {
  describe(`decode ${folder}`, () => {
    it.each(STORIES.get(folder)!.map((s) => [s.file, s] as const))("%s", (_file, story) => {
      // One decoder context per story, as the peer's encoder had one.
      const decoder = new HpackDecoder({ maxHeaderListSize: MAX_UINT32 });
      for (const c of story.cases) {
        // The case's SETTINGS_HEADER_TABLE_SIZE was sent and acknowledged before its block.
        if (c.header_table_size !== undefined) decoder.setMaxTableSize(c.header_table_size);
        const list = decoder.decode(Buffer.from(c.wire!, "hex"), 1);
        expectFields(list.fields, pairsOf(c), `${story.file} case ${c.seqno}`);
        if (decoder.tableSize > decoder.tableMaxSize) expect.fail("dynamic table over its maximum");
      }
    });
  });
}

/** Encodes every case of a story with one encoder and decodes it with one decoder: the lists must survive. */
function roundTrip(story: Story, options: HpackEncoderOptions, tableSizes?: readonly number[]): number {
  const encoder = new HpackEncoder(options);
  const decoder = new HpackDecoder({ maxHeaderListSize: MAX_UINT32 });
  let bytes = 0;
  story.cases.forEach((c, i) => {
    if (tableSizes !== undefined && i % 7 === 0) {
      // The decoding side changes SETTINGS_HEADER_TABLE_SIZE: the encoder applies it on receipt, the decoder
      // once it reads the ACK, which comes before the encoder's next block.
      const size = tableSizes[(i / 7) % tableSizes.length]!;
      encoder.setMaxTableSize(size);
      decoder.setMaxTableSize(size);
    }
    const pairs = pairsOf(c);
    const block = encoder.encode(pairs.flat());
    bytes += block.length;
    expectFields(decoder.decode(block, 1).fields, pairs, `${story.file} case ${i}`);
    if (decoder.tableSize !== encoder.tableSize) expect(decoder.tableSize).toBe(encoder.tableSize);
  });
  return bytes;
}

const VARIANTS: [string, HpackEncoderOptions, (readonly number[])?][] = [
  ["defaults", {}],
  ["no dynamic table", { maxTableSize: 0 }],
  ["no Huffman, index everything", { huffman: "never", noIndex: [] }],
  ["always Huffman, 256-octet table", { huffman: "always", maxTableSize: 256 }],
  [
    "64 KiB table, peer changes SETTINGS_HEADER_TABLE_SIZE every 7 blocks",
    { maxTableSize: 65_536 },
    [1365, 0, 65_536, 4096, 100, 256],
  ],
];

describe("encode -> decode round trips of raw-data header lists", () => {
  for (const [name, options, sizes] of VARIANTS) {
    it(name, () => {
      let bytes = 0;
      for (const story of RAW) bytes += roundTrip(story, options, sizes);
      expect(bytes).toBeGreaterThan(0);
    });
  }
  it("the dynamic table pays off: default encoding is smaller than with no table", () => {
    let withTable = 0;
    let without = 0;
    for (const story of RAW) {
      const a = new HpackEncoder();
      const b = new HpackEncoder({ maxTableSize: 0 });
      for (const c of story.cases) {
        const fields = pairsOf(c).flat();
        withTable += a.encode(fields).length;
        without += b.encode(fields).length;
      }
    }
    expect(withTable).toBeLessThan(without * 0.6);
  });
});

describe("encode -> decode round trips of every story's header lists", () => {
  for (const folder of ENCODED) {
    it(folder, () => {
      for (const story of STORIES.get(folder)!) roundTrip(story, {});
    });
  }
});
