import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { abortReason, neverAborts, type Service, signalOf } from "@tessera/core";
import { type Authority, parseAuthority } from "./address.js";
import { giveBackBulkBuffer, takeBulkBuffer } from "./bulk-buffers.js";
import type { Conn } from "./conn.js";
import { type ConnectRequest, connectRequest } from "./connect-request.js";
import { ConnectionClosedError, toSocketError } from "./errors.js";
import { ForwardBytes } from "./keys.js";
import { ignoreError } from "./lifetime.js";
import { readIntoOwnBuffer } from "./own-read-buffer.js";

export interface ForwardOptions {
  /** Stop forwarding (both streams destroyed) when this aborts; rejects with its reason. */
  readonly signal?: AbortSignal;
}

/** Bytes moved in each direction. */
export interface ForwardResult {
  readonly aToB: number;
  readonly bToA: number;
}

// Node reads a socket into a fresh buffer of this size; a chunk that fills one says more is waiting.
const NODE_READ_SIZE = 64 * 1024;
// A direction that has moved this much reads into buffers of its own from then on.
const OWN_BUFFERS_AFTER = 512 * 1024;
// While reads fill it, read into a bulk buffer (bulk-buffers.ts): fewer read calls per byte than Node's. A read
// that does not fill it emptied the socket, and the burst may be over: the next read goes into a small buffer of
// the direction's own and the bulk one is given back, so an idle tunnel holds 16 KiB per direction that moved
// data, not 256 (unless its last read happened to fill a buffer exactly). A small read that fills the small
// buffer takes a bulk one again.
const SMALL_BUFFER_SIZE = 16 * 1024;

// One direction. The same loop as `Readable.pipe` (write; pause on false; resume on 'drain') without pipe's
// bookkeeping for many destinations, plus a byte count and the half-close rule: src's 'end' ends dst.
//
// A bulk direction between two plain sockets then reads into buffers of its own (see own-read-buffer.ts): each
// read is written straight out; a write the kernel took whole (nothing left queued) frees the buffer at once,
// and otherwise reading waits for the write. Fresh 64 KiB buffers per read, and the page faults behind them,
// cost a relay about as much CPU as the copying itself.
class Pump {
  bytes = 0;
  /** src has ended (its 'end' was seen, or it had ended before). */
  ended = false;
  /** dst's write side is done ('finish' was seen, or it had finished before). */
  finished = false;
  readonly src: Duplex;
  readonly dst: Duplex;
  readonly #done: () => void;
  #ownBuffersTried = false;
  /** Reading into an own buffer stopped until the write of its bytes completes. */
  #waitingForWrite = false;
  /** The bulk buffer this direction holds, if any. */
  #bulk: Buffer | undefined;
  #small: Buffer | undefined;
  /** Where the next read goes. */
  #next: Buffer | undefined;
  /** A bulk buffer to give back once the write of its bytes completes. */
  #giveBackAfterWrite: Buffer | undefined;

  constructor(src: Duplex, dst: Duplex, done: () => void) {
    this.src = src;
    this.dst = dst;
    this.#done = done;
  }

