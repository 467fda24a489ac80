import {
  FRAME_HEADER_LENGTH,
  FrameFlag,
  FrameType,
  frameTypeName,
  MAX_MAX_FRAME_SIZE,
  MIN_MAX_FRAME_SIZE,
} from "./constants.js";
import { type Http2Error, Http2FrameSizeError, Http2PrefaceError, Http2ProtocolError } from "./errors.js";
import { EMPTY_BUFFER, Frame, type FrameHandler } from "./frame-types.js";
import { PrefaceMatcher } from "./preface.js";
import { checkSetting } from "./settings.js";

/** Options of a {@link FrameReader}. */
export interface FrameReaderOptions {
  /**
   * Largest frame payload accepted: the SETTINGS_MAX_FRAME_SIZE this endpoint advertised, 16384 to 2^24-1.
   * Default 16384. A larger frame is a connection FRAME_SIZE_ERROR, raised as soon as its 9-byte header is in,
   * before any of its payload is buffered. Change it later with {@link FrameReader.maxFrameSize}.
   */
  readonly maxFrameSize?: number;
  /**
   * What the peer must open the connection with (RFC 9113 3.4):
   * - `"client"`: the peer is a client (we are the server): the 24-byte preface magic, then a SETTINGS frame;
   * - `"server"`: the peer is a server: a SETTINGS frame first;
   * - `"none"` (default): frames from the first byte, no check (tests, or a connection already under way).
   *
   * A violation is an {@link Http2PrefaceError}.
   */
  readonly preface?: "client" | "server" | "none";
}

const S_PREFACE = 0;
const S_HEADER = 1;
const S_PAYLOAD = 2; // filling #payload (a frame that spans chunks)
const S_SKIP = 3; // discarding the payload of a frame dropped for a stream error

const STREAM_ID_MASK = 0x7fffffff;

/**
 * An incremental HTTP/2 frame reader (RFC 9113 sections 4 and 6). Push the bytes of a connection in any split,
 * one byte at a time included; each complete frame goes to `handler.onFrame` as one {@link Frame}, the same
 * whatever the split.
 *
 * It checks every rule that holds regardless of stream state: the size limit, the fixed lengths (PING 8,
 * PRIORITY 5, RST_STREAM 4, WINDOW_UPDATE 4, SETTINGS a multiple of 6 and empty with ACK, GOAWAY at least 8),
 * which types need stream 0 and which must not have it, padding, PRIORITY fields in HEADERS, a stream depending
 * on itself, SETTINGS value ranges, a zero WINDOW_UPDATE increment. Reserved bits are ignored. Extension frame
 * types (any type above 0x9) are passed on untouched: the caller ignores them, a fingerprint may record them.
 *
 * A connection error is thrown from `push()` as an {@link Http2Error}; after it (or after anything the handler
 * throws) the reader is dead and every later `push()` throws the same error. A stream error drops the frame,
 * goes to `handler.onStreamError`, and reading continues.
 *
 * Not checked here (they need connection or stream state): HEADERS/CONTINUATION sequencing (see
 * {@link HeaderBlockAssembler}), stream states and id order, flow-control windows, PUSH_PROMISE received by a
 * server or with push disabled, a missing SETTINGS ACK.
 *
 * Frames are views into the pushed chunks whenever a frame lies within one chunk; a frame that spans chunks is
 * copied once into a buffer of its own (at most `maxFrameSize` bytes are ever buffered). See {@link Frame} for
 * how long the views live.
 *
 * @example
 * ```ts
 * const reader = new FrameReader({
 *   onFrame(frame) { console.log(frame.toString()); },
 *   onStreamError(err) { console.log("reset stream", err.streamId, err.errorName); },
 * }, { preface: "client" });
 * socket.on("data", (chunk) => reader.push(chunk)); // throws Http2Error on a connection error
 * ```
 */
export class FrameReader {
  readonly #handler: FrameHandler;
  #maxFrameSize: number;
  #state: number;
  #preface: PrefaceMatcher | null;
  /** The next frame must be a SETTINGS frame without ACK (the peer's connection preface). */
  #expectSettings: boolean;
  readonly #head: Buffer = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
  #headLen = 0;
  #type = 0;
  #flags = 0;
  #streamId = 0;
  #length = 0;
  /** The stream error that drops the current frame, found from its header alone (PRIORITY of a bad length). */
  #drop: Http2Error | null = null;
  #payload: Buffer = EMPTY_BUFFER;
  #filled = 0;
  #frames = 0;
  #busy = false;
  #failed = false;
  #failure: unknown = undefined;

