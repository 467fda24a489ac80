import { Duplex } from "node:stream";

type Callback = (error?: Error | null) => void;

function destroyedError(): Error {
  return Object.assign(new Error("cannot write: the underlying stream was destroyed"), {
    code: "ERR_STREAM_DESTROYED",
  });
}

/**
 * Replays `prefix`, then the rest of `source`; writes, `end()` and `destroy()` go to `source`. The fallback of
 * {@link rewind} for a source that can no longer take bytes back (it has emitted `'end'`).
 *
 * Backpressure is kept both ways: the source is paused while this stream's readable buffer is full, and a write
 * completes only once the source accepted it (`write()` true, or `'drain'`).
 */
class RewindStream extends Duplex {
  readonly #source: Duplex;
  #prefix: Buffer | undefined;
  #reading = false;
  #pendingWrite: Callback | undefined;
  #pendingFinal: Callback | undefined;

  constructor(source: Duplex, prefix: Buffer) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: source.readableHighWaterMark,
      writableHighWaterMark: source.writableHighWaterMark,
    });
    this.#source = source;
    this.#prefix = prefix;
    source.on("error", this.#onError);
    source.on("close", this.#onClose);
    source.on("drain", this.#onDrain);
  }

  override _read(): void {
    const prefix = this.#prefix;
    if (prefix !== undefined) {
      this.#prefix = undefined;
      if (!this.push(prefix)) return;
    }
    const source = this.#source;
    if (!this.#reading) {
      this.#reading = true;
      // Nothing more will come from a source that ended (or was destroyed): the replay is all there is.
      if (source.readableEnded || source.destroyed) {
        this.push(null);
        return;
      }
      source.on("data", this.#onData);
      source.on("end", this.#onEnd);
    }
    source.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: Callback): void {
    const source = this.#source;
    if (source.destroyed) callback(destroyedError());
    else if (source.write(chunk, encoding)) callback();
    else this.#pendingWrite = callback;
  }

  override _final(callback: Callback): void {
    const source = this.#source;
    if (source.destroyed || source.writableFinished) {
      callback(source.destroyed ? destroyedError() : null);
      return;
    }
    this.#pendingFinal = callback;
    source.once("finish", this.#onFinish);
    if (!source.writableEnded) source.end();
  }

  override _destroy(error: Error | null, callback: Callback): void {
    const source = this.#source;
    source.off("data", this.#onData);
    source.off("end", this.#onEnd);
    source.off("drain", this.#onDrain);
    source.off("finish", this.#onFinish);
    source.off("close", this.#onClose);
    // The source's errors have nowhere to go once this wrapper is gone; keep them from being fatal.
    source.off("error", this.#onError);
    source.on("error", ignore);
    this.#release(error ?? destroyedError());
    if (!source.destroyed) source.destroy(error ?? undefined);
    callback(error);
  }

  #release(error: Error): void {
    const write = this.#pendingWrite;
    const final = this.#pendingFinal;
    this.#pendingWrite = undefined;
    this.#pendingFinal = undefined;
    write?.(error);
    final?.(error);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (!this.push(chunk)) this.#source.pause();
  };
  readonly #onEnd = (): void => {
    this.push(null);
  };
  readonly #onDrain = (): void => {
    const callback = this.#pendingWrite;
    this.#pendingWrite = undefined;
    callback?.();
  };
  readonly #onFinish = (): void => {
    const callback = this.#pendingFinal;
    this.#pendingFinal = undefined;
    callback?.();
  };
  readonly #onError = (error: Error): void => {
    this.destroy(error);
  };
  readonly #onClose = (): void => {
    // A source that ended cleanly may close before our reader has read what we buffered: keep it, and let
    // autoDestroy close this stream once both sides are done. Anything else is a premature close.
    if (this.#source.readableEnded) {
      // Writes can no longer complete; fail the ones waiting (that errors this stream if any were).
      this.#release(destroyedError());
      return;
    }
    this.destroy(this.#source.errored ?? undefined);
  };
}

function ignore(): void {}

/**
 * Put `prefix` back in front of `stream`'s remaining bytes and return the stream to read from: the next reader
 * sees `prefix` first, then whatever `stream` still delivers. The write side, half-close, backpressure and
 * `destroy()` behave as on `stream` itself.
 *
 * While `stream` has not emitted `'end'`, this is `stream.unshift(prefix)` and returns `stream` itself, so a
 * socket stays a socket (node:tls then wraps its native handle and picks up the replayed bytes). After `'end'`,
 * it returns a small wrapper that replays `prefix` and forwards writes to `stream`.
 *
 * @example
 * ```ts
 * const first = socket.read(5) as Buffer;
 * const again = rewind(socket, first); // reads start with `first` again
 * ```
 */
export function rewind(stream: Duplex, prefix: Uint8Array): Duplex {
  if (prefix.length === 0) return stream;
  const bytes = Buffer.isBuffer(prefix)
    ? prefix
    : Buffer.from(prefix.buffer, prefix.byteOffset, prefix.length);
  if (!stream.readableEnded && !stream.destroyed && stream.readableObjectMode !== true) {
    stream.unshift(bytes);
    return stream;
  }
  return new RewindStream(stream, bytes);
}
