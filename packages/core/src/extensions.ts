import { MissingExtensionError } from "./errors.js";

/**
 * A typed extension key. Two keys with the same name are the same key, even across copies of a package,
 * because the symbol comes from the global registry (`Symbol.for`). Name keys after their package:
 * `"tessera.net.PeerAddr"`.
 */
export interface Key<T> {
  readonly name: string;
  readonly symbol: symbol;
  /** Phantom field carrying the value type; never set. */
  readonly __type?: T;
}

/**
 * Make a typed extension key.
 *
 * @example
 * ```ts
 * const RequestId = key<string>("myapp.RequestId");
 * req.extensions.insert(RequestId, "abc");
 * req.extensions.get(RequestId); // "abc" (typed as string | undefined)
 * ```
 */
export function key<T>(name: string): Key<T> {
  return Object.freeze({ name, symbol: Symbol.for(name) }) as Key<T>;
}

// A value computed on first read (see `insertLazy`). A class, so `instanceof` tells it from any user value.
// `make` is called with `arg`, so a caller with per-input state passes a shared function and the state instead of
// making a closure per input.
class Lazy {
  readonly make: (arg: unknown) => unknown;
  readonly arg: unknown;
  constructor(make: (arg: unknown) => unknown, arg: unknown) {
    this.make = make;
    this.arg = arg;
  }
}

// The values of a key that was inserted more than once, oldest first. Most keys get one value, which is stored
// as it is: no array per insert on the hot path (every connection and request inserts a few).
class History {
  readonly values: unknown[];
  constructor(first: unknown, second: unknown) {
    this.values = [first, second];
  }
}

// `own` plus one [symbol, value] pair, in a new array of exactly that size. `push` would grow the backing store
// by ~16 spare slots (~130 bytes), held for the life of, say, an idle connection's extensions; lists are a few
// keys long, so the copy costs less than the slack.
function appendPair(own: unknown[], symbol: symbol, value: unknown): unknown[] {
  const n = own.length;
  const next = new Array<unknown>(n + 2);
  for (let k = 0; k < n; k++) next[k] = own[k];
  next[n] = symbol;
  next[n + 1] = value;
  return next;
}

// The newest value of the entry at `own[i]`, building a lazy value (once) and storing it back.
function newest(own: unknown[], i: number): unknown {
  const entry = own[i];
  if (entry instanceof History) {
    const values = entry.values;
    const last = values.length - 1;
    const value = values[last];
    if (!(value instanceof Lazy)) return value;
    const made = value.make(value.arg);
    values[last] = made;
    return made;
  }
  if (!(entry instanceof Lazy)) return entry;
  const made = entry.make(entry.arg);
  own[i] = made;
  return made;
}

// Where the entry of `symbol` is in `own` (a flat [symbol, entry, symbol, entry, ...] list), or -1.
function find(own: unknown[] | undefined, symbol: symbol): number {
  if (own === undefined) return -1;
  for (let i = 0; i < own.length; i += 2) if (own[i] === symbol) return i + 1;
  return -1;
}

/**
 * Typed, append-only state carried by every input (connections, requests, responses, calls).
 *
 * - `insert` appends and never removes: extensions are the breadcrumbs of what happened.
 * - `get` returns the newest value, `getAll` the whole history (oldest first), parents included.
 * - `fork()` makes a child that sees everything in its parent (now and later) while the parent never sees the
 *   child's inserts. Fork when one input becomes many (a connection's requests, an HTTP/2 connection's
 *   streams, the attempts of a retry, the hops of a redirect, the response to a request); share the same
 *   instance when one input is wrapped 1:1 (TLS over TCP, HTTP/1 over TLS).
 *
 * @example
 * ```ts
 * const conn = new Extensions().insert(PeerAddr, addr);
 * const req = conn.fork().insert(RequestId, "r1");
 * req.get(PeerAddr); // addr: seen through the parent
 * conn.get(RequestId); // undefined: requests don't leak into their connection
 * ```
 */
export class Extensions {
  readonly #parent: Extensions | undefined;
  // Created on first insert: most forks (one per request) are read and never written. A flat
  // [symbol, entry, ...] list, not a Map: an input carries a handful of keys per level, where a linear scan is
  // as fast as hashing and a Map costs hundreds of bytes (one per connection and per request).
  #own: unknown[] | undefined;

  constructor(parent?: Extensions) {
    this.#parent = parent;
  }

  /** Append a value for `key`; earlier values stay in the history. Returns `this` for chaining. */
  insert<T>(key: Key<T>, value: T): this {
    const own = this.#own;
    if (own === undefined) {
      this.#own = [key.symbol, value];
      return this;
    }
    const i = find(own, key.symbol);
    if (i < 0) this.#own = appendPair(own, key.symbol, value);
    else {
      const entry = own[i];
      if (entry instanceof History) entry.values.push(value);
      else own[i] = new History(entry, value);
    }
    return this;
  }

