import type { Transform } from "node:stream";
import { abortReason } from "@tessera/core";
import { Body, type BodySource } from "../../body.js";
import { BodyCancelledError } from "../../errors.js";
import type { HeaderMap } from "../../header-map.js";

/** How {@link transformBody} runs one zlib stream over a body. */
export interface TransformOptions {
  /**
   * Make the zlib stream. Called once, on the first input chunk when `lazy` (a decoder that picks raw or
   * zlib-wrapped deflate from the first bytes), else before the first input is read.
   */
  readonly make: (first: Uint8Array | undefined) => Transform;
  /** Create the stream only when the first input chunk comes; an empty input then gives an empty output. */
  readonly lazy?: boolean;
  /** Flush after every input chunk, so a streamed response reaches the client as it is produced. */
  readonly flush?: number | undefined;
  /** At most this many output bytes; past it the body fails with `limitError()`. */
  readonly limit?: number;
  readonly limitError?: () => Error;
  /** Turn a zlib error into the error the reader sees. */
  readonly mapError: (error: unknown) => Error;
  /** Stop (as a cancel) when this aborts: the request the body answers was cancelled. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A body that streams `input` through a zlib transform, pulled by its reader: an input chunk is read only when
 * the reader waits and the transform has no output ready, and the transform's output buffer (its readable
 * high-water mark, 16 KiB) is the most that is produced ahead of the reader. So a decompression bomb never
 * expands further than the limit plus one buffer, and a slow client slows the producer down.
 *
 * Cancelling the returned body destroys the transform and cancels `input`; an error on either side (corrupt
 * data, the input failing, the output limit) fails the reader and cancels the rest. Trailers of `input` are
 * passed through.
 */
export function transformBody(input: Body, options: TransformOptions): Body {
  return Body.fromSource(new ZlibSource(input, options));
}

class ZlibSource implements BodySource {
  readonly #input: Body;
  readonly #options: TransformOptions;
  #iterator: AsyncIterator<Uint8Array> | undefined = undefined;
  #z: Transform | undefined = undefined;
  #produced = 0;
  #inputDone = false;
  #pumping = false;
  #ended = false;
  #failure: unknown = undefined;
  #failed = false;
  #watching = false;
  #resolve: ((chunk: Uint8Array | undefined) => void) | undefined = undefined;
  #reject: ((error: unknown) => void) | undefined = undefined;

  constructor(input: Body, options: TransformOptions) {
    this.#input = input;
    this.#options = options;
  }

  // The signal is watched from the first read on, not from construction: a body that is never read (a response
  // dropped before it was sent) must not leave a listener on a signal that may outlive it (a connection's).
  #watch(): void {
    this.#watching = true;
    const signal = this.#options.signal;
    if (signal === undefined) return;
    if (signal.aborted) this.#onAbort();
    else signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  readonly #onAbort = (): void => {
    this.cancel(abortReason(this.#options.signal!));
  };

  #unlisten(): void {
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
  }

  get trailers(): HeaderMap | undefined {
    return this.#input.trailers;
  }

  read(): Promise<Uint8Array | undefined> {
    if (!this.#watching) this.#watch();
    if (this.#failed) return Promise.reject(this.#failure);
    if (this.#resolve !== undefined) return Promise.reject(new Error("a body read is already pending"));
    const z = this.#z;
    if (z !== undefined) {
      const chunk = z.read() as Buffer | null;
      if (chunk !== null) return this.#deliverNow(chunk);
    }
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise<Uint8Array | undefined>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#pump();
    });
  }

  cancel(reason: unknown): void {
    if (this.#failed || this.#ended) return;
    this.#fail(new BodyCancelledError({ cause: reason }), reason);
  }

  #deliverNow(chunk: Buffer): Promise<Uint8Array | undefined> {
    const error = this.#count(chunk);
    return error === undefined ? Promise.resolve(chunk) : Promise.reject(error);
  }

  /** Count output bytes against the limit: undefined, or the error the body failed with. */
  #count(chunk: Buffer): Error | undefined {
    this.#produced += chunk.byteLength;
    const limit = this.#options.limit;
    if (limit !== undefined && this.#produced > limit) {
      const error = this.#options.limitError?.() ?? new RangeError(`output over ${limit} bytes`);
      this.#fail(error, error);
      return error;
    }
    return undefined;
  }

  /** Feed input while the reader waits and the transform has no output for it. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#resolve !== undefined && !this.#inputDone && !this.#failed) {
        this.#iterator ??= this.#input[Symbol.asyncIterator]();
        const next = await this.#iterator.next();
        if (this.#failed) return;
        if (next.done === true) {
          this.#inputDone = true;
          const z = this.#z ?? (this.#options.lazy === true ? undefined : this.#open(undefined));
          if (z === undefined)
            this.#end(); // lazy and no input at all: an empty body
          else z.end();
          return;
        }
        const z = this.#z ?? this.#open(next.value);
        await this.#write(z, next.value);
      }
    } catch (error) {
      this.#fail(error, error);
    } finally {
      this.#pumping = false;
    }
  }

  #open(first: Uint8Array | undefined): Transform {
    const z = this.#options.make(first);
    this.#z = z;
    // 'readable' (not 'data') keeps the stream paused: zlib stops producing when its output buffer is full.
    z.on("readable", this.#onReadable);
    z.on("end", this.#onEnd);
    z.on("error", this.#onError);
    return z;
  }

  // Resolves once zlib has consumed the chunk (and flushed, when asked). zlib stops consuming when its output
  // buffer is full, so input is never read further ahead of the reader than one chunk.
  #write(z: Transform, chunk: Uint8Array): Promise<void> {
    return new Promise<void>((resolve) => {
      const flush = this.#options.flush;
      // An error or a destroy calls the callbacks too (with an error the pump ignores: #failed is set).
      if (flush === undefined) z.write(chunk, () => resolve());
      else {
        z.write(chunk);
        (z as Transform & { flush(kind: number, cb: () => void): void }).flush(flush, () => resolve());
      }
    });
  }

  readonly #onReadable = (): void => {
    if (this.#resolve === undefined) return;
    const chunk = this.#z!.read() as Buffer | null;
    if (chunk === null) return; // the end: 'end' follows
    const resolve = this.#resolve;
    const reject = this.#reject!;
    this.#resolve = undefined;
    this.#reject = undefined;
    const error = this.#count(chunk);
    if (error === undefined) resolve(chunk);
    else reject(error);
  };

  readonly #onEnd = (): void => this.#end();

  readonly #onError = (error: unknown): void => {
    if (this.#failed) return;
    this.#fail(this.#options.mapError(error), error);
  };

  #end(): void {
    this.#ended = true;
    this.#unlisten();
    const resolve = this.#resolve;
    if (resolve !== undefined) {
      this.#resolve = undefined;
      this.#reject = undefined;
      resolve(undefined);
    }
  }

  /** Stop both sides: the reader sees `error`, the input producer is cancelled with `reason`. */
  #fail(error: unknown, reason: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#failure = error;
    this.#unlisten();
    const z = this.#z;
    if (z !== undefined && !z.destroyed) z.destroy();
    if (!this.#inputDone) this.#input.cancel(reason);
    const reject = this.#reject;
    if (reject !== undefined) {
      this.#resolve = undefined;
      this.#reject = undefined;
      reject(error);
    }
  }
}
