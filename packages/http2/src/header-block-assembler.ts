import { FrameFlag, FrameType, frameTypeName } from "./constants.js";
import {
  Http2ContinuationFloodError,
  type Http2Error,
  Http2HeaderBlockTooLargeError,
  Http2ProtocolError,
} from "./errors.js";
import type { Frame, FrameHandler } from "./frame-types.js";

/** Bounds of a {@link HeaderBlockAssembler}. */
export interface HeaderBlockLimits {
  /**
   * Largest field block (the HPACK-encoded bytes of HEADERS or PUSH_PROMISE plus all their CONTINUATION
   * frames). Default 64 KiB. Checked frame by frame, before a fragment is copied, so at most this much is ever
   * buffered. HPACK usually shrinks a header list, so this also bounds the decoded list to a few times its size
   * (the decoder's own limit does the rest).
   */
  readonly maxHeaderBlockSize: number;
  /**
   * Most CONTINUATION frames in one block. Default 8, nghttp2's choice after the 2024 CONTINUATION flood
   * (Node.js ships it): real clients split a block only when it exceeds the frame size, so even a 128 KiB block
   * of 16 KiB frames needs just 7. This bound catches floods of tiny or empty frames that the size bound cannot.
   */
  readonly maxContinuationFrames: number;
}

/** The default {@link HeaderBlockLimits}. */
export const DEFAULT_HEADER_BLOCK_LIMITS: Readonly<HeaderBlockLimits> = Object.freeze({
  maxHeaderBlockSize: 64 * 1024,
  maxContinuationFrames: 8,
});

/**
 * Joins HEADERS and PUSH_PROMISE frames with their CONTINUATION frames (RFC 9113 4.3, 6.10), as a
 * {@link FrameHandler} placed between a {@link FrameReader} and the connection's handler.
 *
 * Downstream sees no CONTINUATION frame: a HEADERS or PUSH_PROMISE frame arrives once its block is complete,
 * with `data` holding the whole field block, END_HEADERS set and `continuations` counting the merged frames
 * (its other fields, padding and priority included, are those of the first frame, and `payload` is still the
 * first frame's payload, a view with the lifetime of its chunk). Every other frame passes through unchanged.
 *
 * It enforces the sequencing rules, all connection errors: while a block is open the next frame must be a
 * CONTINUATION on the same stream (any other frame, extension frames and frames dropped for stream errors
 * included, is a PROTOCOL_ERROR), and a CONTINUATION with no open block is a PROTOCOL_ERROR. And the flood
 * defence: a block larger than `maxHeaderBlockSize` or with more than `maxContinuationFrames` CONTINUATION frames
 * fails at the frame that crosses the line (ENHANCE_YOUR_CALM), before that frame's bytes are kept.
 *
 * A block that ends in its first frame is passed on as is (zero copy). A block split over several frames is
 * copied into a buffer the assembler owns, since its first fragments must outlive the chunks they came in; the
 * merged `data` is then valid for good.
 *
 * @example
 * ```ts
 * const reader = new FrameReader(
 *   new HeaderBlockAssembler({
 *     onFrame(frame) {
 *       if (frame.type === FrameType.HEADERS) console.log(decoder.decode(frame.data, frame.streamId).pairs());
 *     },
 *     onStreamError(err) { console.log(err.message); },
 *   }),
 * );
 * ```
 */
export class HeaderBlockAssembler implements FrameHandler {
  readonly #next: FrameHandler;
  readonly #maxSize: number;
  readonly #maxContinuations: number;
  /** The HEADERS or PUSH_PROMISE frame whose block is open, or null. */
  #open: Frame | null = null;
  #buffer: Buffer | null = null;
  #size = 0;
  #continuations = 0;

  constructor(next: FrameHandler, limits: Partial<HeaderBlockLimits> = {}) {
    this.#next = next;
    this.#maxSize = positive(
      "maxHeaderBlockSize",
      limits.maxHeaderBlockSize ?? DEFAULT_HEADER_BLOCK_LIMITS.maxHeaderBlockSize,
    );
    this.#maxContinuations = nonNegative(
      "maxContinuationFrames",
      limits.maxContinuationFrames ?? DEFAULT_HEADER_BLOCK_LIMITS.maxContinuationFrames,
    );
  }

  /** The stream whose header block is open (waiting for CONTINUATION), or 0. */
  get openStreamId(): number {
    return this.#open === null ? 0 : this.#open.streamId;
  }

  /** Bytes of the open block held so far. */
  get bufferedBytes(): number {
    return this.#size;
  }

  onFrame(frame: Frame): void {
    const open = this.#open;
    if (open !== null) {
      this.#continue(open, frame);
      return;
    }
    const type = frame.type;
    if (type === FrameType.CONTINUATION) {
      throw new Http2ProtocolError(
        `CONTINUATION on stream ${frame.streamId} without a HEADERS or PUSH_PROMISE before it`,
        "connection",
        frame.streamId,
      );
    }
    if (type === FrameType.HEADERS || type === FrameType.PUSH_PROMISE) {
      const size = frame.data.length;
      if (size > this.#maxSize) throw new Http2HeaderBlockTooLargeError(this.#maxSize, frame.streamId);
      if ((frame.flags & FrameFlag.END_HEADERS) === 0) {
        // The block goes on in CONTINUATION frames: copy what we have, the chunk it lives in may not last.
        const buffer = Buffer.allocUnsafe(Math.min(this.#maxSize, Math.max(4096, size * 2)));
        frame.data.copy(buffer, 0);
        this.#buffer = buffer;
        this.#size = size;
        this.#continuations = 0;
        this.#open = frame;
        return;
      }
    }
    this.#next.onFrame(frame);
  }

  onStreamError(error: Http2Error): void {
    if (this.#open !== null) {
      // The dropped frame was still a frame in the middle of a header block.
      throw new Http2ProtocolError(
        `a frame in the middle of the header block of stream ${this.#open.streamId} (${error.message})`,
        "connection",
        this.#open.streamId,
      );
    }
    this.#next.onStreamError(error);
  }

  #continue(open: Frame, frame: Frame): void {
    if (frame.type !== FrameType.CONTINUATION || frame.streamId !== open.streamId) {
      throw new Http2ProtocolError(
        `expected CONTINUATION on stream ${open.streamId}, got ${frameTypeName(frame.type)} on stream ${frame.streamId}`,
        "connection",
        open.streamId,
      );
    }
    if (++this.#continuations > this.#maxContinuations) {
      this.#reset();
      throw new Http2ContinuationFloodError(this.#maxContinuations, open.streamId);
    }
    const fragment = frame.data;
    const size = this.#size + fragment.length;
    if (size > this.#maxSize) {
      this.#reset();
      throw new Http2HeaderBlockTooLargeError(this.#maxSize, open.streamId);
    }
    let buffer = this.#buffer!;
    if (size > buffer.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.#maxSize, Math.max(size, buffer.length * 2)));
      buffer.copy(grown, 0, 0, this.#size);
      buffer = grown;
      this.#buffer = buffer;
    }
    fragment.copy(buffer, this.#size);
    this.#size = size;
    if ((frame.flags & FrameFlag.END_HEADERS) === 0) return;

    open.data = buffer.subarray(0, size);
    open.flags |= FrameFlag.END_HEADERS;
    open.continuations = this.#continuations;
    this.#reset();
    this.#next.onFrame(open);
  }

  #reset(): void {
    this.#open = null;
    this.#buffer = null;
    this.#size = 0;
    this.#continuations = 0;
  }
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer`);
  return value;
}