  constructor(handler: FrameHandler, options: FrameReaderOptions = {}) {
    this.#handler = handler;
    this.#maxFrameSize = checkMaxFrameSize(options.maxFrameSize ?? MIN_MAX_FRAME_SIZE);
    const preface = options.preface ?? "none";
    if (preface !== "client" && preface !== "server" && preface !== "none") {
      throw new TypeError(`preface must be "client", "server" or "none", got ${String(preface)}`);
    }
    this.#preface = preface === "client" ? new PrefaceMatcher() : null;
    this.#state = preface === "client" ? S_PREFACE : S_HEADER;
    this.#expectSettings = preface !== "none";
  }

  /**
   * The largest frame payload accepted. Raise it when sending a larger SETTINGS_MAX_FRAME_SIZE (the peer may use
   * it as soon as it has read our SETTINGS); it applies from the next frame header on.
   */
  get maxFrameSize(): number {
    return this.#maxFrameSize;
  }

  set maxFrameSize(size: number) {
    this.#maxFrameSize = checkMaxFrameSize(size);
  }

  /** Number of frames delivered to `onFrame` so far. */
  get framesRead(): number {
    return this.#frames;
  }

  /** True between frames (no partial preface, header or payload held): a clean place for the connection to end. */
  get idle(): boolean {
    return this.#state === S_HEADER && this.#headLen === 0 && !this.#failed;
  }

