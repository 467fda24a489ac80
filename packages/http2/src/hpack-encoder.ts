/// <reference path="./types/hpack.js.d.ts" />
// (The reference makes the hpack.js declaration travel with this file to packages that compile our sources.)
import hpack, { type HpackTable } from "hpack.js";
import { MAX_UINT32 } from "./constants.js";
import { InvalidOutgoingHeaderError } from "./errors.js";

/** Options of an {@link HpackEncoder}. */
export interface HpackEncoderOptions {
  /**
   * The largest dynamic table we keep, whatever the peer allows (each entry costs memory on both sides). The
   * table used is the smaller of this and the peer's SETTINGS_HEADER_TABLE_SIZE. Default 4096.
   */
  readonly maxTableSize?: number;
  /**
   * When to Huffman-code strings: `"auto"` (default) when that is no longer than the raw octets, `"always"`, or
   * `"never"` (cheaper to encode; emulating a client that does so).
   */
  readonly huffman?: "auto" | "always" | "never";
  /**
   * Names sent as never-indexed literals (RFC 7541 7.1.3), so no intermediary compresses them either. Default
   * `authorization` and `proxy-authorization`. Independently, `cookie` values shorter than
   * `cookieNeverIndexedBelow` are never indexed (short cookies can be guessed through compression ratios).
   */
  readonly neverIndex?: Iterable<string>;
  /** `cookie` values shorter than this many octets are sent never-indexed. Default 20 (nghttp2's rule); 0: none. */
  readonly cookieNeverIndexedBelow?: number;
  /**
   * Names whose fields are not added to the dynamic table, because their values rarely repeat and would only
   * evict useful entries. Default nghttp2's list: `:path`, `age`, `content-length`, `etag`,
   * `if-modified-since`, `if-none-match`, `location`, `set-cookie`.
   */
  readonly noIndex?: Iterable<string>;
}

const DEFAULT_NEVER_INDEX: readonly string[] = ["authorization", "proxy-authorization"];
const DEFAULT_NO_INDEX: readonly string[] = [
  ":path",
  "age",
  "content-length",
  "etag",
  "if-modified-since",
  "if-none-match",
  "location",
  "set-cookie",
];
const PEER_DEFAULT_TABLE_SIZE = 4096;

// Our own index of the static table. hpack.js's reverse lookup reads a plain object keyed by header name, so a
// field named "constructor" or "__proto__" hits Object.prototype: `constructor: length` comes out as the
// indexed field 1 (":authority: ") and `__proto__` throws. A Map has no such keys.
const STATIC_NAME = new Map<string, number>();
const STATIC_FIELD = new Map<string, Map<string, number>>();
{
  const table = hpack["static-table"].table;
  for (let i = 0; i < table.length; i++) {
    const { name, value } = table[i]!;
    if (!STATIC_NAME.has(name)) STATIC_NAME.set(name, i + 1);
    let values = STATIC_FIELD.get(name);
    if (values === undefined) {
      values = new Map();
      STATIC_FIELD.set(name, values);
    }
    if (!values.has(value)) values.set(value, i + 1);
  }
}
// The Huffman code (RFC 7541 Appendix B) from hpack.js: bit length and code of each octet.
const HUFFMAN_BITS: readonly number[] = hpack.huffman.encode.slice(0, 256).map((code) => code[0]);
const HUFFMAN_CODE: readonly number[] = hpack.huffman.encode.slice(0, 256).map((code) => code[1]);
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find what is not latin1
const NOT_LATIN1 = /[^\u0000-\u00ff]/;

function checkSize(name: string, size: number): number {
  if (!Number.isInteger(size) || size < 0 || size > MAX_UINT32) {
    throw new RangeError(`${name} must be an integer in [0, 2^32-1], got ${String(size)}`);
  }
  return size;
}

