/// <reference path="./types/hpack.js.d.ts" />
// (The reference makes the hpack.js declaration travel with this file to packages that compile our sources.)
import hpack, { type HpackBitDecoder, type HpackEntry, type HpackTable } from "hpack.js";
import { MAX_UINT32 } from "./constants.js";
import { Http2CompressionError, Http2HeaderListTooLargeError } from "./errors.js";
import { HeaderList } from "./header-list.js";

/** Options of an {@link HpackDecoder}. */
export interface HpackDecoderOptions {
  /**
   * Our SETTINGS_HEADER_TABLE_SIZE as the peer has acknowledged it: the largest dynamic table the peer's encoder
   * may use. Default 4096 (the protocol default). The table itself starts at 4096 octets, as on every HTTP/2
   * connection, so a smaller value here requires the peer's first block to start with a size update (the same as
   * calling {@link HpackDecoder.setMaxTableSize} right after construction). A connection normally starts with the
   * default and calls `setMaxTableSize` when the peer acknowledges our SETTINGS.
   */
  readonly maxTableSize?: number;
  /**
   * Largest header list accepted, counted as RFC 9113 6.5.2 does (name and value octets plus 32 per field);
   * usually the SETTINGS_MAX_HEADER_LIST_SIZE we advertise. Default 64 KiB.
   */
  readonly maxHeaderListSize?: number;
}

/** The default {@link HpackDecoderOptions.maxHeaderListSize}. */
export const DEFAULT_MAX_HEADER_LIST_SIZE = 64 * 1024;
const DEFAULT_TABLE_SIZE = 4096;

// hpack.js fails with plain Errors from its asserts, and with TypeErrors when it reads past the end of the input
// (its buffer indexes an array that has run out). Its messages, said the way RFC 7541 would say them:
const HPACK_JS_MESSAGES: Readonly<Record<string, string>> = {
  "Buffer too small for an int": "truncated integer",
  "Integer does not fit into 32 bits": "integer too large (more than 4 continuation octets)",
  "Not enough octets for string": "string longer than the rest of the block",
  "EOS in encoding": "Huffman string contains the EOS symbol",
  "8-bit EOS": "Huffman padding longer than 7 bits or ending inside a symbol",
  "Final sequence is not EOS": "Huffman padding is not the most significant bits of EOS",
};

function describe(err: unknown): string {
  if (err instanceof TypeError) return "header block ends inside a representation (truncated)";
  if (err instanceof Error) return HPACK_JS_MESSAGES[err.message] ?? err.message;
  return String(err);
}

interface Latin1Buffer {
  latin1Slice(start: number, end: number): string;
}

/** Octets as a latin1 string: a raw string arrives as a Buffer view, a Huffman-decoded one as an octet array. */
function latin1(octets: Buffer | number[]): string {
  if (!Array.isArray(octets)) return (octets as unknown as Latin1Buffer).latin1Slice(0, octets.length);
  if (octets.length <= 4096) return String.fromCharCode.apply(null, octets);
  let s = "";
  for (let i = 0; i < octets.length; i += 4096)
    s += String.fromCharCode.apply(null, octets.slice(i, i + 4096));
  return s;
}

/** A string literal (RFC 7541 5.2). */
function readString(bits: HpackBitDecoder): string {
  // An empty raw string is one zero octet. hpack.js would answer it with `new Buffer(0)`, whose deprecation
  // check walks the stack: a block of empty literals would cost microseconds per octet.
  if (bits.buffer.peekUInt8() === 0) {
    bits.buffer.readUInt8();
    return "";
  }
  return latin1(bits.decodeStr());
}

function checkSize(name: string, size: number): number {
  if (!Number.isInteger(size) || size < 0 || size > MAX_UINT32) {
    throw new RangeError(`${name} must be an integer in [0, 2^32-1], got ${String(size)}`);
  }
  return size;
}

