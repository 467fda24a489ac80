import type { Duplex } from "node:stream";
import { abortReason, neverAborts, signalOf } from "@tessera/core";
import { type Conn, conn as makeConn } from "./conn.js";
import { ConnectionClosedError, PeekTimeoutError, toSocketError } from "./errors.js";
import { rewind } from "./rewind-stream.js";

export interface PeekOptions {
  /** Done once at least this many bytes have arrived. */
  readonly bytes?: number;
  /**
   * Done once this returns true for the bytes seen so far (called after every chunk, with all bytes so far).
   * Without `bytes` or `until`, peek is done at the first byte.
   */
  readonly until?: (seen: Buffer) => boolean;
  /** Stop waiting (status `"limit"`) once this many bytes are buffered without a decision. Default 16 KiB. */
  readonly max?: number;
  /** Give up after this many milliseconds with a {@link PeekTimeoutError}; the bytes seen are put back first. */
  readonly timeout?: number;
  /** Give up when this aborts (with its reason, see core's `abortReason`); the bytes seen are put back first. */
  readonly signal?: AbortSignal;
}

/**
 * - `"done"`: the condition (`bytes` or `until`) held;
 * - `"end"`: the peer ended its side first (fewer bytes, maybe none);
 * - `"limit"`: `max` bytes arrived without a decision.
 */
export type PeekStatus = "done" | "end" | "limit";

export interface Peeked {
  /** Every byte read so far (at least `bytes` when done; possibly more). `stream` replays all of them. */
  readonly bytes: Buffer;
  readonly status: PeekStatus;
  /** The stream to go on with: it yields `bytes` first, then the rest. Usually the same stream object. */
  readonly stream: Duplex;
}

export interface PeekedConn {
  readonly bytes: Buffer;
  readonly status: PeekStatus;
  /** The connection to go on with (same extensions; the stream replays `bytes`). */
  readonly conn: Conn;
}

const DEFAULT_MAX = 16 * 1024;
const EMPTY = Buffer.alloc(0);

// Bytes seen so far. The first chunk is kept as it is (most peeks decide on it); later chunks go into a buffer
// that doubles, so a peer sending one byte at a time costs linear, not quadratic, copying.
class Seen {
  #buffer: Buffer = EMPTY;
  #owned = false;
  length = 0;

  add(chunk: Buffer): void {
    if (this.length === 0) {
      this.#buffer = chunk;
      this.length = chunk.length;
      return;
    }
    const needed = this.length + chunk.length;
    if (!this.#owned || needed > this.#buffer.length) {
      const next = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2, 256));
      this.#buffer.copy(next, 0, 0, this.length);
      this.#buffer = next;
      this.#owned = true;
    }
    chunk.copy(this.#buffer, this.length);
    this.length = needed;
  }

  get bytes(): Buffer {
    return this.#owned ? this.#buffer.subarray(0, this.length) : this.#buffer;
  }
}

/**
 * Read a prefix of `stream` without consuming it: wait until `bytes` bytes arrived, or `until` decides, or `max`
 * bytes arrived, or the peer ended; then put the bytes back (see {@link rewind}) and hand on a stream that yields
 * them first. Backpressure, half-close, `destroy()` and the write side are untouched, so TLS can start on the
 * stream after sniffing. Peek must be the stream's only reader while it runs.
 *
 * Rejects with a {@link PeekTimeoutError} after `timeout` ms and with the signal's reason when `signal` aborts
 * (in both cases after putting the bytes back), with a typed socket error if the stream errors, and with a
 * {@link ConnectionClosedError} if it closes before ending.
 *
 * @example
 * ```ts
 * const { bytes, stream } = await peek(socket, { bytes: 1, timeout: 5_000 });
 * const isTls = bytes[0] === 0x16;
 * ```
 */
export function peek(stream: Duplex, options: PeekOptions = {}): Promise<Peeked> {
  const need = options.bytes ?? (options.until === undefined ? 1 : Number.POSITIVE_INFINITY);
  const until = options.until;
  const max = options.max ?? DEFAULT_MAX;
  if (!(max >= 1)) return Promise.reject(new RangeError("peek: max must be at least 1"));
  if (options.bytes !== undefined && !(options.bytes >= 1 && options.bytes <= max)) {
    return Promise.reject(new RangeError(`peek: bytes must be between 1 and max (${max})`));
  }
  const signal = options.signal ?? neverAborts();
  if (signal.aborted) return Promise.reject(abortReason(signal));
  if (stream.destroyed) {
    const error = stream.errored;
    return Promise.reject(
      error ? toSocketError(error) : new ConnectionClosedError("the stream was closed before peeking"),
    );
  }
  if (stream.readableEnded) return Promise.resolve({ bytes: EMPTY, status: "end", stream });

  return new Promise<Peeked>((resolve, reject) => {
    const peeking = new Peeking(stream, need, until, max, signal, resolve, reject);
    (stream as PeekingStream)[kPeeking] = peeking;
    stream.on("readable", onPeekReadable);
    stream.on("end", onPeekEnd);
    stream.on("error", onPeekError);
    stream.on("close", onPeekClose);
    signal.addEventListener("abort", peeking);
    if (options.timeout !== undefined && Number.isFinite(options.timeout)) {
      peeking.timeoutMs = options.timeout;
      peeking.timer = setTimeout(onPeekTimeout, options.timeout, peeking);
    }
  });
}

