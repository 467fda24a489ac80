import { BodyChannel, type BodyChannelOptions } from "./body-channel.js";
import {
  BodyCancelledError,
  BodyConsumedError,
  BodyLengthMismatchError,
  BodyTooLargeError,
  InvalidBodyChunkError,
  InvalidJsonError,
} from "./errors.js";
import type { HeaderMap } from "./header-map.js";

/**
 * A pull source of body bytes: the low-level contract behind every streaming {@link Body}. Implement it to
 * feed a body from a protocol without an async iterator in between (see also {@link Body.channel}).
 */
export interface BodySource {
  /**
   * The next chunk, or undefined at the end. Called again only after the previous promise settled. Must not
   * resolve with an empty chunk.
   */
  read(): Promise<Uint8Array | undefined>;
  /** Stop producing: the consumer wants no more. Idempotent; a pending `read` should settle (reject). */
  cancel(reason: unknown): void;
  /** The trailer fields, read once `read` has resolved undefined. */
  readonly trailers?: HeaderMap | undefined;
}

/** Options of the streaming body constructors. */
export interface BodyOptions {
  /**
   * The exact number of bytes the body will produce (e.g. from Content-Length), or undefined if unknown. A
   * body that produces another number fails with {@link BodyLengthMismatchError} when read.
   */
  readonly length?: number | undefined;
  /** Trailer fields, or a function called once the body has ended that returns them. */
  readonly trailers?: HeaderMap | (() => HeaderMap | undefined) | undefined;
}

/** Options of {@link Body.text}, {@link Body.json} and {@link Body.bytes}. */
export interface ReadOptions {
  /**
   * The most bytes to read; a longer body fails with {@link BodyTooLargeError} (413) and is cancelled. Default
   * {@link DEFAULT_BODY_LIMIT}; pass `Infinity` to read whatever comes.
   */
  readonly limit?: number;
}

/** What a body can be made from (see {@link Body.from}). */
export type BodyInit =
  | Body
  | string
  | Uint8Array
  | ArrayBuffer
  | AsyncIterable<Uint8Array | string>
  | null
  | undefined;

/**
 * The default limit of `text()`, `json()` and `bytes()`: 2 MiB. Reading a whole body into memory is where an
 * unbounded peer would exhaust a server, so the helpers are bounded unless told otherwise.
 */
export const DEFAULT_BODY_LIMIT = 2 * 1024 * 1024;

const EMPTY_BYTES = new Uint8Array(0);
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

const KIND_EMPTY = 0;
const KIND_BYTES = 1;
const KIND_ITERABLE = 2;
const KIND_SOURCE = 3;

const FRESH = 0;
const READING = 1;
const ENDED = 2;
const CANCELLED = 3;

// Module-private hooks, so the iterator class below can report to its body without a public method.
const FINISH: unique symbol = Symbol("finish");
const FAIL: unique symbol = Symbol("fail");

function toChunk(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return Buffer.from(value, "utf8");
  throw new InvalidBodyChunkError(value);
}

