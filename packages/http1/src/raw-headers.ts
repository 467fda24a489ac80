import { LOWER } from "./char-tables.js";
import { assertField } from "./field-checks.js";
import { latin1Slice } from "./latin1.js";

/**
 * The header (or trailer) fields of one message, kept as the bytes they arrived in plus offsets. Names and values
 * become strings only when asked for: building `[name, value]` pairs eagerly is the most expensive thing an
 * HTTP/1 parser can do in JavaScript, and most handlers read three or four headers of twenty.
 *
 * - `buffer` is this object's own copy of the bytes (one copy of the whole head, taken when the head was
 *   complete), so a RawHeaders outlives the socket chunk it was parsed from. For a request or response head it
 *   holds the start line too; offsets point past it.
 * - `offsets` holds four numbers per field, in wire order: `[nameStart, nameEnd, valueStart, valueEnd]`, byte
 *   offsets into `buffer`. Values exclude the optional whitespace around them (RFC 9112 5.1).
 * - Names keep their original casing; lookups ignore ASCII case. Values decode as latin1 (one char per byte), so
 *   obs-text survives a round trip; use {@link RawHeaders.valueBytes} to decode UTF-8 yourself.
 *
 * @example
 * ```ts
 * const h = RawHeaders.from([["Host", "example.com"], ["Accept", "text/plain"], ["accept", "text/html"]]);
 * h.count;            // 3
 * h.name(0);          // "Host"
 * h.get("ACCEPT");    // "text/plain, text/html"
 * [...h];             // [["Host", "example.com"], ["Accept", "text/plain"], ["accept", "text/html"]]
 * ```
 */
export class RawHeaders implements Iterable<[string, string]> {
  /** No fields. */
  static readonly EMPTY: RawHeaders = new RawHeaders(Buffer.alloc(0), new Int32Array(0), 0);

  /** The bytes the offsets point into (owned by this object). */
  readonly buffer: Buffer;
  /** `[nameStart, nameEnd, valueStart, valueEnd]` per field, into `buffer`. */
  readonly offsets: Int32Array;
  /** Number of fields. */
  readonly count: number;

  constructor(buffer: Buffer, offsets: Int32Array, count: number) {
    this.buffer = buffer;
    this.offsets = offsets;
    this.count = count;
  }

  /**
   * Builds a RawHeaders from strings, in the given order and casing. Throws
   * {@link InvalidOutgoingHeaderError} for a name that is not a token or a value with CR, LF or other controls.
   *
   * @example
   * ```ts
   * RawHeaders.from(["Content-Type", "text/plain", "X-Id", "7"]).get("x-id"); // "7"
   * ```
   */
  static from(fields: Iterable<readonly [string, string]> | readonly string[]): RawHeaders {
    const names: string[] = [];
    const values: string[] = [];
    if (isFlatList(fields)) {
      if (fields.length % 2 !== 0) throw new TypeError("a flat header list needs an even number of strings");
      for (let i = 0; i < fields.length; i += 2) {
        names.push(fields[i]!);
        values.push(fields[i + 1]!);
      }
    } else {
      for (const [name, value] of fields) {
        names.push(name);
        values.push(value);
      }
    }
    let size = 0;
    for (let i = 0; i < names.length; i++) {
      assertField(names[i]!, values[i]!);
      size += names[i]!.length + values[i]!.length;
    }
    const buffer = Buffer.allocUnsafe(size);
    const offsets = new Int32Array(names.length * 4);
    let pos = 0;
    for (let i = 0; i < names.length; i++) {
      offsets[i * 4] = pos;
      pos += buffer.write(names[i]!, pos, "latin1");
      offsets[i * 4 + 1] = pos;
      offsets[i * 4 + 2] = pos;
      pos += buffer.write(values[i]!, pos, "latin1");
      offsets[i * 4 + 3] = pos;
    }
    return new RawHeaders(buffer, offsets, names.length);
  }