// One peek in progress. Its state rides on the stream and the stream's listeners are shared functions, so a
// peek allocates no closures (it runs once per connection in front of TLS, HTTP auto-detection and PROXY; under
// the build's keepNames every named closure would also get its own property dictionary). It is the signal's
// listener itself, through `handleEvent`.
const kPeeking = Symbol("tessera.net.peeking");
type PeekingStream = Duplex & { [kPeeking]?: Peeking | undefined };

class Peeking {
  readonly seen = new Seen();
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  timeoutMs = 0;
  #settled = false;
  constructor(
    readonly stream: Duplex,
    readonly need: number,
    readonly until: ((seen: Buffer) => boolean) | undefined,
    readonly max: number,
    readonly signal: AbortSignal,
    readonly resolve: (peeked: Peeked) => void,
    readonly reject: (error: Error) => void,
  ) {}

  read(): void {
    const { stream, seen, need, until } = this;
    let chunk: Buffer | string | null;
    // biome-ignore lint/suspicious/noAssignInExpressions: the usual read loop
    while ((chunk = stream.read() as Buffer | string | null) !== null) {
      seen.add(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
      let decided: boolean;
      try {
        decided = seen.length >= need || until?.(seen.bytes) === true;
      } catch (error) {
        // A throwing predicate must not become an uncaught exception inside the stream's event.
        this.fail(error instanceof Error ? error : new Error(String(error)), true);
        return;
      }
      if (decided || seen.length >= this.max) {
        this.finish(decided ? "done" : "limit");
        return;
      }
    }
  }

  // Put the bytes back and settle. `unshift` happens synchronously in the same turn as the last `read()`, so
  // an EOF that arrived meanwhile cannot emit 'end' before the bytes are back in the buffer.
  finish(status: PeekStatus): void {
    if (!this.cleanup()) return;
    this.resolve({ bytes: this.seen.bytes, status, stream: rewind(this.stream, this.seen.bytes) });
  }

  fail(error: Error, putBack: boolean): void {
    if (!this.cleanup()) return;
    if (putBack) rewind(this.stream, this.seen.bytes);
    this.reject(error);
  }

  handleEvent(): void {
    this.fail(abortReason(this.signal), true);
  }

  // Stop listening; false when already settled (each peek settles once and puts its bytes back once).
  cleanup(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    const stream = this.stream as PeekingStream;
    stream[kPeeking] = undefined;
    stream.off("readable", onPeekReadable);
    stream.off("end", onPeekEnd);
    stream.off("error", onPeekError);
    stream.off("close", onPeekClose);
    this.signal.removeEventListener("abort", this);
    if (this.timer !== undefined) clearTimeout(this.timer);
    return true;
  }
}

function onPeekReadable(this: PeekingStream): void {
  this[kPeeking]?.read();
}
function onPeekEnd(this: PeekingStream): void {
  this[kPeeking]?.finish("end");
}
function onPeekError(this: PeekingStream, error: Error): void {
  this[kPeeking]?.fail(toSocketError(error), false);
}
function onPeekClose(this: PeekingStream): void {
  this[kPeeking]?.fail(new ConnectionClosedError("the connection closed before the prefix was read"), false);
}
function onPeekTimeout(peeking: Peeking): void {
  peeking.fail(new PeekTimeoutError(peeking.timeoutMs, peeking.seen.length), true);
}

/**
 * {@link peek} for a connection: the connection handed on shares the extensions (a 1:1 wrap) and is the same
 * object when the stream could take the bytes back in place. Without `signal`, the connection's own signal
 * (core's `signalOf(conn)`) cancels the peek.
 *
 * @example
 * ```ts
 * const { bytes, conn: next } = await peekConn(conn, { until: (b) => b.includes(0x0a), max: 1024 });
 * ```
 */
export async function peekConn(conn: Conn, options?: PeekOptions): Promise<PeekedConn> {
  // Cancellation rides the connection: without an explicit signal, stop when the connection's signal aborts.
  const peeked = await peek(conn.stream, { ...options, signal: options?.signal ?? signalOf(conn) });
  const next = peeked.stream === conn.stream ? conn : makeConn(peeked.stream, conn.extensions);
  return { bytes: peeked.bytes, status: peeked.status, conn: next };
}