function utf8(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  // Like the fetch `text()`: a leading byte order mark is not part of the text.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function ignore(): void {}

/**
 * An HTTP message body: a stream of bytes read once, pull-based (nothing is produced before the reader asks,
 * which is the backpressure), with a `length` when it is known, optional trailers, and cancellation that reaches
 * the producer.
 *
 * - Read it with `for await (const chunk of body)`, or whole with {@link Body.text}, {@link Body.json},
 *   {@link Body.bytes} (bounded by a limit). A second read throws {@link BodyConsumedError}. Chunks are never
 *   empty.
 * - {@link Body.cancel} tells the producer to stop (a handler that ignores a request body, a client that went
 *   away); breaking out of a `for await` loop does the same.
 * - Bodies made from a string or bytes hold just those bytes: no stream or iterator exists until one is asked
 *   for, and {@link Body.bytesIfBuffered} hands the bytes to a server so it can write them in the same socket
 *   write as the head.
 * - A protocol feeds a body it receives through {@link Body.channel}, which tells it when to stop reading.
 * - {@link Body.empty} is one shared instance that reads as nothing, any number of times.
 *
 * @example
 * ```ts
 * const body = Body.fromText("hello");
 * body.length; // 5
 * await body.text(); // "hello"
 * await body.text(); // throws BodyConsumedError
 *
 * const streamed = Body.fromIterable(async function* () { yield "a"; yield "b"; }());
 * for await (const chunk of streamed) console.log(chunk); // Uint8Array [97], Uint8Array [98]
 * ```
 */
export class Body implements AsyncIterable<Uint8Array> {
  /** The number of bytes the body holds or will produce, or undefined if unknown until it ends. */
  readonly length: number | undefined;
  readonly #kind: number;
  #state = FRESH;
  // KIND_BYTES: the bytes (and the string they were made from, if any).
  readonly #bytes: Uint8Array | undefined;
  readonly #text: string | undefined;
  // KIND_ITERABLE: the iterable; KIND_SOURCE: the source.
  readonly #iterable: AsyncIterable<unknown> | undefined;
  #source: BodySource | undefined;
  readonly #trailerOption: BodyOptions["trailers"];
  #trailers: HeaderMap | undefined = undefined;

  private constructor(
    kind: number,
    length: number | undefined,
    bytes: Uint8Array | undefined,
    text: string | undefined,
    iterable: AsyncIterable<unknown> | undefined,
    source: BodySource | undefined,
    trailers: BodyOptions["trailers"],
  ) {
    if (length !== undefined && !(Number.isSafeInteger(length) && length >= 0)) {
      throw new RangeError(`a body length must be a non-negative integer, got ${String(length)}`);
    }
    this.#kind = kind;
    this.length = length;
    this.#bytes = bytes;
    this.#text = text;
    this.#iterable = iterable;
    this.#source = source;
    this.#trailerOption = trailers;
  }

  static readonly #EMPTY: Body = new Body(KIND_EMPTY, 0, EMPTY_BYTES, "", undefined, undefined, undefined);

  /**
   * The empty body (length 0): one shared instance, readable any number of times.
   *
   * @example
   * ```ts
   * Body.empty().length; // 0
   * ```
   */
  static empty(): Body {
    return Body.#EMPTY;
  }

  /**
   * A body of the UTF-8 bytes of `text`. The bytes are encoded once, here; `text()` returns the original string.
   *
   * @example
   * ```ts
   * Body.fromText("héllo").length; // 6
   * ```
   */
  static fromText(text: string): Body {
    if (text.length === 0) return Body.#EMPTY;
    const bytes = Buffer.from(text, "utf8");
    return new Body(KIND_BYTES, bytes.byteLength, bytes, text, undefined, undefined, undefined);
  }

  /**
   * A body of `bytes` (not copied: do not modify them afterwards).
   *
   * @example
   * ```ts
   * Body.fromBytes(new Uint8Array([1, 2, 3])).bytesIfBuffered(); // Uint8Array [1, 2, 3]
   * ```
   */
  static fromBytes(bytes: Uint8Array): Body {
    if (!(bytes instanceof Uint8Array)) throw new InvalidBodyChunkError(bytes);
    return new Body(KIND_BYTES, bytes.byteLength, bytes, undefined, undefined, undefined, undefined);
  }

  /**
   * A body of `JSON.stringify(value)`. Throws a `TypeError` for values JSON cannot represent (`undefined`, a
   * function).
   *
   * @example
   * ```ts
   * await Body.fromJson({ ok: true }).text(); // '{"ok":true}'
   * ```
   */
  static fromJson(value: unknown): Body {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`cannot encode ${typeof value} as JSON`);
    return Body.fromText(text);
  }

  /**
   * A streaming body pulled from an async iterable: an async generator, a Node `Readable` (an
   * `IncomingMessage`, a file stream), or a web `ReadableStream`. Each chunk is read when the consumer asks for
   * it; strings are UTF-8 encoded and empty chunks skipped. Cancelling stops the iterator (`return()`), destroys
   * a `Readable` and cancels a `ReadableStream`.
   *
   * @example
   * ```ts
   * Body.fromIterable(fs.createReadStream("big.bin"), { length: size });
   * ```
   */
  static fromIterable(iterable: AsyncIterable<Uint8Array | string>, options?: BodyOptions): Body {
    if (typeof iterable?.[Symbol.asyncIterator] !== "function")
      throw new TypeError("Body.fromIterable needs an async iterable");
    return new Body(
      KIND_ITERABLE,
      options?.length,
      undefined,
      undefined,
      iterable,
      undefined,
      options?.trailers,
    );
  }

  /**
   * A streaming body over a {@link BodySource} (the low-level pull contract; most code wants
   * {@link Body.fromIterable} or {@link Body.channel}).
   *
   * @example
   * ```ts
   * let sent = false;
   * const once = Body.fromSource({
   *   read: () => Promise.resolve(sent ? undefined : ((sent = true), new Uint8Array([1]))),
   *   cancel() {},
   * });
   * ```
   */
  static fromSource(source: BodySource, options?: BodyOptions): Body {
    return new Body(KIND_SOURCE, options?.length, undefined, undefined, undefined, source, options?.trailers);
  }

  /**
   * A body fed by a producer, for protocol implementations: the producer `push`es chunks as they arrive and
   * learns when to stop reading (push returns false) and when to go on (`onDrain`). See {@link BodyChannel}.
   *
   * @example
   * ```ts
   * // In an HTTP/1 server, per request with a body:
   * const channel = Body.channel({ length: head.contentLength, listener: connection });
   * // parser.onBody(data):           if (!channel.push(data)) socket.pause();
   * // connection.onDrain(channel):   socket.resume();
   * // parser.onMessageComplete(t):   channel.end(t ? HeaderMap.fromSource(t) : undefined);
   * // connection.onCancel(channel):  discard the rest of this body (or close)
   * ```
   */
  static channel(options?: BodyChannelOptions): BodyChannel {
    const channel = new BodyChannel(options);
    (channel as { body: Body }).body = Body.fromSource(channel, { length: options?.length });
    return channel;
  }

  /**
   * `init` as a body: a Body as is; a string, bytes or ArrayBuffer buffered; an async iterable streamed;
   * null or undefined empty. `options` apply to a streamed body.
   *
   * @example
   * ```ts
   * Body.from("hi").length; // 2
   * Body.from(null) === Body.empty(); // true
   * ```
   */
  static from(init: BodyInit, options?: BodyOptions): Body {
    if (init === undefined || init === null) return Body.#EMPTY;
    if (init instanceof Body) return init;
    if (typeof init === "string") return Body.fromText(init);
    if (init instanceof Uint8Array) return Body.fromBytes(init);
    if (init instanceof ArrayBuffer) return Body.fromBytes(new Uint8Array(init));
    if (typeof (init as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
      return Body.fromIterable(init as AsyncIterable<Uint8Array | string>, options);
    }
    throw new TypeError(`cannot make a body from ${typeof init}`);
  }

  /** True once the body has been read (or started to be) or cancelled. Always false for {@link Body.empty}. */
  get consumed(): boolean {
    return this.#state !== FRESH;
  }

  /** True if the body was cancelled before it ended. */
  get cancelled(): boolean {
    return this.#state === CANCELLED;
  }

  /**
   * The trailer fields, once the body has been read to its end (undefined before, and if there were none).
   *
   * @example
   * ```ts
   * await res.body.bytes();
   * res.body.trailers?.get("grpc-status");
   * ```
   */
  get trailers(): HeaderMap | undefined {
    return this.#trailers;
  }

  /**
   * The bytes of a buffered body (made from a string or bytes, and the empty body) that has not been read;
   * undefined for a streaming body. Does not consume: a server writes these bytes with the head in one socket
   * write, and a constant response can be served many times.
   *
   * @example
   * ```ts
   * const bytes = res.body.bytesIfBuffered();
   * if (bytes !== undefined) socket.write(Buffer.concat([head, bytes])); // one write
   * else for await (const chunk of res.body) socket.write(chunk);
   * ```
   */
  bytesIfBuffered(): Uint8Array | undefined {
    return this.#kind <= KIND_BYTES && this.#state === FRESH ? this.#bytes : undefined;
  }

  /**
   * Read the whole body as bytes, up to `limit` (see {@link ReadOptions}). A buffered body's own bytes are
   * returned, not a copy.
   *
   * @example
   * ```ts
   * const bytes = await req.body.bytes({ limit: 64 * 1024 }); // BodyTooLargeError (413) past 64 KiB
   * ```
   */
  bytes(options?: ReadOptions): Promise<Uint8Array> {
    const limit = options?.limit ?? DEFAULT_BODY_LIMIT;
    if (this.#kind <= KIND_BYTES) {
      const error = this.#takeBuffered(limit);
      return error === undefined ? Promise.resolve(this.#bytes!) : Promise.reject(error);
    }
    if (this.length !== undefined && this.length > limit) return this.#refuse(limit);
    let source: BodySource;
    try {
      source = this.#open();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#collect(source, limit);
  }

  /**
   * Read the whole body as UTF-8 text (a leading BOM dropped), up to `limit` bytes.
   *
   * @example
   * ```ts
   * const text = await req.body.text();
   * ```
   */
  text(options?: ReadOptions): Promise<string> {
    if (this.#text !== undefined) {
      const error = this.#takeBuffered(options?.limit ?? DEFAULT_BODY_LIMIT);
      return error === undefined ? Promise.resolve(this.#text) : Promise.reject(error);
    }
    return this.bytes(options).then(utf8);
  }

  /**
   * Read the whole body and parse it as JSON, up to `limit` bytes. Invalid JSON fails with
   * {@link InvalidJsonError} (400).
   *
   * @example
   * ```ts
   * const { name } = await req.body.json<{ name: string }>();
   * ```
   */
  json<T = unknown>(options?: ReadOptions): Promise<T> {
    return this.text(options).then(parseJson<T>);
  }

  /**
   * Stop the body: the producer is told to stop (an iterator's `return()`, a stream destroyed, a channel's
   * `onCancel`), buffered chunks are dropped, and a later read throws {@link BodyCancelledError}. Nothing
   * happens if the body has already ended, and the empty body cannot be cancelled.
   *
   * @example
   * ```ts
   * // A handler that answers without reading an upload:
   * req.body.cancel();
   * return Response.empty(413);
   * ```
   */
  cancel(reason?: unknown): void {
    if (this.#kind === KIND_EMPTY || this.#state === ENDED || this.#state === CANCELLED) return;
    const wasFresh = this.#state === FRESH;
    this.#state = CANCELLED;
    const why = reason ?? new BodyCancelledError();
    if (this.#source !== undefined) this.#source.cancel(why);
    else if (wasFresh && this.#iterable !== undefined) cancelIterable(this.#iterable, why);
  }

  /**
   * Iterate the chunks (never empty). Breaking out of the loop cancels the body. Throws
   * {@link BodyConsumedError} if the body was already read.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return new BodyIterator(this, this.#open(), this.length);
  }

  /** Claim the body for reading and return its source. */
  #open(): BodySource {
    if (this.#kind === KIND_EMPTY) return EMPTY_SOURCE;
    if (this.#state !== FRESH) {
      throw this.#state === CANCELLED ? new BodyCancelledError() : new BodyConsumedError();
    }
    this.#state = READING;
    if (this.#kind === KIND_BYTES) return new BytesSource(this.#bytes!);
    if (this.#kind === KIND_ITERABLE) this.#source = new IterableSource(this.#iterable!);
    return this.#source!;
  }

  /** Consume a buffered body at once: undefined, or the error to reject with. */
  #takeBuffered(limit: number): Error | undefined {
    if (this.#kind === KIND_EMPTY) return undefined;
    if (this.#state !== FRESH)
      return this.#state === CANCELLED ? new BodyCancelledError() : new BodyConsumedError();
    if (this.#bytes!.byteLength > limit) {
      this.#state = CANCELLED;
      return new BodyTooLargeError(limit);
    }
    this.#state = READING;
    this[FINISH](undefined);
    return undefined;
  }

  #refuse(limit: number): Promise<never> {
    const error = new BodyTooLargeError(limit);
    // The declared length is over the limit: refuse before reading a byte, and tell the producer to stop.
    if (this.#state === FRESH) this.cancel(error);
    else
      return Promise.reject(this.#state === CANCELLED ? new BodyCancelledError() : new BodyConsumedError());
    return Promise.reject(error);
  }

  async #collect(source: BodySource, limit: number): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const length = this.length;
    try {
      for (;;) {
        const chunk = await source.read();
        if (chunk === undefined) break;
        total += chunk.byteLength;
        if (total > limit) throw new BodyTooLargeError(limit);
        if (length !== undefined && total > length) throw new BodyLengthMismatchError(length, total);
        chunks.push(chunk);
      }
      if (length !== undefined && total !== length) throw new BodyLengthMismatchError(length, total);
    } catch (error) {
      this[FAIL](source, error);
      throw error;
    }
    this[FINISH](source);
    if (chunks.length === 1) return chunks[0]!;
    return Buffer.concat(chunks, total);
  }

  /** @internal The source ended: record the trailers. */
  [FINISH](source: BodySource | undefined): void {
    if (this.#kind === KIND_EMPTY) return;
    this.#state = ENDED;
    const option = this.#trailerOption;
    this.#trailers = source?.trailers ?? (typeof option === "function" ? option() : option);
  }

  /** @internal Reading failed or stopped early: stop the producer. */
  [FAIL](source: BodySource, reason: unknown): void {
    if (this.#kind === KIND_EMPTY || this.#state === ENDED || this.#state === CANCELLED) return;
    this.#state = CANCELLED;
    source.cancel(reason);
  }
}

function parseJson<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new InvalidJsonError({ cause: error });
  }
}

const EMPTY_SOURCE: BodySource = {
  read: () => Promise.resolve(undefined),
  cancel: ignore,
};

/** The one chunk of a buffered body, made only when someone iterates it. */
class BytesSource implements BodySource {
  #bytes: Uint8Array | undefined;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes.byteLength > 0 ? bytes : undefined;
  }
  read(): Promise<Uint8Array | undefined> {
    const bytes = this.#bytes;
    this.#bytes = undefined;
    return Promise.resolve(bytes);
  }
  cancel(): void {
    this.#bytes = undefined;
  }
}

/** Adapts an async iterable; the iterator is created on the first read. */
class IterableSource implements BodySource {
  readonly #iterable: AsyncIterable<unknown>;
  #iterator: AsyncIterator<unknown> | undefined = undefined;
  #cancelled: unknown = undefined;
  #isCancelled = false;

  constructor(iterable: AsyncIterable<unknown>) {
    this.#iterable = iterable;
  }

  read(): Promise<Uint8Array | undefined> {
    if (this.#isCancelled) return Promise.reject(new BodyCancelledError({ cause: this.#cancelled }));
    this.#iterator ??= this.#iterable[Symbol.asyncIterator]();
    return this.#iterator.next().then(this.#onResult, this.#onError);
  }

  readonly #onResult = (
    result: IteratorResult<unknown>,
  ): Uint8Array | undefined | Promise<Uint8Array | undefined> => {
    if (this.#isCancelled) throw new BodyCancelledError({ cause: this.#cancelled });
    if (result.done === true) return undefined;
    const chunk = toChunk(result.value);
    // An empty chunk would end a chunked HTTP/1 body early ("0\r\n\r\n"): never pass one on.
    return chunk.byteLength === 0 ? this.read() : chunk;
  };

  readonly #onError = (error: unknown): never => {
    if (this.#isCancelled) throw new BodyCancelledError({ cause: this.#cancelled });
    throw error;
  };

  cancel(reason: unknown): void {
    if (this.#isCancelled) return;
    this.#isCancelled = true;
    this.#cancelled = reason;
    const iterator = this.#iterator;
    if (iterator === undefined) {
      cancelIterable(this.#iterable, reason);
      return;
    }
    // A stream is destroyed directly too: its iterator's return() would wait for a pending read.
    const destroy = (this.#iterable as { destroy?: unknown }).destroy;
    if (typeof destroy === "function") (this.#iterable as unknown as { destroy(): void }).destroy();
    try {
      iterator.return?.().then(ignore, ignore);
    } catch {
      // A broken iterator must not break cancellation.
    }
  }
}

/** Stop an iterable nobody has started reading: destroy a Readable, cancel a ReadableStream, return() others. */
function cancelIterable(iterable: AsyncIterable<unknown>, reason: unknown): void {
  try {
    const candidate = iterable as { destroy?: unknown; cancel?: unknown; locked?: unknown };
    if (typeof candidate.destroy === "function") {
      // Without an error: a Readable destroyed with one emits 'error', fatal if nobody listens.
      (iterable as unknown as { destroy(): void }).destroy();
    } else if (typeof candidate.cancel === "function" && typeof candidate.locked === "boolean") {
      (iterable as unknown as { cancel(r: unknown): Promise<void> }).cancel(reason).then(ignore, ignore);
    } else {
      iterable[Symbol.asyncIterator]().return?.().then(ignore, ignore);
    }
  } catch {
    // Cancellation is best effort on foreign iterables.
  }
}

/** The async iterator of a body: checks the declared length and reports the end or an early stop. */
class BodyIterator implements AsyncIterator<Uint8Array> {
  readonly #body: Body;
  readonly #source: BodySource;
  readonly #length: number | undefined;
  #received = 0;
  #done = false;

  constructor(body: Body, source: BodySource, length: number | undefined) {
    this.#body = body;
    this.#source = source;
    this.#length = length;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#done) return Promise.resolve(DONE);
    return this.#source.read().then(this.#onChunk, this.#onError);
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.#done) {
      this.#done = true;
      // The consumer stopped early (break, throw): the producer must stop too.
      this.#body[FAIL](this.#source, new BodyCancelledError());
    }
    return Promise.resolve(DONE);
  }

  readonly #onChunk = (chunk: Uint8Array | undefined): IteratorResult<Uint8Array> => {
    const length = this.#length;
    if (chunk === undefined) {
      this.#done = true;
      if (length !== undefined && this.#received !== length) {
        throw this.#fail(new BodyLengthMismatchError(length, this.#received));
      }
      this.#body[FINISH](this.#source);
      return DONE;
    }
    this.#received += chunk.byteLength;
    if (length !== undefined && this.#received > length) {
      throw this.#fail(new BodyLengthMismatchError(length, this.#received));
    }
    return { done: false, value: chunk };
  };

  readonly #onError = (error: unknown): never => {
    throw this.#fail(error);
  };

  #fail(error: unknown): unknown {
    this.#done = true;
    this.#body[FAIL](this.#source, error);
    return error;
  }
}
