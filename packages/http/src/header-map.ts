import { assertHeaderName, assertHeaderValue, namesEqual } from "./header-validation.js";

/**
 * Where a {@link HeaderMap} can read its fields from without copying them: a count and indexed accessors, in
 * wire order. `@tessera/http1`'s `RawHeaders` is one (it makes each string from the received bytes only when
 * asked); an HTTP/2 decoder can be another. `nameIs`, when present, compares a name without building the string.
 *
 * A source must not change after it is given to a HeaderMap, and must hold valid fields: a parser's output is
 * trusted, not checked again.
 */
export interface HeaderSource {
  /** Number of fields. */
  readonly count: number;
  /** Name of field `i` (0-based, wire order), original casing. */
  name(i: number): string;
  /** Value of field `i`. */
  value(i: number): string;
  /** True if field `i` is named `name`, ignoring ASCII case (optional fast path: no string is built). */
  nameIs?(i: number, name: string): boolean;
  /**
   * The index of the first field named `name` (ignoring ASCII case) at or after `from`, or -1 (optional, faster
   * than `nameIs` per field: one call per lookup). `RawHeaders` has it.
   */
  indexOf?(name: string, from: number): number;
}

let adopt: (names: string[], values: string[]) => HeaderMap;

/** What {@link HeaderMap.from} (and Request/Response factories) accept as headers. */
export type HeadersInit =
  | HeaderMap
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | number | readonly string[] | undefined>>;

/**
 * HTTP header fields: an ordered multimap that keeps each field's original casing and wire order, with
 * case-insensitive lookups. It is a list of fields, not a map of names: `size` counts fields and iteration yields
 * each field, so `Set-Cookie` lines and repeated `Via` lines survive a round trip exactly.
 *
 * Lazy: a map made with {@link HeaderMap.fromSource} reads from its source (e.g. offsets into the received
 * bytes) and builds only the strings a caller asks for; the first mutation copies the fields into its own
 * arrays. Every mutation validates (names are tokens, values have no CR/LF/NUL/controls), so a map can always
 * be written to the wire without injection.
 *
 * `get` joins repeated fields with `", "` (RFC 9110 5.3), except `Cookie`, joined with `"; "` (the separator of
 * cookie pairs; HTTP/2 splits one Cookie header into several fields, RFC 9113 8.2.3). `Set-Cookie` values cannot
 * be joined safely (their dates contain commas): `get("set-cookie")` joins them with `", "` like the fetch
 * `Headers.get`, but read them with {@link HeaderMap.getAll} or {@link HeaderMap.getSetCookie}.
 *
 * @example
 * ```ts
 * const h = HeaderMap.fromPairs([["Content-Type", "text/plain"], ["Via", "a"], ["via", "b"]]);
 * h.get("content-type"); // "text/plain"
 * h.get("VIA"); // "a, b"
 * h.append("Set-Cookie", "a=1");
 * h.set("Via", "c"); // replaces both Via fields, at the position of the first
 * [...h]; // [["Content-Type", "text/plain"], ["Via", "c"], ["Set-Cookie", "a=1"]]
 * h.append("X-Bad", "1\r\nInjected: yes"); // throws InvalidHeaderValueError
 * ```
 */
export class HeaderMap implements Iterable<[string, string]>, HeaderSource {
  static {
    adopt = (names, values) => {
      const map = new HeaderMap();
      map.#names = names;
      map.#values = values;
      return map;
    };
  }

  // States: materialized when #values is set (then #names is too and #source is unused); otherwise the fields
  // are read from #source (none when undefined), with #names an optional cache of the source's names, built
  // once when the source has no `nameIs`.
  #source: HeaderSource | undefined = undefined;
  #names: string[] | undefined = undefined;
  #values: string[] | undefined = undefined;
  // Lower-case copies of #names, built on the first lookup that needs them and kept in step by mutations:
  // comparing a lower-cased key with `===` is about three times faster than folding case per character.
  #lower: string[] | undefined = undefined;
  // The arrays are shared with a clone (copy-on-write): copy them before writing.
  #shared = false;

  /**
   * An empty map, or one holding the fields of `init` (validated). See {@link HeaderMap.from}.
   *
   * @example
   * ```ts
   * new HeaderMap({ "content-type": "text/plain", "set-cookie": ["a=1", "b=2"] }).size; // 3
   * ```
   */
  constructor(init?: HeadersInit) {
    if (init !== undefined) {
      const names: string[] = [];
      const values: string[] = [];
      collect(init, names, values);
      this.#names = names;
      this.#values = values;
    }
  }

