import { FrameFlag, FrameType, frameTypeName } from "./constants.js";
import type { Http2Error } from "./errors.js";

/** A zero-length buffer shared by every frame without that part (never written to: it has no bytes). */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);
const NO_SETTINGS: readonly number[] = Object.freeze([]);

/**
 * One decoded frame. Every frame has this one shape whatever its type (so code that handles frames stays
 * monomorphic); the fields that do not apply to a type hold their zero value.
 *
 * | type                          | fields                                                                  |
 * | ----------------------------- | ----------------------------------------------------------------------- |
 * | DATA                          | `data` (padding removed), `padLength`                                   |
 * | HEADERS                       | `data` = field block fragment, `padLength`, priority fields if flagged  |
 * | PRIORITY                      | `dependency`, `weight`, `exclusive`                                     |
 * | RST_STREAM                    | `errorCode`                                                             |
 * | SETTINGS                      | `settings` = `[id, value, id, value, ...]` in wire order                |
 * | PUSH_PROMISE                  | `promisedStreamId`, `data` = field block fragment, `padLength`          |
 * | PING                          | `data` = the 8 opaque bytes                                             |
 * | GOAWAY                        | `lastStreamId`, `errorCode`, `data` = debug data                        |
 * | WINDOW_UPDATE                 | `windowIncrement`                                                       |
 * | CONTINUATION                  | `data` = field block fragment                                           |
 * | anything else (extension)     | `data` = `payload`                                                      |
 *
 * **Lifetime of `payload` and `data`.** They are views, not copies: into the chunk given to
 * `FrameReader.push()` when the frame lies within one chunk, or into a buffer the reader allocated for this one
 * frame when it spans chunks (that buffer is never reused). They stay valid as long as the caller does not
 * overwrite the chunk it pushed; Node's socket chunks are never reused, so there they are valid for good. A
 * caller that reuses its read buffers must copy what it keeps past the `onFrame` call. A view also keeps the
 * whole chunk alive: copy a small part you hold on to for long (a GOAWAY debug string, say).
 */
export class Frame {
  /** Frame type: a {@link FrameType}, or any other byte for an extension frame. */
  type: number;
  /** Flag bits as received, unknown bits included (they carry no meaning but are part of a fingerprint). */
  flags: number;
  /** Stream identifier, reserved bit cleared. */
  streamId: number;
  /** Payload length on the wire, padding included: what flow control counts for DATA (RFC 9113 6.9). */
  length: number;
  /** The whole payload as received (a view; see the class docs). */
  payload: Buffer;
  /** The content of the frame by type (see the table above); padding and fixed fields removed. */
  data: Buffer;
  /** The Pad Length field of a PADDED frame (the padding bytes are not in `data`), else 0. */
  padLength: number;
  /** PRIORITY, and HEADERS with the PRIORITY flag: the stream this one depends on. Else 0. */
  dependency: number;
  /** PRIORITY, and HEADERS with the PRIORITY flag: the weight, 1 to 256 (the wire byte plus one). Else 0. */
  weight: number;
  /** PRIORITY, and HEADERS with the PRIORITY flag: the exclusive bit. Else false. */
  exclusive: boolean;
  /** RST_STREAM and GOAWAY: the error code (possibly one RFC 9113 does not define). Else 0. */
  errorCode: number;
  /** GOAWAY: the last stream id the sender may have processed. Else 0. */
  lastStreamId: number;
  /** WINDOW_UPDATE: the increment, 1 to 2^31-1. Else 0. */
  windowIncrement: number;
  /** PUSH_PROMISE: the promised stream id. Else 0. */
  promisedStreamId: number;
  /** SETTINGS: flat `[id, value, ...]` pairs in wire order, unknown ids included. Else empty. */
  settings: readonly number[];
  /**
   * HEADERS and PUSH_PROMISE delivered by a {@link HeaderBlockAssembler}: how many CONTINUATION frames were
   * merged into `data`. Else 0.
   */
  continuations: number;

  constructor(type: number, flags: number, streamId: number, length: number, payload: Buffer) {
    this.type = type;
    this.flags = flags;
    this.streamId = streamId;
    this.length = length;
    this.payload = payload;
    this.data = EMPTY_BUFFER;
    this.padLength = 0;
    this.dependency = 0;
    this.weight = 0;
    this.exclusive = false;
    this.errorCode = 0;
    this.lastStreamId = 0;
    this.windowIncrement = 0;
    this.promisedStreamId = 0;
    this.settings = NO_SETTINGS;
    this.continuations = 0;
  }

  /** DATA or HEADERS with END_STREAM. */
  get endStream(): boolean {
    return (
      (this.flags & FrameFlag.END_STREAM) !== 0 &&
      (this.type === FrameType.DATA || this.type === FrameType.HEADERS)
    );
  }

  /** HEADERS, PUSH_PROMISE or CONTINUATION with END_HEADERS: the field block ends with this frame. */
  get endHeaders(): boolean {
    return (
      (this.flags & FrameFlag.END_HEADERS) !== 0 &&
      (this.type === FrameType.HEADERS ||
        this.type === FrameType.PUSH_PROMISE ||
        this.type === FrameType.CONTINUATION)
    );
  }

  /** SETTINGS or PING with ACK. */
  get ack(): boolean {
    return (
      (this.flags & FrameFlag.ACK) !== 0 && (this.type === FrameType.SETTINGS || this.type === FrameType.PING)
    );
  }

  /** HEADERS with the PRIORITY flag (its priority fields are set). */
  get hasPriority(): boolean {
    return (this.flags & FrameFlag.PRIORITY) !== 0 && this.type === FrameType.HEADERS;
  }

  /** A short description for logs, e.g. `HEADERS stream=1 flags=0x5 length=42`. */
  toString(): string {
    return `${frameTypeName(this.type)} stream=${this.streamId} flags=0x${this.flags.toString(16)} length=${this.length}`;
  }
}

/**
 * Where a {@link FrameReader} sends what it reads. A frame that breaks a connection-level rule is thrown from
 * `push()` instead; a frame that breaks a stream-level rule is dropped and reported to `onStreamError`, and
 * reading goes on (the connection resets that stream).
 */
export interface FrameHandler {
  /** A valid frame, in wire order (extension frames included). */
  onFrame(frame: Frame): void;
  /**
   * A frame was dropped because of a stream error (RFC 9113 5.4.2): `error.scope` is `"stream"` and
   * `error.streamId` the stream to reset with `error.errorCode`. The frames that can cause one carry no other
   * state (PRIORITY of the wrong length or depending on itself, WINDOW_UPDATE with increment 0 on a stream).
   */
  onStreamError(error: Http2Error): void;
}

/** Stream priority as carried by PRIORITY frames and HEADERS with the PRIORITY flag (RFC 9113 5.3.2). */
export interface PrioritySpec {
  /** The stream depended on (0 for the root). */
  readonly dependency: number;
  /** 1 to 256. */
  readonly weight: number;
  /** The exclusive flag. Default false. */
  readonly exclusive?: boolean;
}