  /**
   * Reads frames from `chunk`: every frame it completes goes to the handler before `push` returns; a partial
   * frame at the end is kept for the next call. Throws the connection error, if any (see the class docs).
   */
  push(chunk: Uint8Array): void {
    if (this.#failed) throw this.#failure;
    if (this.#busy) throw new Error("FrameReader.push() called from within its own handler");
    this.#busy = true;
    try {
      this.#execute(
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
    } catch (err) {
      // Whatever was thrown, by us or by the handler, the position in the byte stream is now lost.
      this.#failed = true;
      this.#failure = err;
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  #execute(chunk: Buffer): void {
    const end = chunk.length;
    let i = 0;
    while (i < end) {
      switch (this.#state) {
        case S_HEADER: {
          if (this.#headLen === 0 && end - i >= FRAME_HEADER_LENGTH) {
            this.#readHeader(chunk, i); // the common case: the whole header is in this chunk
            i += FRAME_HEADER_LENGTH;
          } else {
            const n = Math.min(FRAME_HEADER_LENGTH - this.#headLen, end - i);
            chunk.copy(this.#head, this.#headLen, i, i + n);
            this.#headLen += n;
            i += n;
            if (this.#headLen < FRAME_HEADER_LENGTH) return;
            this.#headLen = 0;
            this.#readHeader(this.#head, 0);
          }
          const length = this.#length;
          if (length === 0) {
            this.#complete(EMPTY_BUFFER);
          } else if (this.#drop !== null) {
            this.#filled = 0;
            this.#state = S_SKIP;
          } else if (end - i >= length) {
            const payload = chunk.subarray(i, i + length);
            i += length;
            this.#complete(payload);
          } else {
            // The frame spans chunks: give it a buffer of its own, never reused, so its views stay valid.
            this.#payload = Buffer.allocUnsafe(length);
            this.#filled = chunk.copy(this.#payload, 0, i, end);
            this.#state = S_PAYLOAD;
            return;
          }
          break;
        }
        case S_PAYLOAD: {
          const n = Math.min(this.#length - this.#filled, end - i);
          chunk.copy(this.#payload, this.#filled, i, i + n);
          this.#filled += n;
          i += n;
          if (this.#filled < this.#length) return;
          const payload = this.#payload;
          this.#payload = EMPTY_BUFFER;
          this.#state = S_HEADER;
          this.#complete(payload);
          break;
        }
        case S_SKIP: {
          const n = Math.min(this.#length - this.#filled, end - i);
          this.#filled += n;
          i += n;
          if (this.#filled < this.#length) return;
          this.#state = S_HEADER;
          this.#complete(EMPTY_BUFFER);
          break;
        }
        default: {
          // S_PREFACE
          const next = this.#preface!.match(chunk, i);
          if (next < 0) return;
          this.#preface = null;
          this.#state = S_HEADER;
          i = next;
          break;
        }
      }
    }
  }

  /** Decodes a frame header and applies every check that needs nothing but the header. */
  #readHeader(b: Buffer, at: number): void {
    const length = (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
    const type = b[at + 3]!;
    const flags = b[at + 4]!;
    // The reserved high bit is ignored (RFC 9113 4.1); masking first keeps the shift in positive int range.
    const streamId = ((b[at + 5]! & 0x7f) << 24) | (b[at + 6]! << 16) | (b[at + 7]! << 8) | b[at + 8]!;
    this.#length = length;
    this.#type = type;
    this.#flags = flags;
    this.#streamId = streamId;
    this.#drop = null;

    if (this.#expectSettings) {
      if (type !== FrameType.SETTINGS || (flags & FrameFlag.ACK) !== 0) {
        throw new Http2PrefaceError(
          `the connection preface must end with a SETTINGS frame, got ${frameTypeName(type)}${
            type === FrameType.SETTINGS ? " with ACK" : ""
          }`,
        );
      }
      this.#expectSettings = false;
    }
    if (length > this.#maxFrameSize) {
      throw new Http2FrameSizeError(
        `${frameTypeName(type)} frame of ${length} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${this.#maxFrameSize}`,
        "connection",
        streamId,
      );
    }

    const padded = (flags & FrameFlag.PADDED) !== 0;
    switch (type) {
      case FrameType.DATA:
        requireStream(type, streamId);
        if (padded && length < 1) throw tooShort(type, length, streamId);
        break;
      case FrameType.HEADERS:
        requireStream(type, streamId);
        if (length < (padded ? 1 : 0) + ((flags & FrameFlag.PRIORITY) !== 0 ? 5 : 0)) {
          throw tooShort(type, length, streamId);
        }
        break;
      case FrameType.PRIORITY:
        requireStream(type, streamId);
        // The one frame-size error that is a stream error (RFC 9113 6.3): drop the frame, keep the connection.
        if (length !== 5)
          this.#drop = new Http2FrameSizeError(badLength(type, length, "5"), "stream", streamId);
        break;
      case FrameType.RST_STREAM:
        requireStream(type, streamId);
        if (length !== 4) throw new Http2FrameSizeError(badLength(type, length, "4"), "connection", streamId);
        break;
      case FrameType.SETTINGS:
        requireConnection(type, streamId);
        if ((flags & FrameFlag.ACK) !== 0) {
          if (length !== 0) throw new Http2FrameSizeError(badLength(type, length, "0 with ACK"));
        } else if (length % 6 !== 0) {
          throw new Http2FrameSizeError(badLength(type, length, "a multiple of 6"));
        }
        break;
      case FrameType.PUSH_PROMISE:
        requireStream(type, streamId);
        if (length < (padded ? 5 : 4)) throw tooShort(type, length, streamId);
        break;
      case FrameType.PING:
        requireConnection(type, streamId);
        if (length !== 8) throw new Http2FrameSizeError(badLength(type, length, "8"));
        break;
      case FrameType.GOAWAY:
        requireConnection(type, streamId);
        if (length < 8) throw tooShort(type, length, streamId);
        break;
      case FrameType.WINDOW_UPDATE:
        if (length !== 4) throw new Http2FrameSizeError(badLength(type, length, "4"), "connection", streamId);
        break;
      case FrameType.CONTINUATION:
        requireStream(type, streamId);
        break;
      default:
        break; // extension frames: no rules to check
    }
  }

  /** A complete payload: decode the type's fields and deliver the frame, or report the stream error. */
  #complete(payload: Buffer): void {
    const drop = this.#drop;
    if (drop !== null) {
      this.#drop = null;
      this.#handler.onStreamError(drop);
      return;
    }
    const frame = new Frame(this.#type, this.#flags, this.#streamId, this.#length, payload);
    const error = decodePayload(frame, payload);
    if (error !== null) {
      this.#handler.onStreamError(error);
      return;
    }
    this.#frames++;
    this.#handler.onFrame(frame);
  }
}

/**
 * Fills the type-specific fields of `frame` from its payload (whose length the header checks already
 * validated). Throws connection errors; returns a stream error for the frame to be dropped, or null.
 */
function decodePayload(frame: Frame, p: Buffer): Http2Error | null {
  const length = p.length;
  const streamId = frame.streamId;
  switch (frame.type) {
    case FrameType.DATA: {
      if ((frame.flags & FrameFlag.PADDED) === 0) {
        frame.data = p;
        return null;
      }
      const pad = p[0]!;
      if (pad > length - 1) throw badPadding(frame, pad);
      frame.padLength = pad;
      frame.data = p.subarray(1, length - pad);
      return null;
    }
    case FrameType.HEADERS: {
      let off = 0;
      let pad = 0;
      if ((frame.flags & FrameFlag.PADDED) !== 0) {
        pad = p[0]!;
        off = 1;
      }
      if ((frame.flags & FrameFlag.PRIORITY) !== 0) {
        readPriority(frame, p, off);
        off += 5;
        // A stream error by RFC 7540 5.3.1, raised to a connection error here: a HEADERS frame cannot be dropped
        // without desynchronizing HPACK, and RFC 9113 5.4.1 lets any stream error be treated this way.
        if (frame.dependency === streamId) {
          throw new Http2ProtocolError(
            `HEADERS on stream ${streamId} depends on itself`,
            "connection",
            streamId,
          );
        }
      }
      if (pad > length - off) throw badPadding(frame, pad);
      frame.padLength = pad;
      frame.data = p.subarray(off, length - pad);
      return null;
    }
    case FrameType.PRIORITY:
      readPriority(frame, p, 0);
      if (frame.dependency === streamId) {
        return new Http2ProtocolError(`PRIORITY on stream ${streamId} depends on itself`, "stream", streamId);
      }
      return null;
    case FrameType.RST_STREAM:
      frame.errorCode = p.readUInt32BE(0);
      return null;
    case FrameType.SETTINGS: {
      if (length === 0) return null;
      const entries: number[] = new Array(length / 3);
      for (let off = 0, k = 0; off < length; off += 6, k += 2) {
        const id = p.readUInt16BE(off);
        const value = p.readUInt32BE(off + 2);
        const error = checkSetting(id, value);
        if (error !== null) throw error;
        entries[k] = id;
        entries[k + 1] = value;
      }
      frame.settings = entries;
      return null;
    }
    case FrameType.PUSH_PROMISE: {
      let off = 0;
      let pad = 0;
      if ((frame.flags & FrameFlag.PADDED) !== 0) {
        pad = p[0]!;
        off = 1;
      }
      const promised = p.readUInt32BE(off) & STREAM_ID_MASK;
      off += 4;
      if (promised === 0) {
        throw new Http2ProtocolError("PUSH_PROMISE promises stream 0", "connection", streamId);
      }
      if (pad > length - off) throw badPadding(frame, pad);
      frame.promisedStreamId = promised;
      frame.padLength = pad;
      frame.data = p.subarray(off, length - pad);
      return null;
    }
    case FrameType.GOAWAY:
      frame.lastStreamId = p.readUInt32BE(0) & STREAM_ID_MASK;
      frame.errorCode = p.readUInt32BE(4);
      frame.data = p.subarray(8);
      return null;
    case FrameType.WINDOW_UPDATE: {
      const increment = p.readUInt32BE(0) & STREAM_ID_MASK;
      if (increment === 0) {
        // RFC 9113 6.9: a stream error on a stream, a connection error on the connection window.
        if (streamId === 0)
          throw new Http2ProtocolError("WINDOW_UPDATE with an increment of 0 on the connection");
        return new Http2ProtocolError("WINDOW_UPDATE with an increment of 0", "stream", streamId);
      }
      frame.windowIncrement = increment;
      return null;
    }
    default:
      // PING (opaque data), CONTINUATION (fragment) and extension frames: the payload is the content.
      frame.data = p;
      return null;
  }
}

function readPriority(frame: Frame, p: Buffer, off: number): void {
  const word = p.readUInt32BE(off);
  frame.exclusive = word >>> 31 === 1;
  frame.dependency = word & STREAM_ID_MASK;
  frame.weight = p[off + 4]! + 1;
}

function requireStream(type: number, streamId: number): void {
  if (streamId === 0) throw new Http2ProtocolError(`${frameTypeName(type)} frame on stream 0`);
}

function requireConnection(type: number, streamId: number): void {
  if (streamId !== 0) {
    throw new Http2ProtocolError(
      `${frameTypeName(type)} frame on stream ${streamId} (must be 0)`,
      "connection",
      streamId,
    );
  }
}

function badLength(type: number, length: number, expected: string): string {
  return `${frameTypeName(type)} frame of length ${length} (must be ${expected})`;
}

function tooShort(type: number, length: number, streamId: number): Http2Error {
  return new Http2FrameSizeError(
    `${frameTypeName(type)} frame of length ${length} is too short for its fields`,
    "connection",
    streamId,
  );
}

function badPadding(frame: Frame, pad: number): Http2Error {
  return new Http2ProtocolError(
    `${frameTypeName(frame.type)} padding of ${pad} bytes does not fit in a payload of ${frame.length}`,
    "connection",
    frame.streamId,
  );
}

function checkMaxFrameSize(size: number): number {
  if (!Number.isInteger(size) || size < MIN_MAX_FRAME_SIZE || size > MAX_MAX_FRAME_SIZE) {
    throw new RangeError(`maxFrameSize must be an integer in [16384, 2^24-1], got ${String(size)}`);
  }
  return size;
}