  /**
   * A map over `source` that builds no string until one is asked for (the hot path of a server: a handler reads
   * a few of twenty headers). The source is trusted (not validated) and must not change afterwards.
   *
   * @example
   * ```ts
   * // In an HTTP/1 server: head.headers is a RawHeaders over the received bytes.
   * const headers = HeaderMap.fromSource(head.headers);
   * headers.get("host"); // the only value decoded
   * ```
   */
  static fromSource(source: HeaderSource): HeaderMap {
    const map = new HeaderMap();
    if (source.count > 0) map.#source = source;
    return map;
  }

  /**
   * A map of `[name, value]` pairs in the given order and casing (validated).
   *
   * @example
   * ```ts
   * HeaderMap.fromPairs([["Accept", "text/html"], ["Accept", "*\/*"]]).getAll("accept"); // ["text/html", "*\/*"]
   * ```
   */
  static fromPairs(pairs: Iterable<readonly [string, string]>): HeaderMap {
    return new HeaderMap(pairs);
  }

  /**
   * A map from an object, in its key order: an array value adds one field per element, `undefined` is skipped,
   * a number becomes its decimal string (the shape of Node's `OutgoingHttpHeaders`). Validated.
   *
   * @example
   * ```ts
   * HeaderMap.fromObject({ "Content-Length": 2, "Set-Cookie": ["a=1", "b=2"] }).size; // 3
   * ```
   */
  static fromObject(
    object: Readonly<Record<string, string | number | readonly string[] | undefined>>,
  ): HeaderMap {
    return new HeaderMap(object);
  }

  /**
   * A map from a flat `[name0, value0, name1, value1, ...]` list (the shape of Node's `rawHeaders`). Validated.
   *
   * @example
   * ```ts
   * HeaderMap.fromFlat(["Host", "example.com", "Accept", "*\/*"]).get("host"); // "example.com"
   * ```
   */
  static fromFlat(list: readonly string[]): HeaderMap {
    if (list.length % 2 !== 0) throw new TypeError("a flat header list needs an even number of strings");
    const names: string[] = new Array(list.length / 2);
    const values: string[] = new Array(list.length / 2);
    for (let i = 0, j = 0; i < list.length; i += 2, j++) {
      const name = list[i]!;
      const value = list[i + 1]!;
      assertHeaderName(name);
      assertHeaderValue(name, value);
      names[j] = name;
      values[j] = value;
    }
    const map = new HeaderMap();
    map.#names = names;
    map.#values = values;
    return map;
  }

  /**
   * `init` as a HeaderMap: the same instance if it is one already (not copied), otherwise a new validated map.
   *
   * @example
   * ```ts
   * const h = HeaderMap.from([["X-Id", "7"]]);
   * HeaderMap.from(h) === h; // true
   * ```
   */
  static from(init: HeadersInit | undefined): HeaderMap {
    if (init instanceof HeaderMap) return init;
    return new HeaderMap(init);
  }

  /** Number of fields (a name repeated three times counts three). */
  get size(): number {
    const values = this.#values;
    if (values !== undefined) return values.length;
    return this.#source?.count ?? 0;
  }

  /** Same as {@link HeaderMap.size}; with {@link HeaderMap.name} and {@link HeaderMap.value} it makes a map a {@link HeaderSource}. */
  get count(): number {
    return this.size;
  }

  /**
   * The source this map reads from, if it has not been mutated since it was made with
   * {@link HeaderMap.fromSource}; otherwise undefined. A proxy can forward the received bytes of an untouched
   * header section instead of serializing strings.
   */
  get source(): HeaderSource | undefined {
    return this.#values === undefined ? this.#source : undefined;
  }

  /**
   * The name of field `i` (0-based, wire order) in its original casing. With {@link HeaderMap.value} it lets a
   * serializer walk the fields without allocating a pair per field.
   *
   * @example
   * ```ts
   * for (let i = 0; i < h.size; i++) out += `${h.name(i)}: ${h.value(i)}\r\n`;
   * ```
   */
  name(i: number): string {
    this.#check(i);
    const names = this.#names;
    return names !== undefined ? names[i]! : this.#source!.name(i);
  }

  /** The value of field `i` (0-based, wire order). */
  value(i: number): string {
    this.#check(i);
    return this.#valueAt(i);
  }

  /** True if field `i` is named `name`, ignoring ASCII case. */
  nameIs(i: number, name: string): boolean {
    this.#check(i);
    const names = this.#names;
    if (names !== undefined) return namesEqual(names[i]!, name);
    const source = this.#source!;
    return source.nameIs !== undefined ? source.nameIs(i, name) : namesEqual(source.name(i), name);
  }