  start(): void {
    const { src, dst } = this;
    dst.on("drain", this.#onDrain);
    dst.on("finish", this.#onFinish);
    if (dst.writableFinished) this.finished = true;
    if (src.readableEnded) {
      this.#onEnd();
      return;
    }
    src.on("data", this.#onData);
    src.on("end", this.#onEnd);
    // A source paused earlier (or left in paused mode by a peek) does not start flowing on its own.
    if (!dst.writableNeedDrain) src.resume();
  }

  stop(): void {
    this.src.off("data", this.#onData);
    this.src.off("end", this.#onEnd);
    this.dst.off("drain", this.#onDrain);
    this.dst.off("finish", this.#onFinish);
  }

  readonly #onData = (chunk: Buffer): void => {
    this.bytes += chunk.length;
    const ok = this.dst.write(chunk);
    if (this.bytes >= OWN_BUFFERS_AFTER && !this.#ownBuffersTried) {
      this.#ownBuffersTried = true;
      this.#readIntoOwnBuffers(chunk.length === NODE_READ_SIZE);
    }
    if (!ok) this.src.pause();
  };
  readonly #onDrain = (): void => {
    this.src.resume();
  };
  readonly #onEnd = (): void => {
    this.ended = true;
    // Half-close: the other side learns that no more bytes come this way, and may still answer.
    this.dst.end();
    this.#done();
  };
  readonly #onFinish = (): void => {
    this.finished = true;
    this.#done();
  };

  /** Switch to own buffers, starting with a bulk one when reads fill Node's buffers, else the small one. */
  #readIntoOwnBuffers(bulk: boolean): void {
    // Only a plain socket's write is done with the bytes once nothing is queued (the kernel copied them); a
    // wrapper stream may still hold the chunk it was given.
    if (Object.getPrototypeOf(this.dst) !== Socket.prototype) return;
    const first = bulk ? takeBulkBuffer() : Buffer.allocUnsafe(SMALL_BUFFER_SIZE);
    // The callbacks are made here, not per Pump: only directions that moved some data need them.
    const afterWrite = (): void => this.#afterWrite();
    const onRead = (n: number, buffer: Buffer): boolean => this.#onOwnRead(n, buffer, afterWrite);
    if (!readIntoOwnBuffer(this.src, first, onRead, () => this.#next!)) {
      if (bulk) giveBackBulkBuffer(first);
      return;
    }
    if (bulk) this.#bulk = first;
    else this.#small = first;
    this.#next = first;
  }

  #onOwnRead(n: number, buffer: Buffer, afterWrite: () => void): boolean {
    this.bytes += n;
    const dst = this.dst;
    dst.write(n === buffer.length ? buffer : buffer.subarray(0, n), afterWrite);
    const pending = dst.writableLength > 0;
    if (buffer === this.#bulk) {
      if (n < buffer.length) {
        this.#small ??= Buffer.allocUnsafe(SMALL_BUFFER_SIZE);
        this.#next = this.#small;
        this.#bulk = undefined;
        if (pending) this.#giveBackAfterWrite = buffer;
        else giveBackBulkBuffer(buffer);
      }
    } else if (n === buffer.length) {
      this.#bulk = takeBulkBuffer();
      this.#next = this.#bulk;
    }
    if (!pending) return true;
    this.#waitingForWrite = true;
    return false;
  }

  // Writes complete in order, so when this runs for the write that stopped reading, its buffer is free.
  #afterWrite(): void {
    if (!this.#waitingForWrite || this.dst.writableLength > 0) return;
    this.#waitingForWrite = false;
    if (this.#giveBackAfterWrite !== undefined) {
      giveBackBulkBuffer(this.#giveBackAfterWrite);
      this.#giveBackAfterWrite = undefined;
    }
    this.src.resume();
  }
}

/**
 * Forward bytes both ways between two connections until both directions are done, with backpressure and
 * half-close: when `a` ends, `b`'s write side is ended (and the other way round) while the other direction goes
 * on. Resolves once both directions ended and were flushed; then both streams are destroyed. On an error or a
 * premature close of either side, or when `signal` aborts, both are torn down (reset where the stream supports
 * `resetAndDestroy()`, so the far peers see an abort, not a clean end of a truncated stream) and the promise
 * rejects with a typed error ({@link ConnectionResetError}, {@link ConnectionClosedError}, ...) naming the side.
 *
 * Either way the byte counts are recorded on both connections' extensions under {@link ForwardBytes}.
 * Both streams should allow half-open (the listener and connectors of this package do), or a side that ends
 * would close before the other direction is done. `forward` must be the only reader of both streams.
 *
 * @example
 * ```ts
 * const upstream = await tcpConnector().serve(connectRequest("backend:8080", conn.extensions.fork()));
 * const { aToB, bToA } = await forward(conn, upstream, { signal: signalOf(conn) });
 * ```
 */
export function forward(a: Conn, b: Conn, options?: ForwardOptions): Promise<ForwardResult> {
  const signal = options?.signal ?? neverAborts();
  const sa = a.stream;
  const sb = b.stream;
  return new Promise<ForwardResult>((resolve, reject) => {
    let settled = false;
    const check = (): void => {
      if (settled || !(ab.ended && ab.finished && ba.ended && ba.finished)) return;
      settle();
      sa.destroy();
      sb.destroy();
      resolve({ aToB: ab.bytes, bToA: ba.bytes });
    };
    const ab = new Pump(sa, sb, check);
    const ba = new Pump(sb, sa, check);

    const settle = (): void => {
      settled = true;
      ab.stop();
      ba.stop();
      sa.off("error", onErrorA);
      sb.off("error", onErrorB);
      sa.off("close", onCloseA);
      sb.off("close", onCloseB);
      signal.removeEventListener("abort", onAbort);
      a.extensions.insert(ForwardBytes, { read: ab.bytes, written: ba.bytes });
      b.extensions.insert(ForwardBytes, { read: ba.bytes, written: ab.bytes });
    };
    const fail = (error: Error): void => {
      if (settled) return;
      settle();
      // Late errors of streams we are tearing down have no one to go to; they must not crash the process.
      sa.on("error", ignoreError);
      sb.on("error", ignoreError);
      abort(sa);
      abort(sb);
      reject(error);
    };
    const sideError = (error: unknown, side: "a" | "b"): Error => {
      const typed = toSocketError(error);
      if (typed !== error) typed.message = `forward, side ${side}: ${typed.message}`;
      return typed;
    };
    const onErrorA = (error: Error): void => fail(sideError(error, "a"));
    const onErrorB = (error: Error): void => fail(sideError(error, "b"));
    // A close is premature unless that stream's reading ended and its writing finished.
    const onCloseA = (): void => {
      if (!(ab.ended && ba.finished)) fail(closedError(sa, "a"));
    };
    const onCloseB = (): void => {
      if (!(ba.ended && ab.finished)) fail(closedError(sb, "b"));
    };
    const onAbort = (): void => fail(abortReason(signal));

    if (signal.aborted) return fail(abortReason(signal));
    if (sa.destroyed) return fail(closedError(sa, "a"));
    if (sb.destroyed) return fail(closedError(sb, "b"));
    sa.on("error", onErrorA);
    sb.on("error", onErrorB);
    sa.on("close", onCloseA);
    sb.on("close", onCloseB);
    signal.addEventListener("abort", onAbort);
    ab.start();
    ba.start();
  });
}

/**
 * Tear a stream down as aborted: a reset (TCP RST) where the stream can send one, so the far peer of a relay that
 * failed sees an error rather than a clean end it would take for a complete (but truncated) stream.
 */
function abort(stream: Duplex): void {
  const reset = (stream as Duplex & { resetAndDestroy?: () => unknown }).resetAndDestroy;
  if (typeof reset === "function" && !stream.destroyed) {
    try {
      reset.call(stream);
      return;
    } catch {
      // Not a TCP handle (a Unix or TLS socket): a plain destroy is all there is.
    }
  }
  stream.destroy();
}

function closedError(stream: Duplex, side: "a" | "b"): Error {
  const error = stream.errored;
  if (error) {
    const typed = toSocketError(error);
    if (typed !== error) typed.message = `forward, side ${side}: ${typed.message}`;
    return typed;
  }
  return new ConnectionClosedError(`forward, side ${side}: the connection closed before forwarding finished`);
}

/**
 * A TCP-proxy service: for every connection it serves, connect to `target` with `connector` (the request forks
 * the connection's extensions, so the client's signal cancels the connect) and {@link forward} both ways.
 * `target` is an authority, or a function making the connect request from the connection (e.g. from SNI).
 *
 * @example
 * ```ts
 * const proxy = forwardService(tcpConnector({ timeout: 5_000 }), "127.0.0.1:8080");
 * const listener = await listen({ port: 8443 }, proxy, { onError: console.error });
 * ```
 */
export function forwardService(
  connector: Service<ConnectRequest, Conn>,
  target: Authority | string | ((conn: Conn) => ConnectRequest),
): Service<Conn, void> {
  const fixed: Authority | undefined =
    typeof target === "string" ? parseAuthority(target) : typeof target === "function" ? undefined : target;
  const make = typeof target === "function" ? target : undefined;
  return {
    async serve(conn: Conn): Promise<void> {
      let upstream: Conn;
      try {
        const request = fixed !== undefined ? connectRequest(fixed, conn.extensions.fork()) : make!(conn);
        upstream = await connector.serve(request);
      } catch (error) {
        conn.stream.destroy();
        throw error;
      }
      await forward(conn, upstream, { signal: signalOf(conn) });
    },
  };
}