/**
 * Decodes HPACK header blocks (RFC 7541) of one connection direction: one decoder per connection, fed every
 * complete header block in the order received (a block that is skipped desynchronizes the dynamic table).
 *
 * Built on hpack.js's integer, string and Huffman decoding and its tables, but not its `Decompressor`, which is
 * a stream that emits errors asynchronously and has no limits. On top it adds:
 *
 * - **A header-list size limit that stops early.** Fields are counted as they are decoded (name + value + 32
 *   per field); once the list passes `maxHeaderListSize` no further field is materialized, so an HPACK bomb (a
 *   small block that references one large dynamic-table entry thousands of times) costs a counter per byte,
 *   not a huge list. The rest of the block is still read, to keep the dynamic table in step with the peer's
 *   encoder, and then {@link Http2HeaderListTooLargeError} is thrown: a stream error, the connection goes on.
 * - **Dynamic table size updates checked against our setting** (RFC 7541 4.2, 6.3): an update larger than the
 *   acknowledged SETTINGS_HEADER_TABLE_SIZE, or after the first field of a block, is a COMPRESSION_ERROR; after
 *   the setting was lowered below the table's size, the next block must start with an update to at most the
 *   lowest value set in between.
 * - **Typed errors.** Every failure of hpack.js (truncated input, oversized integer, index 0 or past the table,
 *   Huffman EOS or bad padding) becomes an {@link Http2CompressionError}, a connection error; the decoder is
 *   dead afterwards and throws the same error on every call.
 *
 * Block sizes are bounded before they get here (by `HeaderBlockAssembler`), and the work done per block is
 * linear in its size.
 *
 * @example
 * ```ts
 * const decoder = new HpackDecoder({ maxHeaderListSize: 16384 });
 * const list = decoder.decode(Buffer.from("828684410f7777772e6578616d706c652e636f6d", "hex"), 1);
 * list.pairs(); // [[":method","GET"],[":scheme","http"],[":path","/"],[":authority","www.example.com"]]
 * ```
 */
export class HpackDecoder {
  readonly #bits: HpackBitDecoder = hpack.decoder.create();
  readonly #table: HpackTable;
  /** The acknowledged SETTINGS_HEADER_TABLE_SIZE. */
  #limit: number;
  /** The lowest limit since the last block (RFC 7541 4.2: the smallest size must be signaled). */
  #lowest: number;
  /** The limit dropped below the table's size: the next block must start with a size update. */
  #mustUpdate = false;
  #maxListSize: number;
  #failure: Http2CompressionError | null = null;