  /**
   * The value of the fields named `name` (any case), joined with `", "` (`"; "` for Cookie), or undefined. See
   * the class notes on Set-Cookie.
   *
   * @example
   * ```ts
   * HeaderMap.fromFlat(["Cookie", "a=1", "cookie", "b=2"]).get("cookie"); // "a=1; b=2"
   * ```
   */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    const first = this.#find(key, 0);
    if (first < 0) return undefined;
    let result = this.#valueAt(first);
    let next = this.#find(key, first + 1);
    if (next < 0) return result;
    const separator = key === "cookie" ? "; " : ", ";
    do {
      result += separator + this.#valueAt(next);
      next = this.#find(key, next + 1);
    } while (next >= 0);
    return result;
  }

  /**
   * Every value of the fields named `name` (any case), in wire order; empty if none.
   *
   * @example
   * ```ts
   * HeaderMap.fromFlat(["Set-Cookie", "a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "Set-Cookie", "b=2"])
   *   .getAll("set-cookie"); // both cookies, intact
   * ```
   */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    const result: string[] = [];
    for (let i = this.#find(key, 0); i >= 0; i = this.#find(key, i + 1)) result.push(this.#valueAt(i));
    return result;
  }

  /** The `Set-Cookie` values, one per field (as the fetch `Headers.getSetCookie`). */
  getSetCookie(): string[] {
    return this.getAll("set-cookie");
  }

  /** True if a field named `name` (any case) is present. */
  has(name: string): boolean {
    return this.#find(name.toLowerCase(), 0) >= 0;
  }

  /**
   * Replace every field named `name` (any case) with one field `name: value`, at the position of the first (at
   * the end if there was none). Validates both; throws {@link InvalidHeaderNameError} or
   * {@link InvalidHeaderValueError}. Returns `this`.
   *
   * @example
   * ```ts
   * h.set("Content-Type", "application/json");
   * ```
   */
  set(name: string, value: string): this {
    assertHeaderName(name);
    assertHeaderValue(name, value);
    this.#materialize();
    const key = name.toLowerCase();
    const first = this.#find(key, 0);
    if (first < 0) {
      this.#push(name, key, value);
      return this;
    }
    this.#names![first] = name;
    this.#values![first] = value;
    this.#removeFrom(key, first + 1);
    return this;
  }

  /**
   * Add a field at the end, keeping any fields of the same name. Validates both (see {@link HeaderMap.set}).
   * Returns `this`.
   *
   * @example
   * ```ts
   * h.append("Set-Cookie", "a=1").append("Set-Cookie", "b=2");
   * ```
   */
  append(name: string, value: string): this {
    assertHeaderName(name);
    assertHeaderValue(name, value);
    this.#materialize();
    this.#push(name, undefined, value);
    return this;
  }

  /**
   * Remove every field named `name` (any case). Returns true if one was removed.
   *
   * @example
   * ```ts
   * h.delete("x-powered-by");
   * ```
   */
  delete(name: string): boolean {
    const key = name.toLowerCase();
    const first = this.#find(key, 0);
    if (first < 0) return false;
    this.#materialize();
    this.#removeFrom(key, first);
    return true;
  }

  /**
   * An independent copy. Cheap: it shares the source or the arrays until either map is mutated.
   *
   * @example
   * ```ts
   * const copy = h.clone();
   * copy.set("x", "1"); // h is unchanged
   * ```
   */
  clone(): HeaderMap {
    const copy = new HeaderMap();
    copy.#source = this.#source;
    copy.#names = this.#names;
    copy.#values = this.#values;
    copy.#lower = this.#lower;
    if (this.#values !== undefined) {
      copy.#shared = true;
      this.#shared = true;
    }
    return copy;
  }

  /** `[name, value]` for each field, in wire order with the original casing. */
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (let i = 0; i < this.size; i++) yield [this.name(i), this.#valueAt(i)];
  }

  /** Same as iterating the map. */
  entries(): IterableIterator<[string, string]> {
    return this[Symbol.iterator]();
  }

  /** The fields as ordered `[name, value]` pairs: lossless (casing, order and repeats kept). */
  toJSON(): [string, string][] {
    const n = this.size;
    const result: [string, string][] = new Array(n);
    for (let i = 0; i < n; i++) result[i] = [this.name(i), this.#valueAt(i)];
    return result;
  }

  /**
   * The fields as an object keyed by lower-case name, each value as {@link HeaderMap.get} gives it (repeats
   * joined). Lossy for Set-Cookie; use {@link HeaderMap.toJSON} to keep every field.
   *
   * @example
   * ```ts
   * HeaderMap.fromFlat(["Via", "a", "VIA", "b"]).toObject(); // { via: "a, b" }
   * ```
   */
  toObject(): Record<string, string> {
    const result = new Map<string, string>();
    for (let i = 0; i < this.size; i++) {
      const key = this.name(i).toLowerCase();
      if (!result.has(key)) result.set(key, this.get(key)!);
    }
    // fromEntries defines properties, so a field named "__proto__" stays a field.
    return Object.fromEntries(result);
  }

  /** `console.log` shows the fields, not an empty object (the state is in private fields). */
  [Symbol.for("nodejs.util.inspect.custom")](
    _depth: number,
    options: unknown,
    inspect: (value: unknown, options: unknown) => string,
  ): string {
    return `HeaderMap ${inspect(this.toJSON(), options)}`;
  }

  #check(i: number): void {
    if (!(i >= 0 && i < this.size))
      throw new RangeError(`header index ${i} out of range (size ${this.size})`);
  }

  #valueAt(i: number): string {
    const values = this.#values;
    return values !== undefined ? values[i]! : this.#source!.value(i);
  }

  /** Index of the first field whose lower-cased name is `key` at or after `from`, or -1. */
  #find(key: string, from: number): number {
    let lower = this.#lower;
    if (lower === undefined) {
      let names = this.#names;
      if (names === undefined) {
        const source = this.#source;
        if (source === undefined) return -1;
        if (source.indexOf !== undefined) return from < source.count ? source.indexOf(key, from) : -1;
        const n = source.count;
        if (source.nameIs !== undefined) {
          // Compare the source's bytes: no string is built for a name that is not asked for.
          for (let i = from; i < n; i++) if (source.nameIs(i, key)) return i;
          return -1;
        }
        // No byte-level compare: build the names once (values stay lazy).
        names = new Array<string>(n);
        for (let i = 0; i < n; i++) names[i] = source.name(i);
        this.#names = names;
      }
      lower = new Array<string>(names.length);
      for (let i = 0; i < names.length; i++) lower[i] = names[i]!.toLowerCase();
      this.#lower = lower;
    }
    for (let i = from; i < lower.length; i++) if (lower[i] === key) return i;
    return -1;
  }

  /** Own the fields as arrays before a mutation. */
  #materialize(): void {
    if (this.#values !== undefined) {
      if (this.#shared) {
        this.#names = this.#names!.slice();
        this.#values = this.#values.slice();
        this.#lower = this.#lower?.slice();
        this.#shared = false;
      }
      return;
    }
    const source = this.#source;
    const n = source?.count ?? 0;
    const cached = this.#names;
    const names: string[] = new Array(n);
    const values: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      names[i] = cached !== undefined ? cached[i]! : source!.name(i);
      values[i] = source!.value(i);
    }
    this.#names = names;
    this.#values = values;
    // A lower-case index built from the cache may be shared with a clone: build a fresh one when needed.
    this.#lower = undefined;
    this.#source = undefined;
  }

  /** Append a field (materialized state), keeping the lower-case index in step if it exists. */
  #push(name: string, key: string | undefined, value: string): void {
    this.#names!.push(name);
    this.#values!.push(value);
    this.#lower?.push(key ?? name.toLowerCase());
  }

  /** Remove the fields whose lower-cased name is `key` at or after `from` (materialized state). */
  #removeFrom(key: string, from: number): void {
    const names = this.#names!;
    const values = this.#values!;
    let lower = this.#lower;
    if (lower === undefined) {
      this.#find(key, 0); // builds the index
      lower = this.#lower!;
    }
    let w = from;
    for (let r = from; r < names.length; r++) {
      if (lower[r] === key) continue;
      names[w] = names[r]!;
      values[w] = values[r]!;
      lower[w] = lower[r]!;
      w++;
    }
    names.length = w;
    values.length = w;
    lower.length = w;
  }
}

