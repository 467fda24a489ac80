import type { SendWindow } from "./flow-control.js";
import type { FrameWriter } from "./frame-writer.js";

/** What the scheduler needs of a stream (server or client side): its send window and the chunk it is sending. */
export interface OutboundStream {
  readonly id: number;
  readonly sendWindow: SendWindow;
  /** The chunk being framed, how far, and END_STREAM after it. */
  out: Uint8Array | null;
  outOffset: number;
  outEnd: boolean;
  /** Settles the promise of the write that `out` belongs to: true when framed, false when the stream died. */
  outDone: ((sent: boolean) => void) | null;
}

/** What the scheduler tells and asks its connection. */
export interface DataSchedulerHost<S> {
  /** Bytes written but not yet taken by the peer (socket buffer plus frames not flushed). */
  outputBacklog(): number;
  /** `stream` sent END_STREAM. */
  localEnd(stream: S): void;
}

/**
 * Frames queued DATA as the stream windows, the connection window and the output buffer allow: round-robin, one
 * frame per stream per pass, so one large body does not starve the others. Each stream holds at most one chunk
 * (its writer awaits the promise before the next), so what waits here is bounded by the streams.
 */
export class DataScheduler<S extends OutboundStream> {
  readonly #queue = new Set<S>();
  readonly #writer: FrameWriter;
  readonly #connection: SendWindow;
  readonly #highWaterMark: number;
  readonly #host: DataSchedulerHost<S>;
  #pumping = false;

  constructor(
    writer: FrameWriter,
    connection: SendWindow,
    highWaterMark: number,
    host: DataSchedulerHost<S>,
  ) {
    this.#writer = writer;
    this.#connection = connection;
    this.#highWaterMark = highWaterMark;
    this.#host = host;
  }

  /** Streams with data waiting. */
  get size(): number {
    return this.#queue.size;
  }

  /** Queue `chunk` on `stream`; resolves true once it is all framed, false if the stream is dropped first. */
  send(stream: S, chunk: Uint8Array, endStream: boolean): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      stream.out = chunk;
      stream.outOffset = 0;
      stream.outEnd = endStream;
      stream.outDone = resolve;
      this.#queue.add(stream);
      this.pump();
    });
  }

  /** The stream died: its waiting data is forgotten (the stream settles its own promise). */
  drop(stream: S): void {
    this.#queue.delete(stream);
  }

  /** Forget every stream (the connection closed). */
  clear(): void {
    this.#queue.clear();
  }

  /** Frame what the windows and the output buffer allow. */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      const high = this.#highWaterMark;
      const queue = this.#queue;
      const host = this.#host;
      const writer = this.#writer;
      const connection = this.#connection;
      let progress = true;
      while (progress && queue.size > 0 && host.outputBacklog() < high) {
        progress = false;
        for (const stream of queue) {
          const out = stream.out;
          if (out === null) {
            queue.delete(stream);
            continue;
          }
          const remaining = out.byteLength - stream.outOffset;
          const n = Math.min(remaining, stream.sendWindow.size, connection.size, writer.maxFrameSize);
          if (n <= 0 && remaining > 0) continue;
          const last = n === remaining;
          const end = last && stream.outEnd;
          writer.data(stream.id, out.subarray(stream.outOffset, stream.outOffset + n), { endStream: end });
          stream.sendWindow.size -= n;
          connection.size -= n;
          stream.outOffset += n;
          progress = true;
          if (last) {
            stream.out = null;
            queue.delete(stream);
            const done = stream.outDone;
            stream.outDone = null;
            if (end) host.localEnd(stream);
            done?.(true);
          }
          if (host.outputBacklog() >= high) break;
        }
      }
    } finally {
      this.#pumping = false;
    }
  }
}