  constructor(options: HpackDecoderOptions = {}) {
    this.#maxListSize = checkSize(
      "maxHeaderListSize",
      options.maxHeaderListSize ?? DEFAULT_MAX_HEADER_LIST_SIZE,
    );
    // Every HTTP/2 connection starts with a 4096-octet table on both sides; the peer's encoder changes it only by
    // announcing a size update. So a different setting is applied as a change, exactly like setMaxTableSize.
    this.#table = hpack.table.create({ maxSize: DEFAULT_TABLE_SIZE });
    this.#limit = DEFAULT_TABLE_SIZE;
    this.#lowest = DEFAULT_TABLE_SIZE;
    this.setMaxTableSize(options.maxTableSize ?? DEFAULT_TABLE_SIZE);
  }

  /** The largest header list accepted (RFC 9113 6.5.2 size). Can be changed between blocks. */
  get maxHeaderListSize(): number {
    return this.#maxListSize;
  }

  set maxHeaderListSize(size: number) {
    this.#maxListSize = checkSize("maxHeaderListSize", size);
  }

  /** Current size of the dynamic table (sum of entry sizes, RFC 7541 4.1). */
  get tableSize(): number {
    return this.#table.size;
  }

  /** Current maximum size of the dynamic table, as last set by the peer's size updates. */
  get tableMaxSize(): number {
    return this.#table.maxSize;
  }

  /** Number of entries in the dynamic table. */
  get tableLength(): number {
    return this.#table.dynamic.length;
  }

  /**
   * Applies a new SETTINGS_HEADER_TABLE_SIZE of ours, once the peer has acknowledged it (RFC 9113 6.5.3: the
   * peer's encoder may use it from then on). If it is below the table's current maximum, the peer's next block
   * must begin with a dynamic table size update that brings it down.
   *
   * @example
   * ```ts
   * // We sent SETTINGS_HEADER_TABLE_SIZE = 1024 and the peer's SETTINGS ACK just arrived:
   * decoder.setMaxTableSize(1024);
   * ```
   */
  setMaxTableSize(size: number): void {
    checkSize("maxTableSize", size);
    this.#limit = size;
    this.#table.protocolMaxSize = size;
    if (size < this.#lowest) this.#lowest = size;
    if (this.#table.maxSize > size) this.#mustUpdate = true;
  }

  /**
   * Decodes one complete header block. `streamId` is only used to label errors (the stream of the HEADERS, or
   * the promised stream of a PUSH_PROMISE).
   *
   * Throws {@link Http2CompressionError} (connection error; the decoder is dead) for a malformed block, or
   * {@link Http2HeaderListTooLargeError} (stream error; the decoder stays usable) for a list over the limit.
   */
  decode(block: Uint8Array, streamId = 0): HeaderList {
    if (this.#failure !== null) throw this.#failure;
    const buf = Buffer.isBuffer(block)
      ? block
      : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    const bits = this.#bits;
    const input = bits.buffer;
    const table = this.#table;
    const maxListSize = this.#maxListSize;
    input.use(buf, 0, buf.length);
    bits.bitOffset = 0;

    let fields: string[] = [];
    let neverIndexed: number[] | null = null;
    let size = 0;
    let tooLarge = false;
    let inFields = false; // a field has been seen: no more size updates

    try {
      while (input.size > 0) {
        const first = input.peekUInt8();
        if (first >= 0x80) {
          // Indexed field (6.1): 1xxxxxxx, 7-bit index.
          if (!inFields) inFields = this.#startFields(streamId);
          bits.bitOffset = 1;
          const entry = this.#entry(bits.decodeInt(), streamId);
          size += entry.totalSize;
          if (tooLarge) continue;
          if (size > maxListSize) {
            tooLarge = true;
            fields = []; // stop materializing; let what was built go
            continue;
          }
          fields.push(entry.name, entry.value);
        } else if (first >= 0x20 && first < 0x40) {
          // Dynamic table size update (6.3): 001xxxxx, 5-bit size.
          bits.bitOffset = 3;
          this.#sizeUpdate(bits.decodeInt(), inFields, streamId);
        } else {
          // Literal (6.2): 01xxxxxx with incremental indexing (6-bit name index), 0000xxxx without indexing,
          // 0001xxxx never indexed (4-bit name index). Name index 0: the name follows as a string.
          if (!inFields) inFields = this.#startFields(streamId);
          const incremental = first >= 0x40;
          bits.bitOffset = incremental ? 2 : 4;
          const nameIndex = bits.decodeInt();
          let name: string;
          if (nameIndex === 0) {
            name = readString(bits);
          } else {
            name = this.#entry(nameIndex, streamId).name;
          }
          const value = readString(bits);
          // Latin1 strings have one char per octet, so lengths are octet counts.
          if (incremental) table.add(name, value, name.length, value.length);
          size += name.length + value.length + 32;
          if (tooLarge) continue;
          if (size > maxListSize) {
            tooLarge = true;
            fields = [];
            continue;
          }
          if (first < 0x20 && (first & 0x10) !== 0) {
            if (neverIndexed === null) neverIndexed = [];
            neverIndexed.push(fields.length >>> 1);
          }
          fields.push(name, value);
        }
      }
    } catch (err) {
      this.#failure =
        err instanceof Http2CompressionError
          ? err
          : new Http2CompressionError(`malformed header block: ${describe(err)}`, streamId, { cause: err });
      throw this.#failure;
    }
    if (this.#mustUpdate) {
      this.#failure = new Http2CompressionError(
        "header block does not start with the dynamic table size update required by a lower SETTINGS_HEADER_TABLE_SIZE",
        streamId,
      );
      throw this.#failure;
    }
    this.#lowest = this.#limit;
    if (tooLarge) throw new Http2HeaderListTooLargeError(maxListSize, streamId);
    return new HeaderList(fields, size, neverIndexed ?? NONE);
  }

  /** The first field of a block: any required size update must have come by now. */
  #startFields(streamId: number): true {
    if (this.#mustUpdate) {
      throw new Http2CompressionError(
        "header block does not start with the dynamic table size update required by a lower SETTINGS_HEADER_TABLE_SIZE",
        streamId,
      );
    }
    return true;
  }

  #sizeUpdate(size: number, inFields: boolean, streamId: number): void {
    if (inFields) {
      throw new Http2CompressionError("dynamic table size update after the first header field", streamId);
    }
    if (size > this.#limit) {
      throw new Http2CompressionError(
        `dynamic table size update to ${size} exceeds SETTINGS_HEADER_TABLE_SIZE ${this.#limit}`,
        streamId,
      );
    }
    if (size <= this.#lowest) this.#mustUpdate = false;
    this.#table.updateSize(size);
  }

  #entry(index: number, streamId: number): HpackEntry {
    const table = this.#table;
    if (index === 0) throw new Http2CompressionError("index 0 is not a table entry", streamId);
    if (index > table.length) {
      throw new Http2CompressionError(
        `index ${index} is past the end of the table (${table.length} entries, ${table.length - 61} dynamic)`,
        streamId,
      );
    }
    return table.lookup(index);
  }
}

const NONE: readonly number[] = Object.freeze([]);