function collect(init: HeadersInit, names: string[], values: string[]): void {
  if (init instanceof HeaderMap) {
    for (let i = 0; i < init.size; i++) {
      names.push(init.name(i));
      values.push(init.value(i));
    }
    return;
  }
  if (typeof (init as Iterable<unknown>)[Symbol.iterator] === "function") {
    for (const pair of init as Iterable<readonly [string, string]>) {
      if (!Array.isArray(pair) || pair.length !== 2)
        throw new TypeError("a header pair must be a [name, value] array");
      const [name, value] = pair as readonly [string, string];
      assertHeaderName(name);
      assertHeaderValue(name, value);
      names.push(name);
      values.push(value);
    }
    return;
  }
  const object = init as Readonly<Record<string, string | number | readonly string[] | undefined>>;
  for (const name of Object.keys(object)) {
    const value = object[name];
    if (value === undefined) continue;
    assertHeaderName(name);
    if (Array.isArray(value)) {
      for (const item of value as readonly string[]) {
        assertHeaderValue(name, item);
        names.push(name);
        values.push(item);
      }
    } else {
      const text = typeof value === "number" ? String(value) : (value as string);
      assertHeaderValue(name, text);
      names.push(name);
      values.push(text);
    }
  }
}

/**
 * A map that takes ownership of `names` and `values` without validating them: for constant fields this package
 * sets itself (the Content-Type of `Response.text`). Not exported from the package.
 */
export function trustedHeaderMap(names: string[], values: string[]): HeaderMap {
  return adopt(names, values);
}