  /**
   * Append a value that is computed on first read (`get`, `require`, `getAll`), once. For values that cost
   * something to build and that most inputs never read: a connection's addresses, its cancellation signal.
   * `make` must not throw. It is called with `arg`: on a hot path, pass a shared function and the per-input state
   * rather than a new closure per input (a closure costs more memory than the value it makes).
   *
   * @example
   * ```ts
   * ext.insertLazy(SignalKey, signalOf, entry); // signalOf(entry) on first read
   * ```
   */
  insertLazy<T>(key: Key<T>, make: () => T): this;
  insertLazy<T, A>(key: Key<T>, make: (arg: A) => T, arg: A): this;
  insertLazy<T, A>(key: Key<T>, make: (arg: A) => T, arg?: A): this {
    return this.insert(key, new Lazy(make as (arg: unknown) => unknown, arg) as T);
  }

  /**
   * When the newest value for `key` (here or in a parent) is a lazy one that `make` makes (see `insertLazy`) and
   * that has not been made yet: its `arg`. Otherwise undefined (another value, a lazy one of another factory, or
   * one already made). Nothing is made. A reader with a cheaper way to the same answer uses it through `arg`:
   * net's listener lets a relay watch a connection's end through the connection itself rather than build its
   * AbortSignal, which costs tens of microseconds per connection once it is made, listened to and aborted.
   *
   * @example
   * ```ts
   * const entry = conn.extensions.lazyArg(SignalKey, entrySignal); // the listener's entry, or undefined
   * ```
   */
  lazyArg<A>(key: Key<unknown>, make: (arg: A) => unknown): A | undefined {
    let ext: Extensions | undefined = this;
    while (ext !== undefined) {
      const own = ext.#own;
      const i = find(own, key.symbol);
      if (i >= 0) {
        let entry = own![i];
        if (entry instanceof History) entry = entry.values[entry.values.length - 1];
        return entry instanceof Lazy && entry.make === make ? (entry.arg as A) : undefined;
      }
      ext = ext.#parent;
    }
    return undefined;
  }

  /** The newest value for `key`, here or in a parent. */
  get<T>(key: Key<T>): T | undefined {
    let ext: Extensions | undefined = this;
    while (ext !== undefined) {
      const own = ext.#own;
      const i = find(own, key.symbol);
      if (i >= 0) return newest(own!, i) as T;
      ext = ext.#parent;
    }
    return undefined;
  }

  /** The newest value for `key`, or a {@link MissingExtensionError} naming the key. */
  require<T>(key: Key<T>): T {
    let ext: Extensions | undefined = this;
    while (ext !== undefined) {
      const own = ext.#own;
      const i = find(own, key.symbol);
      if (i >= 0) return newest(own!, i) as T;
      ext = ext.#parent;
    }
    throw new MissingExtensionError(key.name);
  }

  /** Whether any value for `key` is present, here or in a parent. */
  has(key: Key<unknown>): boolean {
    let ext: Extensions | undefined = this;
    while (ext !== undefined) {
      if (find(ext.#own, key.symbol) >= 0) return true;
      ext = ext.#parent;
    }
    return false;
  }

  /** Every value for `key`, oldest first: the parent's history, then this one's. */
  getAll<T>(key: Key<T>): T[] {
    const parents = this.#parent?.getAll(key) ?? [];
    const own = this.#own;
    const i = find(own, key.symbol);
    if (i < 0) return parents;
    const entry = own![i];
    if (!(entry instanceof History)) {
      parents.push(newest(own!, i) as T);
      return parents;
    }
    const values = entry.values;
    for (let k = 0; k < values.length; k++) {
      const value = values[k];
      if (value instanceof Lazy) values[k] = value.make(value.arg);
    }
    return parents.concat(values as T[]);
  }

  /** A child that sees this instance; what the child inserts stays in the child. */
  fork(): Extensions {
    return new Extensions(this);
  }

  /** The parent this instance was forked from, if any. */
  get parent(): Extensions | undefined {
    return this.#parent;
  }
}

/**
 * The contract every input type implements so that generic layers (retry, hedge, redirects) can fork the
 * extensions of an input whose type they do not know.
 */
export interface Extensible {
  readonly extensions: Extensions;
  /** A shallow copy that shares the payload (stream, body) but carries `extensions` instead. */
  withExtensions(extensions: Extensions): this;
}

/** Copy `input` with forked extensions: what the copy's handlers insert stays out of `input`. */
export function forkInput<T extends Extensible>(input: T): T {
  return input.withExtensions(input.extensions.fork());
}
