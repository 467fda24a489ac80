import type { HeaderSource } from "@tessera/http";

/**
 * A decoded header list: the fields of one header block in wire order (pseudo-headers first, as sent: their
 * order is part of a client's fingerprint), held as one flat array `[name0, value0, name1, value1, ...]`, the
 * cheapest shape to build. Names and values are latin1 strings (one char per octet, as HPACK carries octets).
 *
 * It is a `HeaderSource`, so `HeaderMap.fromSource(list)` wraps it without copying.
 *
 * HPACK checks nothing about HTTP: names may be empty or upper case, values may hold any octet. Checking the
 * fields against RFC 9113 8.2 (lower-case names, no connection-specific fields, pseudo-headers first and valid)
 * is the job of whoever turns the list into a request or response.
 *
 * @example
 * ```ts
 * const list = decoder.decode(block, 1);
 * list.get(":path"); // "/"
 * list.pairs(); // [[":method", "GET"], [":scheme", "https"], ...]
 * HeaderMap.fromSource(list).get("user-agent");
 * ```
 */
export class HeaderList implements HeaderSource {
  /** `[name0, value0, name1, value1, ...]` in wire order. */
  readonly fields: readonly string[];
  /** The size by RFC 9113 6.5.2: the octets of every name and value plus 32 per field. */
  readonly size: number;
  /**
   * Indices of the fields that came as never-indexed literals (RFC 7541 6.2.3). A proxy must forward them the
   * same way (RFC 7541 7.1.3): pass this array to `HpackEncoder.encode`.
   */
  readonly neverIndexed: readonly number[];

  constructor(fields: readonly string[], size: number, neverIndexed: readonly number[]) {
    this.fields = fields;
    this.size = size;
    this.neverIndexed = neverIndexed;
  }

  /** Number of fields. */
  get count(): number {
    return this.fields.length >>> 1;
  }

  /** Name of field `i` (wire order). */
  name(i: number): string {
    return this.fields[2 * i]!;
  }

  /** Value of field `i`. */
  value(i: number): string {
    return this.fields[2 * i + 1]!;
  }

  /** True if field `i` was sent as a never-indexed literal. */
  isNeverIndexed(i: number): boolean {
    return this.neverIndexed.includes(i);
  }

  /** The value of the first field named exactly `name` (HTTP/2 names are lower case), or undefined. */
  get(name: string): string | undefined {
    const f = this.fields;
    for (let i = 0; i < f.length; i += 2) if (f[i] === name) return f[i + 1];
    return undefined;
  }

  /** The fields as `[name, value]` pairs, in wire order. */
  pairs(): [string, string][] {
    const f = this.fields;
    const out: [string, string][] = new Array(f.length >>> 1);
    for (let i = 0; i < f.length; i += 2) out[i >>> 1] = [f[i]!, f[i + 1]!];
    return out;
  }
}
