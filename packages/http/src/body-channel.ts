import type { Body, BodySource } from "./body.js";
import { BodyCancelledError, InvalidBodyChunkError } from "./errors.js";
import type { HeaderMap } from "./header-map.js";

/**
 * What a {@link BodyChannel} tells its producer. Methods, not closures: one object (say, the HTTP/1 connection)
 * can listen to every channel it creates, so a request body costs no closure. Each gets the channel it is about.
 */
export interface BodyChannelListener {
  /**
   * The consumer has read enough that the buffer is below the high-water mark again, after `push` returned
   * false: resume reading (`socket.resume()`).
   */
  onDrain?(channel: BodyChannel): void;
  /**
   * The consumer took a chunk of `bytes` bytes from the buffer. An HTTP/2 stream counts these to send
   * WINDOW_UPDATE for what the application has actually consumed.
   */
  onRead?(channel: BodyChannel, bytes: number): void;
  /**
   * The consumer cancelled the body before it ended (the handler does not want it, the client went away):
   * stop producing. HTTP/1 discards the rest of the body or closes the connection; HTTP/2 sends RST_STREAM.
   */
  onCancel?(channel: BodyChannel, reason: unknown): void;
}

/** Options of {@link Body.channel}. */
export interface BodyChannelOptions {
  /**
   * Bytes buffered (pushed but not yet read) at which `push` starts returning false. Default 64 KiB. The buffer
   * holds at most this plus one chunk when the producer obeys `push`.
   */
  readonly highWaterMark?: number;
  /** The declared length of the body (Content-Length), if known. */
  readonly length?: number | undefined;
  /** Who is told about drain, reads and cancellation. */
  readonly listener?: BodyChannelListener | undefined;
}

const OPEN = 0;
const ENDED = 1;
const ERRORED = 2;
const CANCELLED = 3;

/**
 * The producer side of a body a protocol receives: the parser pushes chunks, the handler pulls them through
 * `channel.body`.
 *
 * Contract for the producer (backpressure):
 * - `push(chunk)` hands over a chunk (not copied: it must not be reused afterwards). It returns false once the
 *   unread bytes reach the high-water mark: stop reading the source (pause the socket, withhold WINDOW_UPDATE)
 *   until the listener's `onDrain` is called. Pushing on is allowed but buffers without bound.
 * - `end(trailers?)` once the body is complete; `error(e)` if it cannot complete (connection lost, framing
 *   error): the reader's pending and later reads reject with `e`.
 * - `onCancel` means the reader gave up: stop and discard; further pushes are ignored and return false.
 *
 * A chunk pushed while the reader is waiting goes straight to it, without being buffered.
 *
 * @example
 * ```ts
 * const channel = Body.channel({ highWaterMark: 16 * 1024, listener: { onDrain: () => socket.resume() } });
 * socket.on("data", (data) => { if (!channel.push(data)) socket.pause(); });
 * socket.on("end", () => channel.end());
 * return new Request("POST", "/upload", headers, channel.body);
 * ```
 */
export class BodyChannel implements BodySource {
  /** The consumer side (set by {@link Body.channel}). */
  readonly body!: Body;
  readonly highWaterMark: number;
  readonly #listener: BodyChannelListener | undefined;
  #queue: Uint8Array[] = [];
  #buffered = 0;
  #state = OPEN;
  #needDrain = false;
  #error: unknown = undefined;
  #trailers: HeaderMap | undefined = undefined;
  #resolve: ((chunk: Uint8Array | undefined) => void) | undefined = undefined;
  #reject: ((error: unknown) => void) | undefined = undefined;

  /** Use {@link Body.channel}. */
  constructor(options?: BodyChannelOptions) {
    const hwm = options?.highWaterMark ?? 64 * 1024;
    if (!(hwm >= 0)) throw new RangeError(`highWaterMark must be >= 0, got ${String(hwm)}`);
    this.highWaterMark = hwm;
    this.#listener = options?.listener;
  }

  /** Bytes pushed and not yet read. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** True if the consumer cancelled: stop producing. */
  get cancelled(): boolean {
    return this.#state === CANCELLED;
  }