  /** The name of field `i` (0-based, wire order) in its original casing. */
  name(i: number): string {
    const o = this.at(i);
    return latin1Slice(this.buffer, this.offsets[o]!, this.offsets[o + 1]!);
  }

  /** The value of field `i`, without surrounding whitespace, decoded as latin1. */
  value(i: number): string {
    const o = this.at(i);
    return latin1Slice(this.buffer, this.offsets[o + 2]!, this.offsets[o + 3]!);
  }

  /** The raw bytes of the value of field `i` (a view of `buffer`, not a copy). */
  valueBytes(i: number): Buffer {
    const o = this.at(i);
    return this.buffer.subarray(this.offsets[o + 2]!, this.offsets[o + 3]!);
  }

  /** True if field `i` is named `name`, ignoring ASCII case, without building a string. */
  nameIs(i: number, name: string): boolean {
    const o = this.at(i);
    return this.matches(o, name);
  }

  /** The index of the first field named `name` (any case) at or after `from`, or -1. */
  indexOf(name: string, from = 0): number {
    for (let i = Math.max(from, 0); i < this.count; i++) {
      if (this.matches(i * 4, name)) return i;
    }
    return -1;
  }

  /** True if a field named `name` (any case) is present. */
  has(name: string): boolean {
    return this.indexOf(name) !== -1;
  }

  /**
   * The value of the field named `name` (any case). Repeated fields are joined with `", "` as RFC 9110 5.3
   * allows for list-based fields; use {@link RawHeaders.getAll} for `Set-Cookie`, which must not be joined.
   */
  get(name: string): string | undefined {
    let i = this.indexOf(name);
    if (i === -1) return undefined;
    let result = this.value(i);
    for (i = this.indexOf(name, i + 1); i !== -1; i = this.indexOf(name, i + 1))
      result += ", " + this.value(i);
    return result;
  }

  /** Every value of the fields named `name` (any case), in wire order. */
  getAll(name: string): string[] {
    const result: string[] = [];
    for (let i = this.indexOf(name); i !== -1; i = this.indexOf(name, i + 1)) result.push(this.value(i));
    return result;
  }

  /** `[name, value]` pairs in wire order with original casing. */
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (let i = 0; i < this.count; i++) yield [this.name(i), this.value(i)];
  }

  /** All fields as `[name, value]` pairs (builds every string: prefer `get` on hot paths). */
  toArray(): [string, string][] {
    const result: [string, string][] = new Array(this.count);
    for (let i = 0; i < this.count; i++) result[i] = [this.name(i), this.value(i)];
    return result;
  }

  /** All fields as a flat `[name0, value0, name1, value1, ...]` list, the shape of Node's `rawHeaders`. */
  toFlatArray(): string[] {
    const result: string[] = new Array(this.count * 2);
    for (let i = 0; i < this.count; i++) {
      result[i * 2] = this.name(i);
      result[i * 2 + 1] = this.value(i);
    }
    return result;
  }

  private at(i: number): number {
    if (!(i >= 0 && i < this.count))
      throw new RangeError(`header index ${i} out of range (count ${this.count})`);
    return (i | 0) * 4;
  }

  /** Compares the name at offsets index `o` with `name`, folding ASCII case on both sides. */
  private matches(o: number, name: string): boolean {
    const start = this.offsets[o]!;
    const n = name.length;
    if (this.offsets[o + 1]! - start !== n) return false;
    const buf = this.buffer;
    for (let k = 0; k < n; k++) {
      const c = name.charCodeAt(k);
      if (c > 0xff || LOWER[buf[start + k]!] !== LOWER[c]) return false;
    }
    return true;
  }
}

function isFlatList(
  fields: Iterable<readonly [string, string]> | readonly string[],
): fields is readonly string[] {
  return Array.isArray(fields) && (fields.length === 0 || typeof fields[0] === "string");
}
