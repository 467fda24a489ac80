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
class Lazy {
  readonly make: () => unknown;
  constructor(make: () => unknown) {
    this.make = make;
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

// The newest value of a map entry, building a lazy value (once) and storing it back.
function newest(own: Map<symbol, unknown>, symbol: symbol, entry: unknown): unknown {
  if (entry instanceof History) {
    const values = entry.values;
    const i = values.length - 1;
    const value = values[i];
    if (!(value instanceof Lazy)) return value;
    const made = value.make();
    values[i] = made;
    return made;
  }
  if (!(entry instanceof Lazy)) return entry;
  const made = entry.make();
  own.set(symbol, made);
  return made;
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
  // Created on first insert: most forks (one per request) are read and never written.
  #own: Map<symbol, unknown> | undefined;

  constructor(parent?: Extensions) {
    this.#parent = parent;
  }

  /** Append a value for `key`; earlier values stay in the history. Returns `this` for chaining. */
  insert<T>(key: Key<T>, value: T): this {
    let own = this.#own;
    if (own === undefined) {
      own = new Map();
      this.#own = own;
    }
    const symbol = key.symbol;
    const entry = own.get(symbol);
    if (entry instanceof History) entry.values.push(value);
    else if (entry !== undefined || own.has(symbol)) own.set(symbol, new History(entry, value));
    else own.set(symbol, value);
    return this;
  }

  /**
   * Append a value that is computed on first read (`get`, `require`, `getAll`), once. For values that cost
   * something to build and that most inputs never read: a connection's addresses, its cancellation signal.
   * `make` must not throw.
   */
  insertLazy<T>(key: Key<T>, make: () => T): this {
    return this.insert(key, new Lazy(make) as T);
  }

  /** The newest value for `key`, here or in a parent. */
  get<T>(key: Key<T>): T | undefined {
    let ext: Extensions | undefined = this;
    while (ext !== undefined) {
      const own = ext.#own;
      if (own !== undefined) {
        const entry = own.get(key.symbol);
        if (entry !== undefined || own.has(key.symbol)) return newest(own, key.symbol, entry) as T;
      }
      ext = ext.#parent;
    }
    return undefined;
  }

  /** The newest value for `key`, or a {@link MissingExtensionError} naming the key. */
  require<T>(key: Key<T>): T {
    let ext: Extensions | undefined = this;
    while (ext !== undefined) {
      const own = ext.#own;
      if (own !== undefined) {
        const entry = own.get(key.symbol);
        if (entry !== undefined || own.has(key.symbol)) return newest(own, key.symbol, entry) as T;
      }
      ext = ext.#parent;
    }
    throw new MissingExtensionError(key.name);
  }

  /** Whether any value for `key` is present, here or in a parent. */
  has(key: Key<unknown>): boolean {
    let ext: Extensions | undefined = this;
    while (ext !== undefined) {
      if (ext.#own?.has(key.symbol)) return true;
      ext = ext.#parent;
    }
    return false;
  }

  /** Every value for `key`, oldest first: the parent's history, then this one's. */
  getAll<T>(key: Key<T>): T[] {
    const parents = this.#parent?.getAll(key) ?? [];
    const own = this.#own;
    if (own === undefined || !own.has(key.symbol)) return parents;
    const entry = own.get(key.symbol);
    if (!(entry instanceof History)) {
      parents.push(newest(own, key.symbol, entry) as T);
      return parents;
    }
    const values = entry.values;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value instanceof Lazy) values[i] = value.make();
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