/**
 * Encodes header lists into HPACK blocks (RFC 7541) for one connection direction: one encoder per connection,
 * its blocks sent in the order they were encoded.
 *
 * Built on hpack.js's static table, Huffman code and dynamic table (insertion, eviction, sizes), with our own
 * choice of representation, table-size handling and byte output (hpack.js's `Compressor` evicts without telling
 * the peer when the size shrinks, cannot grow past its initial size, misencodes names like `constructor`, and
 * is a stream):
 *
 * - fields go out in the given order (pseudo-header order is part of a fingerprint);
 * - an exact match in the static or dynamic table is sent as an index; otherwise a literal, with the name
 *   indexed when possible, added to the table unless its name is in `noIndex`, it is sensitive, or it would
 *   take more than 3/4 of the table;
 * - sensitive fields (`neverIndex` names, short cookies, and any index passed in `neverIndexed`) are sent as
 *   never-indexed literals and never matched against the table;
 * - {@link HpackEncoder.setMaxTableSize} applies the peer's SETTINGS_HEADER_TABLE_SIZE; the dynamic table size
 *   update(s) it requires open the next block (the lowest size in between first, RFC 7541 4.2).
 *
 * Names are sent as given: HTTP/2 requires lower case, which is the caller's business. Strings are latin1
 * (one octet per char); a char above U+00FF is refused with {@link InvalidOutgoingHeaderError}.
 *
 * @example
 * ```ts
 * const encoder = new HpackEncoder();
 * const block = encoder.encode([":method", "GET", ":scheme", "https", ":authority", "example.com", ":path", "/"]);
 * // later, when the peer's SETTINGS say SETTINGS_HEADER_TABLE_SIZE = 0:
 * encoder.setMaxTableSize(0); // the next block starts with a size update to 0
 * ```
 */
export class HpackEncoder {
  readonly #table: HpackTable;
  readonly #cap: number;
  readonly #huffman: "auto" | "always" | "never";
  readonly #neverIndex: ReadonlySet<string>;
  readonly #noIndex: ReadonlySet<string>;
  readonly #cookieBelow: number;
  /** Size updates owed to the peer's decoder: the lowest size since the last block (or -1: none owed). */
  #owedLowest = -1;
  /** Scratch output, reused across blocks (each block is copied out of it once). */
  #out: Buffer = Buffer.allocUnsafe(1024);
  #pos = 0;

  constructor(options: HpackEncoderOptions = {}) {
    this.#cap = checkSize("maxTableSize", options.maxTableSize ?? PEER_DEFAULT_TABLE_SIZE);
    const huffman = options.huffman ?? "auto";
    if (huffman !== "auto" && huffman !== "always" && huffman !== "never") {
      throw new TypeError(`huffman must be "auto", "always" or "never", got ${String(huffman)}`);
    }
    this.#huffman = huffman;
    this.#neverIndex = new Set(options.neverIndex ?? DEFAULT_NEVER_INDEX);
    this.#noIndex = new Set(options.noIndex ?? DEFAULT_NO_INDEX);
    this.#cookieBelow = options.cookieNeverIndexedBelow ?? 20;
    // The peer's decoder starts at the protocol default; a smaller cap of ours is announced in the first block.
    this.#table = hpack.table.create({ maxSize: PEER_DEFAULT_TABLE_SIZE });
    this.setMaxTableSize(PEER_DEFAULT_TABLE_SIZE);
  }

  /** Current size of the dynamic table (sum of entry sizes). */
  get tableSize(): number {
    return this.#table.size;
  }

  /** Current maximum size of the dynamic table: min(our cap, the peer's SETTINGS_HEADER_TABLE_SIZE). */
  get tableMaxSize(): number {
    return this.#table.maxSize;
  }

  /** Number of entries in the dynamic table. */
  get tableLength(): number {
    return this.#table.dynamic.length;
  }

