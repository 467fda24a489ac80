import type { Duplex } from "node:stream";
import { giveBackBulkBuffer, takeBulkBuffer } from "./bulk-buffers.js";
import { isPlainSocket, readIntoOwnBuffer } from "./own-read-buffer.js";

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

/** Told when a direction's source ended or its destination finished. */
export interface DirectionDone {
  directionDone(): void;
}

// Each stream carries the direction reading it and the one writing to it, so the listeners below are the same
// functions for every forward (`this` is the stream that emitted): no closures per connection.
const kReader = Symbol("tessera.forward.reader");
const kWriter = Symbol("tessera.forward.writer");
type Tagged = Duplex & { [kReader]?: ForwardDirection; [kWriter]?: ForwardDirection };

function onSourceData(this: Tagged, chunk: Buffer): void {
  this[kReader]!.onData(chunk);
}
function onSourceEnd(this: Tagged): void {
  this[kReader]!.onEnd();
}
function onDestinationDrain(this: Tagged): void {
  this[kWriter]!.onDrain();
}
function onDestinationFinish(this: Tagged): void {
  this[kWriter]!.onFinish();
}

// One direction. The same loop as `Readable.pipe` (write; pause on false; resume on 'drain') without pipe's
// bookkeeping for many destinations, plus a byte count and the half-close rule: src's 'end' ends dst.
//
// A bulk direction between two plain sockets then reads into buffers of its own (see own-read-buffer.ts): each
// read is written straight out; a write the kernel took whole (nothing left queued) frees the buffer at once,
// and otherwise reading waits for the write. Fresh 64 KiB buffers per read, and the page faults behind them,
// cost a relay about as much CPU as the copying itself.
export class ForwardDirection {
  bytes = 0;
  /** src has ended (its 'end' was seen, or it had ended before). */
  ended = false;
  /** dst's write side is done ('finish' was seen, or it had finished before). */
  finished = false;
  readonly src: Duplex;
  readonly dst: Duplex;
  readonly #done: DirectionDone;
  #ownBuffersTried = false;
  /** Reading into an own buffer stopped until the write of its bytes completes. */
  #waitingForWrite = false;
  /** The bulk buffer this direction holds, if any: the next read goes there, else into the small one. */
  #bulk: Buffer | undefined;
  #small: Buffer | undefined;
  /** A bulk buffer to give back once the write of its bytes completes. */
  #giveBackAfterWrite: Buffer | undefined;

  constructor(src: Duplex, dst: Duplex, done: DirectionDone) {
    this.src = src;
    this.dst = dst;
    this.#done = done;
  }

  start(): void {
    const src = this.src as Tagged;
    const dst = this.dst as Tagged;
    src[kReader] = this;
    dst[kWriter] = this;
    dst.on("drain", onDestinationDrain);
    dst.on("finish", onDestinationFinish);
    if (dst.writableFinished) this.finished = true;
    if (src.readableEnded) {
      this.onEnd();
      return;
    }
    src.on("data", onSourceData);
    src.on("end", onSourceEnd);
    // A source paused earlier (or left in paused mode by a peek) does not start flowing on its own.
    if (!dst.writableNeedDrain) src.resume();
  }

  stop(): void {
    this.src.off("data", onSourceData);
    this.src.off("end", onSourceEnd);
    this.dst.off("drain", onDestinationDrain);
    this.dst.off("finish", onDestinationFinish);
  }

  onData(chunk: Buffer): void {
    this.bytes += chunk.length;
    const ok = this.dst.write(chunk);
    if (this.bytes >= OWN_BUFFERS_AFTER && !this.#ownBuffersTried) {
      this.#ownBuffersTried = true;
      this.#readIntoOwnBuffers(chunk.length === NODE_READ_SIZE);
    }
    if (!ok) this.src.pause();
  }

  onDrain(): void {
    this.src.resume();
  }

  onEnd(): void {
    this.ended = true;
    // Half-close: the other side learns that no more bytes come this way, and may still answer.
    this.dst.end();
    this.#done.directionDone();
  }

  onFinish(): void {
    this.finished = true;
    this.#done.directionDone();
  }

  /** Switch to own buffers, starting with a bulk one when reads fill Node's buffers, else the small one. */
  #readIntoOwnBuffers(bulk: boolean): void {
    // A wrapper stream may still hold a chunk after its write completed; only a plain socket's write is done with it.
    if (!isPlainSocket(this.dst)) return;
    const first = bulk ? takeBulkBuffer() : Buffer.allocUnsafe(SMALL_BUFFER_SIZE);
    // The callbacks are made here, not per direction: only directions that moved some data need them.
    const afterWrite = (): void => this.#afterWrite();
    const onRead = (n: number, buffer: Buffer): boolean => this.#onOwnRead(n, buffer, afterWrite);
    if (!readIntoOwnBuffer(this.src, first, onRead, () => (this.#bulk ?? this.#small)!)) {
      if (bulk) giveBackBulkBuffer(first);
      return;
    }
    if (bulk) this.#bulk = first;
    else this.#small = first;
  }

  #onOwnRead(n: number, buffer: Buffer, afterWrite: () => void): boolean {
    this.bytes += n;
    const dst = this.dst;
    dst.write(n === buffer.length ? buffer : buffer.subarray(0, n), afterWrite);
    const pending = dst.writableLength > 0;
    if (buffer === this.#bulk) {
      if (n < buffer.length) {
        this.#small ??= Buffer.allocUnsafe(SMALL_BUFFER_SIZE);
        this.#bulk = undefined;
        if (pending) this.#giveBackAfterWrite = buffer;
        else giveBackBulkBuffer(buffer);
      }
    } else if (n === buffer.length) {
      this.#bulk = takeBulkBuffer();
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
