import { Duplex } from "node:stream";
import { Extensions, SignalKey } from "@tessera/core";
import { type Conn, conn } from "./conn.js";
import { connectionSignal } from "./lifetime.js";

export interface MemoryPairOptions {
  /**
   * Bytes each direction buffers before `write()` returns false: the reader's readable buffer and the writer's
   * writable buffer each hold up to this much. Default 16 KiB (Node's default for streams).
   */
  readonly highWaterMark?: number;
  /**
   * Whether a side whose reading has ended keeps its writing open (half-close). Default true, like the
   * listener and connectors of this package.
   */
  readonly allowHalfOpen?: boolean;
}

/** One end of a {@link memoryPair}: a `Duplex`, plus `resetAndDestroy()` as on a `net.Socket`. */
export interface MemoryStream extends Duplex {
  /** Close abruptly: the peer errors with `ECONNRESET` (TCP RST), whatever was buffered. */
  resetAndDestroy(): this;
}

type WriteCallback = (error?: Error | null) => void;

// An error shaped like Node's socket errors (`code`, `syscall`), so `toSocketError` maps it like a real one.
function systemError(code: "ECONNRESET" | "EPIPE", syscall: string, message: string): Error {
  return Object.assign(new Error(`${syscall} ${code}: ${message}`), { code, syscall });
}

function destroyedError(): Error {
  return Object.assign(new Error("cannot write: this end of the memory pair was destroyed"), {
    code: "ERR_STREAM_DESTROYED",
  });
}

/**
 * One end of an in-memory connection. What it writes is pushed into its peer's readable side.
 *
 * Backpressure: when the peer's readable buffer is full (`push` returns false) the write callback is held
 * until the peer's reader asks for more (`_read`). While it is held this end's writable buffer fills up, so
 * `write()` returns false and `'drain'` comes once the peer reads: buffered bytes stay bounded by the two high
 * water marks (plus one chunk), exactly the contract a socket gives.
 */
class MemoryEndpoint extends Duplex implements MemoryStream {
  peer!: MemoryEndpoint;
  /** The peer's pending write, held while this end's readable buffer is full. */
  held: WriteCallback | undefined;
  /** The peer closed cleanly: this end's reads finish normally, but its writes now fail (EPIPE). */
  peerClosed = false;
  /** This end has pushed EOF into the peer's readable side. */
  eofSent = false;
  #reset = false;

  resetAndDestroy(): this {
    this.#reset = true;
    return this.destroy();
  }

  override _read(): void {
    const callback = this.held;
    if (callback !== undefined) {
      this.held = undefined;
      callback();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    // Copy: a socket lets the writer reuse its buffer once the callback ran, but this chunk may still sit
    // in the peer's readable buffer then. Deliver on the next tick: a socket never calls back into the
    // writer's caller synchronously, and request/response loops over a pair would otherwise recurse.
    process.nextTick(deliver, this, Buffer.from(chunk), callback);
  }

  override _final(callback: WriteCallback): void {
    process.nextTick(deliverEnd, this, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    // As with TCP, closing with input left unread is a reset (the kernel sends RST); so is losing bytes this
    // end had accepted to send, and `resetAndDestroy()`. Any other close is clean (FIN), whatever error the
    // local side was destroyed with (it stays local): the peer reads to the end and its later writes fail.
    const abrupt =
      this.#reset || this.writableLength > 0 || this.readableLength > 0 || this.held !== undefined;
    const theirs = this.held;
    const mine = peer.held;
    this.held = undefined;
    peer.held = undefined;
    callback(error);
    process.nextTick(propagateDestroy, this, abrupt, mine, theirs);
  }
}

function deliver(from: MemoryEndpoint, chunk: Buffer, callback: WriteCallback): void {
  const to = from.peer;
  if (from.destroyed) callback(destroyedError());
  else if (to.destroyed || from.peerClosed) callback(systemError("EPIPE", "write", "the peer closed"));
  else if (to.push(chunk)) callback();
  else to.held = callback;
}

function sendEof(from: MemoryEndpoint): void {
  const to = from.peer;
  if (from.eofSent || to.destroyed) return;
  from.eofSent = true;
  to.push(null);
}

function deliverEnd(from: MemoryEndpoint, callback: WriteCallback): void {
  if (!from.peerClosed) sendEof(from);
  callback();
}

function propagateDestroy(
  from: MemoryEndpoint,
  abrupt: boolean,
  mine: WriteCallback | undefined,
  theirs: WriteCallback | undefined,
): void {
  const peer = from.peer;
  // Our own write that was waiting for the peer to read will never complete.
  mine?.(destroyedError());
  // The peer's write that was waiting for us to read: it hits a closed connection.
  theirs?.(systemError("ECONNRESET", "write", "the peer destroyed the connection"));
  if (peer.destroyed) return;
  if (abrupt) {
    peer.destroy(systemError("ECONNRESET", "read", "the peer destroyed the connection"));
    return;
  }
  sendEof(from);
  peer.peerClosed = true;
}

/**
 * Two connected in-memory duplex streams: what one writes, the other reads. They behave like the two ends of a
 * TCP connection, with real backpressure (bounded buffers, `write()` false and `'drain'`), half-close (`end()` on
 * one side is `'end'` on the other, which can still write) and destroy propagation as TCP does it: destroying a
 * side that leaves input unread or written bytes unsent, or `resetAndDestroy()`, resets the other (it errors
 * with `ECONNRESET` and closes); any other destroy is a clean close (the other reads to its end, and its later
 * writes fail with `EPIPE`). Delivery is asynchronous, as on a socket. Node 20 has no `stream.duplexPair`.
 *
 * @example
 * ```ts
 * const [client, server] = memoryPair();
 * server.on("data", (chunk) => server.write(chunk)); // echo
 * client.write("ping");
 * ```
 */
export function memoryPair(options?: MemoryPairOptions): [MemoryStream, MemoryStream] {
  const highWaterMark = options?.highWaterMark ?? 16 * 1024;
  const init = {
    allowHalfOpen: options?.allowHalfOpen ?? true,
    readableHighWaterMark: highWaterMark,
    writableHighWaterMark: highWaterMark,
  };
  const a = new MemoryEndpoint(init);
  const b = new MemoryEndpoint(init);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export interface MemoryConnPairOptions extends MemoryPairOptions {
  /** Extensions of the client side (default: new). */
  readonly clientExtensions?: Extensions;
  /** Extensions of the server side (default: new). */
  readonly serverExtensions?: Extensions;
}

/**
 * {@link memoryPair} as two connections, `[client, server]`. Like a listener's and a connector's connections,
 * each carries a signal (core's `SignalKey`) that aborts when its stream closes, so services run over a pair
 * exactly as over sockets.
 *
 * @example
 * ```ts
 * const [client, server] = memoryConnPair();
 * const served = echoServer.serve(server);
 * client.stream.end("hello");
 * ```
 */
export function memoryConnPair(options?: MemoryConnPairOptions): [Conn, Conn] {
  const [a, b] = memoryPair(options);
  const clientExt = (options?.clientExtensions ?? new Extensions()).insert(SignalKey, connectionSignal(a));
  const serverExt = (options?.serverExtensions ?? new Extensions()).insert(SignalKey, connectionSignal(b));
  return [conn(a, clientExt), conn(b, serverExt)];
}