  /**
   * Applies the peer's SETTINGS_HEADER_TABLE_SIZE (from its SETTINGS frame; it takes effect at once on our
   * side). The table is resized now, and the next block starts with the size update(s) the peer's decoder needs.
   */
  setMaxTableSize(peerSize: number): void {
    checkSize("peer SETTINGS_HEADER_TABLE_SIZE", peerSize);
    const size = Math.min(this.#cap, peerSize);
    const table = this.#table;
    if (size === table.maxSize && this.#owedLowest < 0) return;
    table.protocolMaxSize = Math.max(size, table.maxSize);
    table.updateSize(size);
    table.protocolMaxSize = size;
    this.#owedLowest = this.#owedLowest < 0 ? size : Math.min(this.#owedLowest, size);
  }

  /**
   * Encodes one header list, given flat as `[name0, value0, name1, value1, ...]`, into one header block.
   * `neverIndexed` lists field indices to send as never-indexed literals on top of the configured ones (a proxy
   * passes the `neverIndexed` of the `HeaderList` it forwards).
   */
  encode(fields: readonly string[], neverIndexed?: readonly number[]): Buffer {
    if ((fields.length & 1) !== 0) throw new TypeError("fields must hold name, value pairs (an even length)");
    this.#pos = 0;
    const table = this.#table;
    if (this.#owedLowest >= 0) {
      // RFC 7541 4.2: signal the smallest size reached since the last block, then the current one.
      this.#reserve(12);
      if (this.#owedLowest < table.maxSize) this.#writeInt(0x20, 5, this.#owedLowest);
      this.#writeInt(0x20, 5, table.maxSize);
      this.#owedLowest = -1;
    }
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      if (typeof name !== "string" || typeof value !== "string") {
        throw new InvalidOutgoingHeaderError(String(name), "names and values must be strings");
      }
      if (NOT_LATIN1.test(name) || NOT_LATIN1.test(value)) {
        throw new InvalidOutgoingHeaderError(
          name,
          "it holds a character above U+00FF (encode it to octets first)",
        );
      }
      this.#encodeField(name, value, this.#isSensitive(name, value, i >>> 1, neverIndexed));
    }
    // One right-sized copy out of the scratch buffer (small ones come from Node's allocation pool).
    const block = Buffer.allocUnsafe(this.#pos);
    this.#out.copy(block, 0, 0, this.#pos);
    return block;
  }

  /**
   * {@link HpackEncoder.encode} for `[name, value]` pairs.
   *
   * @example
   * ```ts
   * encoder.encodePairs([[":status", "200"], ["content-type", "text/plain"]]);
   * ```
   */
  encodePairs(pairs: Iterable<readonly [string, string]>): Buffer {
    const fields: string[] = [];
    for (const [name, value] of pairs) fields.push(name, value);
    return this.encode(fields);
  }

  #isSensitive(name: string, value: string, index: number, extra: readonly number[] | undefined): boolean {
    if (this.#neverIndex.has(name)) return true;
    if (name === "cookie" && value.length < this.#cookieBelow) return true;
    return extra !== undefined && extra.length > 0 && extra.includes(index);
  }

  #encodeField(name: string, value: string, sensitive: boolean): void {
    // Room for the worst case: two 5-octet integers and two strings of up to 30 Huffman bits per octet.
    this.#reserve(16 + 4 * (name.length + value.length));
    const table = this.#table;
    if (!sensitive) {
      const staticIndex = STATIC_FIELD.get(name)?.get(value);
      if (staticIndex !== undefined) {
        this.#writeInt(0x80, 7, staticIndex); // indexed field (6.1)
        return;
      }
    }
    // Newest dynamic entries first: an exact match (unless sensitive: a match would reveal the value), and the
    // newest entry with this name as a fallback for the name index.
    const dynamic = table.dynamic;
    let dynamicName = 0;
    for (let k = dynamic.length - 1; k >= 0; k--) {
      const entry = dynamic[k]!;
      if (entry.name !== name) continue;
      if (!sensitive && entry.value === value) {
        this.#writeInt(0x80, 7, table.length - k);
        return;
      }
      if (dynamicName === 0) {
        dynamicName = table.length - k;
        if (sensitive) break;
      }
    }
    const nameIndex = STATIC_NAME.get(name) ?? dynamicName;
    const indexing =
      !sensitive && !this.#noIndex.has(name) && (name.length + value.length + 32) * 4 <= table.maxSize * 3;
    // Literal (6.2): 01 + 6-bit name index with incremental indexing, 0001 + 4 bits never indexed, 0000 + 4 bits
    // without indexing; name index 0 means the name follows as a string.
    if (indexing) this.#writeInt(0x40, 6, nameIndex);
    else this.#writeInt(sensitive ? 0x10 : 0x00, 4, nameIndex);
    if (nameIndex === 0) this.#writeString(name);
    this.#writeString(value);
    if (indexing) table.add(name, value, name.length, value.length);
  }

  // The bytes are written here rather than with hpack.js's bit encoder: that one builds on WBuf, which calls the
  // deprecated `new Buffer()` for every block, and Node's deprecation check behind it (a stack walk) took a third
  // of the encoding time. Integers and the Huffman code are simple enough to write octet by octet.

  /** Grows the scratch buffer so that `n` more bytes fit. */
  #reserve(n: number): void {
    if (this.#pos + n <= this.#out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#out.length * 2, this.#pos + n));
    this.#out.copy(grown, 0, 0, this.#pos);
    this.#out = grown;
  }

  /** An integer with an N-bit prefix (RFC 7541 5.1) in an octet whose high bits are `flags`. */
  #writeInt(flags: number, prefixBits: number, value: number): void {
    const out = this.#out;
    let pos = this.#pos;
    const max = (1 << prefixBits) - 1;
    if (value < max) {
      out[pos++] = flags | value;
    } else {
      out[pos++] = flags | max;
      let rest = value - max;
      while (rest >= 0x80) {
        out[pos++] = (rest & 0x7f) | 0x80;
        rest = Math.floor(rest / 0x80);
      }
      out[pos++] = rest;
    }
    this.#pos = pos;
  }

  /** A string literal (RFC 7541 5.2), Huffman-coded when that is shorter (or as configured). */
  #writeString(s: string): void {
    const length = s.length;
    let bits = 0;
    if (this.#huffman !== "never") for (let i = 0; i < length; i++) bits += HUFFMAN_BITS[s.charCodeAt(i)]!;
    const huffmanLength = Math.ceil(bits / 8);
    if (this.#huffman === "never" || (this.#huffman === "auto" && huffmanLength > length)) {
      this.#writeInt(0x00, 7, length);
      this.#pos += (this.#out as unknown as Latin1Buffer).latin1Write(s, this.#pos, length);
      return;
    }
    this.#writeInt(0x80, 7, huffmanLength);
    const out = this.#out;
    let pos = this.#pos;
    let acc = 0; // pending bits, fewer than 8
    let accBits = 0;
    for (let i = 0; i < length; i++) {
      const c = s.charCodeAt(i);
      const code = HUFFMAN_CODE[c]!;
      let n = HUFFMAN_BITS[c]!;
      while (n > 0) {
        const take = Math.min(8 - accBits, n);
        n -= take;
        acc = (acc << take) | ((code >>> n) & ((1 << take) - 1));
        accBits += take;
        if (accBits === 8) {
          out[pos++] = acc;
          acc = 0;
          accBits = 0;
        }
      }
    }
    // Pad with the most significant bits of EOS, which are all ones (5.2).
    if (accBits > 0) out[pos++] = (acc << (8 - accBits)) | (0xff >>> accBits);
    this.#pos = pos;
  }
}

interface Latin1Buffer {
  latin1Write(s: string, offset: number, length: number): number;
}