  /** True once `end`, `error` or a cancel closed the channel. */
  get closed(): boolean {
    return this.#state !== OPEN;
  }

  /** The trailers given to `end` (read by the body when it ends). */
  get trailers(): HeaderMap | undefined {
    return this.#trailers;
  }

  /**
   * Hand over a chunk. Returns false when the producer should stop reading until `onDrain` (or for good, after
   * a cancel). Empty chunks are ignored. Throws if the channel was ended or errored (a producer bug).
   */
  push(chunk: Uint8Array): boolean {
    if (this.#state !== OPEN) {
      if (this.#state === CANCELLED) return false;
      throw new Error("push after end() or error() on a body channel");
    }
    if (!(chunk instanceof Uint8Array)) throw new InvalidBodyChunkError(chunk);
    const size = chunk.byteLength;
    if (size === 0) return this.#buffered < this.highWaterMark;
    const resolve = this.#resolve;
    if (resolve !== undefined) {
      // The reader is waiting: no buffering.
      this.#resolve = undefined;
      this.#reject = undefined;
      this.#listener?.onRead?.(this, size);
      resolve(chunk);
      return true;
    }
    this.#queue.push(chunk);
    this.#buffered += size;
    if (this.#buffered < this.highWaterMark) return true;
    this.#needDrain = true;
    return false;
  }

  /** The body is complete; `trailers` are what came after it (HTTP/1 chunked trailers, HTTP/2 trailers). */
  end(trailers?: HeaderMap): void {
    if (this.#state !== OPEN) return;
    this.#state = ENDED;
    this.#trailers = trailers;
    const resolve = this.#resolve;
    if (resolve !== undefined) {
      this.#resolve = undefined;
      this.#reject = undefined;
      resolve(undefined);
    }
  }

  /** The body cannot complete: the reader's pending and later reads reject with `error`. Buffered chunks are dropped. */
  error(error: unknown): void {
    if (this.#state !== OPEN) return;
    this.#state = ERRORED;
    this.#error = error;
    this.#queue = [];
    this.#buffered = 0;
    const reject = this.#reject;
    if (reject !== undefined) {
      this.#resolve = undefined;
      this.#reject = undefined;
      reject(error);
    }
  }

  /** {@link BodySource}: called by the body. */
  read(): Promise<Uint8Array | undefined> {
    const queue = this.#queue;
    if (queue.length > 0) {
      const chunk = queue.shift()!;
      const size = chunk.byteLength;
      this.#buffered -= size;
      const listener = this.#listener;
      listener?.onRead?.(this, size);
      if (this.#needDrain && this.#buffered < this.highWaterMark && this.#state === OPEN) {
        this.#needDrain = false;
        listener?.onDrain?.(this);
      }
      return Promise.resolve(chunk);
    }
    switch (this.#state) {
      case ENDED:
        return Promise.resolve(undefined);
      case ERRORED:
        return Promise.reject(this.#error);
      case CANCELLED:
        return Promise.reject(new BodyCancelledError({ cause: this.#error }));
    }
    if (this.#resolve !== undefined) return Promise.reject(new Error("a body read is already pending"));
    if (this.#needDrain) {
      // Buffer empty: whatever the mark, the producer may go on.
      this.#needDrain = false;
      this.#listener?.onDrain?.(this);
      // onDrain may have pushed synchronously.
      if (this.#queue.length > 0 || this.#state !== OPEN) return this.read();
    }
    return new Promise<Uint8Array | undefined>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** {@link BodySource}: called by the body when its reader cancels. */
  cancel(reason: unknown): void {
    if (this.#state !== OPEN) {
      // Ended but unread: just drop what is buffered.
      this.#queue = [];
      this.#buffered = 0;
      return;
    }
    this.#state = CANCELLED;
    this.#error = reason;
    this.#queue = [];
    this.#buffered = 0;
    const reject = this.#reject;
    if (reject !== undefined) {
      this.#resolve = undefined;
      this.#reject = undefined;
      reject(new BodyCancelledError({ cause: reason }));
    }
    this.#listener?.onCancel?.(this, reason);
  }
}
