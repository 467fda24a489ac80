import {
  FRAME_HEADER_LENGTH,
  FrameFlag,
  FrameType,
  MAX_MAX_FRAME_SIZE,
  MAX_STREAM_ID,
  MAX_UINT32,
  MAX_WINDOW_SIZE,
  MIN_MAX_FRAME_SIZE,
} from "./constants.js";
import { InvalidOutgoingFrameError } from "./errors.js";
import type { PrioritySpec } from "./frame-types.js";
import { CONNECTION_PREFACE, CONNECTION_PREFACE_LENGTH } from "./preface.js";
import { isValidSettingValue, settingName } from "./settings.js";

// Every frame is built by a pair of functions: `xxxSize(...)` validates the arguments and returns the encoded
// size, `writeXxx(buf, off, ...)` writes exactly that many bytes. The free `encodeXxx` functions allocate one
// Buffer of the right size per call; FrameWriter writes many frames into one slab for a single socket write.

/** Options of a DATA frame. */
export interface DataFrameOptions {
  /** Set END_STREAM. */
  readonly endStream?: boolean;
  /**
   * Padding octets to add, 0 to 255. When given (even 0), the frame has the PADDED flag and a Pad Length field,
   * so it costs `padding + 1` bytes more; flow control counts them (RFC 9113 6.1).
   */
  readonly padding?: number;
  /** The peer's SETTINGS_MAX_FRAME_SIZE; a longer frame is refused. Default 16384 (what every peer accepts). */
  readonly maxFrameSize?: number;
}

/** Options of a HEADERS frame. */
export interface HeadersFrameOptions {
  /** Set END_STREAM (on the HEADERS frame; CONTINUATION frames have no such flag). */
  readonly endStream?: boolean;
  /** Send the PRIORITY fields (and flag). Browsers' choices of these are part of their fingerprint. */
  readonly priority?: PrioritySpec;
  /** Padding octets on the HEADERS frame, 0 to 255 (see {@link DataFrameOptions.padding}). */
  readonly padding?: number;
  /**
   * The peer's SETTINGS_MAX_FRAME_SIZE: a block that does not fit in the HEADERS frame goes on in CONTINUATION
   * frames of at most this size. Default 16384.
   */
  readonly maxFrameSize?: number;
}

/** Options of a PUSH_PROMISE frame. */
export interface PushPromiseFrameOptions {
  /** Padding octets, 0 to 255. */
  readonly padding?: number;
  /** The peer's SETTINGS_MAX_FRAME_SIZE (the block is split into CONTINUATION frames). Default 16384. */
  readonly maxFrameSize?: number;
}

/** SETTINGS entries in the order they go on the wire: `[id, value]` pairs (see `settingsEntries`). */
export type SettingsEntries = readonly (readonly [id: number, value: number])[];

// ---------------------------------------------------------------------------------------------------------
// Validation

function fail(message: string): never {
  throw new InvalidOutgoingFrameError(message);
}

function checkStream(what: string, streamId: number): void {
  if (!Number.isInteger(streamId) || streamId < 1 || streamId > MAX_STREAM_ID) {
    fail(`${what} needs a stream id in [1, 2^31-1], got ${String(streamId)}`);
  }
}

function checkStreamOrZero(what: string, streamId: number): void {
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > MAX_STREAM_ID) {
    fail(`${what} needs a stream id in [0, 2^31-1], got ${String(streamId)}`);
  }
}

function checkUint32(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_UINT32)
    fail(`${what} must be a uint32, got ${String(value)}`);
}

function checkPadding(padding: number | undefined): number {
  if (padding === undefined) return 0;
  if (!Number.isInteger(padding) || padding < 0 || padding > 255) {
    fail(`padding must be an integer in [0, 255], got ${String(padding)}`);
  }
  return padding + 1;
}

function checkMaxFrameSize(size: number | undefined): number {
  if (size === undefined) return MIN_MAX_FRAME_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_MAX_FRAME_SIZE) {
    fail(`maxFrameSize must be an integer in [1, 2^24-1], got ${String(size)}`);
  }
  return size;
}

function checkPriority(streamId: number, priority: PrioritySpec): void {
  checkStreamOrZero("a priority dependency", priority.dependency);
  if (priority.dependency === streamId) fail(`stream ${streamId} cannot depend on itself`);
  if (!Number.isInteger(priority.weight) || priority.weight < 1 || priority.weight > 256) {
    fail(`priority weight must be an integer in [1, 256], got ${String(priority.weight)}`);
  }
}

function checkLength(what: string, length: number, maxFrameSize: number): void {
  if (length > maxFrameSize)
    fail(`${what} payload of ${length} bytes exceeds the frame size limit ${maxFrameSize}`);
}

// ---------------------------------------------------------------------------------------------------------
// Writers: each returns the offset after what it wrote.

function writeHeader(
  buf: Buffer,
  off: number,
  length: number,
  type: number,
  flags: number,
  streamId: number,
): number {
  buf[off] = length >>> 16;
  buf[off + 1] = (length >>> 8) & 0xff;
  buf[off + 2] = length & 0xff;
  buf[off + 3] = type;
  buf[off + 4] = flags;
  buf.writeUInt32BE(streamId, off + 5);
  return off + FRAME_HEADER_LENGTH;
}

function writeBytes(buf: Buffer, off: number, bytes: Uint8Array, start: number, end: number): number {
  buf.set(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), off);
  return off + (end - start);
}

function writePriority(buf: Buffer, off: number, priority: PrioritySpec): number {
  buf.writeUInt32BE((priority.exclusive === true ? 0x80000000 : 0) + priority.dependency, off);
  buf[off + 4] = priority.weight - 1;
  return off + 5;
}

/** Padding octets are zero (RFC 9113 6.1: "Padding octets MUST be set to zero when sending"). */
function writeZeros(buf: Buffer, off: number, n: number): number {
  buf.fill(0, off, off + n);
  return off + n;
}

// DATA ------------------------------------------------------------------------------------------------------

function dataSize(streamId: number, data: Uint8Array, options: DataFrameOptions | undefined): number {
  checkStream("DATA", streamId);
  const length = data.length + checkPadding(options?.padding);
  checkLength("DATA", length, checkMaxFrameSize(options?.maxFrameSize));
  return FRAME_HEADER_LENGTH + length;
}

function writeData(
  buf: Buffer,
  off: number,
  streamId: number,
  data: Uint8Array,
  options: DataFrameOptions | undefined,
): number {
  const padded = options?.padding !== undefined;
  const padding = options?.padding ?? 0;
  const flags = (options?.endStream === true ? FrameFlag.END_STREAM : 0) | (padded ? FrameFlag.PADDED : 0);
  let o = writeHeader(buf, off, data.length + (padded ? padding + 1 : 0), FrameType.DATA, flags, streamId);
  if (padded) buf[o++] = padding;
  o = writeBytes(buf, o, data, 0, data.length);
  return writeZeros(buf, o, padding);
}

// HEADERS, PUSH_PROMISE and their CONTINUATION frames -----------------------------------------------------

/** How many block bytes go in the first frame (HEADERS or PUSH_PROMISE), given the fixed fields before them. */
function firstFragment(blockLength: number, fixed: number, maxFrameSize: number): number {
  if (fixed > maxFrameSize)
    fail(`padding and priority fields (${fixed} bytes) exceed the frame size limit ${maxFrameSize}`);
  return Math.min(blockLength, maxFrameSize - fixed);
}

function continuationsSize(rest: number, maxFrameSize: number): number {
  return rest === 0 ? 0 : Math.ceil(rest / maxFrameSize) * FRAME_HEADER_LENGTH + rest;
}

function writeContinuations(
  buf: Buffer,
  off: number,
  streamId: number,
  block: Uint8Array,
  from: number,
  maxFrameSize: number,
): number {
  let o = off;
  for (let at = from; at < block.length; ) {
    const n = Math.min(maxFrameSize, block.length - at);
    const flags = at + n === block.length ? FrameFlag.END_HEADERS : 0;
    o = writeHeader(buf, o, n, FrameType.CONTINUATION, flags, streamId);
    o = writeBytes(buf, o, block, at, at + n);
    at += n;
  }
  return o;
}

function headersSize(streamId: number, block: Uint8Array, options: HeadersFrameOptions | undefined): number {
  checkStream("HEADERS", streamId);
  const max = checkMaxFrameSize(options?.maxFrameSize);
  const priority = options?.priority;
  if (priority !== undefined) checkPriority(streamId, priority);
  const fixed = checkPadding(options?.padding) + (priority !== undefined ? 5 : 0);
  const first = firstFragment(block.length, fixed, max);
  return FRAME_HEADER_LENGTH + fixed + first + continuationsSize(block.length - first, max);
}

function writeHeaders(
  buf: Buffer,
  off: number,
  streamId: number,
  block: Uint8Array,
  options: HeadersFrameOptions | undefined,
): number {
  const max = options?.maxFrameSize ?? MIN_MAX_FRAME_SIZE;
  const padded = options?.padding !== undefined;
  const padding = options?.padding ?? 0;
  const priority = options?.priority;
  const fixed = (padded ? padding + 1 : 0) + (priority !== undefined ? 5 : 0);
  const first = Math.min(block.length, max - fixed);
  const flags =
    (options?.endStream === true ? FrameFlag.END_STREAM : 0) |
    (first === block.length ? FrameFlag.END_HEADERS : 0) |
    (padded ? FrameFlag.PADDED : 0) |
    (priority !== undefined ? FrameFlag.PRIORITY : 0);
  let o = writeHeader(buf, off, fixed + first, FrameType.HEADERS, flags, streamId);
  if (padded) buf[o++] = padding;
  if (priority !== undefined) o = writePriority(buf, o, priority);
  o = writeBytes(buf, o, block, 0, first);
  o = writeZeros(buf, o, padding);
  return writeContinuations(buf, o, streamId, block, first, max);
}

function pushPromiseSize(
  streamId: number,
  promisedStreamId: number,
  block: Uint8Array,
  options: PushPromiseFrameOptions | undefined,
): number {
  checkStream("PUSH_PROMISE", streamId);
  checkStream("a promised stream", promisedStreamId);
  const max = checkMaxFrameSize(options?.maxFrameSize);
  const fixed = checkPadding(options?.padding) + 4;
  const first = firstFragment(block.length, fixed, max);
  return FRAME_HEADER_LENGTH + fixed + first + continuationsSize(block.length - first, max);
}

function writePushPromise(
  buf: Buffer,
  off: number,
  streamId: number,
  promisedStreamId: number,
  block: Uint8Array,
  options: PushPromiseFrameOptions | undefined,
): number {
  const max = options?.maxFrameSize ?? MIN_MAX_FRAME_SIZE;
  const padded = options?.padding !== undefined;
  const padding = options?.padding ?? 0;
  const fixed = (padded ? padding + 1 : 0) + 4;
  const first = Math.min(block.length, max - fixed);
  const flags = (first === block.length ? FrameFlag.END_HEADERS : 0) | (padded ? FrameFlag.PADDED : 0);
  let o = writeHeader(buf, off, fixed + first, FrameType.PUSH_PROMISE, flags, streamId);
  if (padded) buf[o++] = padding;
  buf.writeUInt32BE(promisedStreamId, o);
  o = writeBytes(buf, o + 4, block, 0, first);
  o = writeZeros(buf, o, padding);
  return writeContinuations(buf, o, streamId, block, first, max);
}

// Fixed-size frames ---------------------------------------------------------------------------------------

function prioritySize(streamId: number, priority: PrioritySpec): number {
  checkStream("PRIORITY", streamId);
  checkPriority(streamId, priority);
  return FRAME_HEADER_LENGTH + 5;
}

function writePriorityFrame(buf: Buffer, off: number, streamId: number, priority: PrioritySpec): number {
  return writePriority(buf, writeHeader(buf, off, 5, FrameType.PRIORITY, 0, streamId), priority);
}

function rstStreamSize(streamId: number, errorCode: number): number {
  checkStream("RST_STREAM", streamId);
  checkUint32("an error code", errorCode);
  return FRAME_HEADER_LENGTH + 4;
}

function writeRstStream(buf: Buffer, off: number, streamId: number, errorCode: number): number {
  const o = writeHeader(buf, off, 4, FrameType.RST_STREAM, 0, streamId);
  buf.writeUInt32BE(errorCode, o);
  return o + 4;
}

function settingsSize(entries: SettingsEntries): number {
  for (const [id, value] of entries) {
    if (!Number.isInteger(id) || id < 0 || id > 0xffff)
      fail(`setting id must be a uint16, got ${String(id)}`);
    if (!isValidSettingValue(id, value))
      fail(`invalid value ${String(value)} for setting ${settingName(id)}`);
  }
  checkLength("SETTINGS", entries.length * 6, MIN_MAX_FRAME_SIZE);
  return FRAME_HEADER_LENGTH + entries.length * 6;
}

function writeSettings(buf: Buffer, off: number, entries: SettingsEntries): number {
  let o = writeHeader(buf, off, entries.length * 6, FrameType.SETTINGS, 0, 0);
  for (const [id, value] of entries) {
    buf.writeUInt16BE(id, o);
    buf.writeUInt32BE(value, o + 2);
    o += 6;
  }
  return o;
}

function writeSettingsAck(buf: Buffer, off: number): number {
  return writeHeader(buf, off, 0, FrameType.SETTINGS, FrameFlag.ACK, 0);
}

const ZERO_PING: Uint8Array = new Uint8Array(8);

function pingSize(data: Uint8Array): number {
  if (data.length !== 8) fail(`PING data must be 8 bytes, got ${data.length}`);
  return FRAME_HEADER_LENGTH + 8;
}

function writePing(buf: Buffer, off: number, data: Uint8Array, ack: boolean): number {
  const o = writeHeader(buf, off, 8, FrameType.PING, ack ? FrameFlag.ACK : 0, 0);
  return writeBytes(buf, o, data, 0, 8);
}

function debugBytes(debugData: Uint8Array | string | undefined): Uint8Array {
  if (debugData === undefined) return ZERO_PING.subarray(0, 0);
  return typeof debugData === "string" ? Buffer.from(debugData, "utf8") : debugData;
}

function goawaySize(
  lastStreamId: number,
  errorCode: number,
  debug: Uint8Array,
  maxFrameSize: number,
): number {
  checkStreamOrZero("GOAWAY last-stream-id", lastStreamId);
  checkUint32("an error code", errorCode);
  checkLength("GOAWAY", 8 + debug.length, maxFrameSize);
  return FRAME_HEADER_LENGTH + 8 + debug.length;
}

function writeGoaway(
  buf: Buffer,
  off: number,
  lastStreamId: number,
  errorCode: number,
  debug: Uint8Array,
): number {
  const o = writeHeader(buf, off, 8 + debug.length, FrameType.GOAWAY, 0, 0);
  buf.writeUInt32BE(lastStreamId, o);
  buf.writeUInt32BE(errorCode, o + 4);
  return writeBytes(buf, o + 8, debug, 0, debug.length);
}

function windowUpdateSize(streamId: number, increment: number): number {
  checkStreamOrZero("WINDOW_UPDATE", streamId);
  if (!Number.isInteger(increment) || increment < 1 || increment > MAX_WINDOW_SIZE) {
    fail(`WINDOW_UPDATE increment must be an integer in [1, 2^31-1], got ${String(increment)}`);
  }
  return FRAME_HEADER_LENGTH + 4;
}

function writeWindowUpdate(buf: Buffer, off: number, streamId: number, increment: number): number {
  const o = writeHeader(buf, off, 4, FrameType.WINDOW_UPDATE, 0, streamId);
  buf.writeUInt32BE(increment, o);
  return o + 4;
}

function rawSize(type: number, flags: number, streamId: number, payload: Uint8Array): number {
  if (!Number.isInteger(type) || type < 0 || type > 0xff)
    fail(`frame type must be a byte, got ${String(type)}`);
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xff)
    fail(`flags must be a byte, got ${String(flags)}`);
  checkStreamOrZero("a frame", streamId);
  checkLength("frame", payload.length, MAX_MAX_FRAME_SIZE);
  return FRAME_HEADER_LENGTH + payload.length;
}

function writeRaw(
  buf: Buffer,
  off: number,
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array,
): number {
  return writeBytes(
    buf,
    writeHeader(buf, off, payload.length, type, flags, streamId),
    payload,
    0,
    payload.length,
  );
}

// ---------------------------------------------------------------------------------------------------------
// One Buffer per call

/**
 * The client connection preface magic (24 bytes; the client's SETTINGS frame must follow it).
 *
 * @example
 * ```ts
 * socket.write(Buffer.concat([encodePreface(), encodeSettingsFrame([[SettingId.ENABLE_PUSH, 0]])]));
 * ```
 */
export function encodePreface(): Buffer {
  return Buffer.from(CONNECTION_PREFACE, "latin1");
}

/**
 * Just a 9-byte frame header, for writing a large payload without copying it: write the header, then the
 * payload buffer itself (corked, or with writev). No validation beyond the field ranges.
 *
 * @example
 * ```ts
 * socket.cork();
 * socket.write(encodeFrameHeader(body.length, FrameType.DATA, FrameFlag.END_STREAM, 1));
 * socket.write(body);
 * socket.uncork();
 * ```
 */
export function encodeFrameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > MAX_MAX_FRAME_SIZE) {
    fail(`frame length must be in [0, 2^24-1], got ${String(length)}`);
  }
  rawSize(type, flags, streamId, ZERO_PING.subarray(0, 0));
  const buf = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
  writeHeader(buf, 0, length, type, flags, streamId);
  return buf;
}

/**
 * A DATA frame, optionally padded.
 *
 * @example
 * ```ts
 * encodeDataFrame(1, Buffer.from("hello"), { endStream: true });
 * ```
 */
export function encodeDataFrame(streamId: number, data: Uint8Array, options?: DataFrameOptions): Buffer {
  const buf = Buffer.allocUnsafe(dataSize(streamId, data, options));
  writeData(buf, 0, streamId, data, options);
  return buf;
}

/**
 * A HEADERS frame carrying an HPACK block, followed by as many CONTINUATION frames as `maxFrameSize` requires,
 * all in one Buffer (they must go out back to back anyway: nothing may come between them).
 *
 * @example
 * ```ts
 * const block = encoder.encode([":method", "GET", ":scheme", "https", ":authority", "example.com", ":path", "/"]);
 * socket.write(encodeHeadersFrame(1, block, { endStream: true }));
 * ```
 */
export function encodeHeadersFrame(
  streamId: number,
  block: Uint8Array,
  options?: HeadersFrameOptions,
): Buffer {
  const buf = Buffer.allocUnsafe(headersSize(streamId, block, options));
  writeHeaders(buf, 0, streamId, block, options);
  return buf;
}

/**
 * A PRIORITY frame (deprecated by RFC 9113 but still sent by some clients, and part of their fingerprints).
 *
 * @example
 * ```ts
 * encodePriorityFrame(3, { dependency: 0, weight: 201, exclusive: false });
 * ```
 */
export function encodePriorityFrame(streamId: number, priority: PrioritySpec): Buffer {
  const buf = Buffer.allocUnsafe(prioritySize(streamId, priority));
  writePriorityFrame(buf, 0, streamId, priority);
  return buf;
}

/**
 * A RST_STREAM frame.
 *
 * @example
 * ```ts
 * encodeRstStreamFrame(5, ErrorCode.CANCEL);
 * ```
 */
export function encodeRstStreamFrame(streamId: number, errorCode: number): Buffer {
  const buf = Buffer.allocUnsafe(rstStreamSize(streamId, errorCode));
  writeRstStream(buf, 0, streamId, errorCode);
  return buf;
}

/**
 * A SETTINGS frame with the entries in exactly the given order (duplicates and unknown ids included: order and
 * GREASE entries are part of a client's fingerprint). Known ids must have valid values.
 *
 * @example
 * ```ts
 * encodeSettingsFrame([
 *   [SettingId.HEADER_TABLE_SIZE, 65536],
 *   [SettingId.ENABLE_PUSH, 0],
 *   [SettingId.INITIAL_WINDOW_SIZE, 6291456],
 *   [SettingId.MAX_HEADER_LIST_SIZE, 262144],
 * ]);
 * ```
 */
export function encodeSettingsFrame(entries: SettingsEntries): Buffer {
  const buf = Buffer.allocUnsafe(settingsSize(entries));
  writeSettings(buf, 0, entries);
  return buf;
}

/** An empty SETTINGS frame with ACK. */
export function encodeSettingsAckFrame(): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
  writeSettingsAck(buf, 0);
  return buf;
}

/**
 * A PUSH_PROMISE frame (and its CONTINUATION frames), for completeness: servers rarely push any more and
 * browsers disable it.
 *
 * @example
 * ```ts
 * encodePushPromiseFrame(1, 2, encoder.encode([":method", "GET", ":path", "/style.css"]));
 * ```
 */
export function encodePushPromiseFrame(
  streamId: number,
  promisedStreamId: number,
  block: Uint8Array,
  options?: PushPromiseFrameOptions,
): Buffer {
  const buf = Buffer.allocUnsafe(pushPromiseSize(streamId, promisedStreamId, block, options));
  writePushPromise(buf, 0, streamId, promisedStreamId, block, options);
  return buf;
}

/**
 * A PING frame: 8 opaque bytes (zeros by default); `ack` answers a received PING with its data.
 *
 * @example
 * ```ts
 * encodePingFrame(frame.data, true); // the answer to a PING
 * ```
 */
export function encodePingFrame(data: Uint8Array = ZERO_PING, ack = false): Buffer {
  const buf = Buffer.allocUnsafe(pingSize(data));
  writePing(buf, 0, data, ack);
  return buf;
}

/**
 * A GOAWAY frame with optional debug data (a string is sent as UTF-8).
 *
 * @example
 * ```ts
 * encodeGoawayFrame(7, ErrorCode.PROTOCOL_ERROR, "bad frame");
 * ```
 */
export function encodeGoawayFrame(
  lastStreamId: number,
  errorCode: number,
  debugData?: Uint8Array | string,
  maxFrameSize = MIN_MAX_FRAME_SIZE,
): Buffer {
  const debug = debugBytes(debugData);
  const buf = Buffer.allocUnsafe(goawaySize(lastStreamId, errorCode, debug, checkMaxFrameSize(maxFrameSize)));
  writeGoaway(buf, 0, lastStreamId, errorCode, debug);
  return buf;
}

/**
 * A WINDOW_UPDATE frame for a stream, or for the connection with stream id 0.
 *
 * @example
 * ```ts
 * encodeWindowUpdateFrame(0, 15663105); // Chrome's connection window bump
 * ```
 */
export function encodeWindowUpdateFrame(streamId: number, increment: number): Buffer {
  const buf = Buffer.allocUnsafe(windowUpdateSize(streamId, increment));
  writeWindowUpdate(buf, 0, streamId, increment);
  return buf;
}

/**
 * Any frame, as given: an extension frame, a GREASE frame, or (in tests) a deliberately broken one. Only the
 * field ranges are checked.
 *
 * @example
 * ```ts
 * encodeFrame(0xfa, 0, 0, Buffer.alloc(3)); // an unknown frame type, which peers must ignore
 * ```
 */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(rawSize(type, flags, streamId, payload));
  writeRaw(buf, 0, type, flags, streamId, payload);
  return buf;
}

// ---------------------------------------------------------------------------------------------------------
// Many frames, one write

/** Options of a {@link FrameWriter}. */
export interface FrameWriterOptions {
  /** The peer's SETTINGS_MAX_FRAME_SIZE. Default 16384; update it with `maxFrameSize` when the peer's SETTINGS arrive. */
  readonly maxFrameSize?: number;
  /** Size of each slab the frames are written into. Default 16 KiB; a frame larger than a slab gets its own. */
  readonly slabSize?: number;
}

/**
 * Writes frames back to back into a slab, so a connection sends everything it has to say in one socket write
 * (the biggest single win for throughput: see PERFORMANCE.md). Each method appends one frame and returns the
 * writer; `take()` returns the bytes written since the last `take()`.
 *
 * The Buffer `take()` returns is a view into the slab; the writer never writes to that region again (it moves on
 * to fresh bytes, and to a fresh slab when one is full), so the view can be handed to `socket.write` and kept as
 * long as needed. The slab stays in memory while any view into it lives.
 *
 * @example
 * ```ts
 * const out = new FrameWriter();
 * out.preface()
 *   .settings([[SettingId.ENABLE_PUSH, 0], [SettingId.INITIAL_WINDOW_SIZE, 6291456]])
 *   .windowUpdate(0, 15663105)
 *   .headers(1, block, { endStream: true });
 * socket.write(out.take());
 * ```
 */
export class FrameWriter {
  #maxFrameSize: number;
  readonly #slabSize: number;
  #slab: Buffer;
  #start = 0;
  #end = 0;

  constructor(options: FrameWriterOptions = {}) {
    this.#maxFrameSize = checkMaxFrameSize(options.maxFrameSize);
    const slabSize = options.slabSize ?? 16 * 1024;
    if (!Number.isInteger(slabSize) || slabSize < 64)
      throw new RangeError("slabSize must be an integer >= 64");
    this.#slabSize = slabSize;
    this.#slab = Buffer.allocUnsafe(slabSize);
  }

  /** The peer's SETTINGS_MAX_FRAME_SIZE: DATA is refused above it, header blocks are split at it. */
  get maxFrameSize(): number {
    return this.#maxFrameSize;
  }

  set maxFrameSize(size: number) {
    this.#maxFrameSize = checkMaxFrameSize(size);
  }

  /** Bytes written since the last `take()`. */
  get pending(): number {
    return this.#end - this.#start;
  }

  /** The bytes written since the last `take()` (possibly empty), as one Buffer. */
  take(): Buffer {
    const out = this.#slab.subarray(this.#start, this.#end);
    this.#start = this.#end;
    return out;
  }

  /**
   * Makes room for `n` more bytes and returns the offset to write them at. It may move to a new slab, so read
   * `this.#slab` only after calling it.
   */
  #reserve(n: number): number {
    if (this.#end + n > this.#slab.length) {
      // Start a new slab, carrying over what was written but not taken (so take() stays one contiguous view).
      const pending = this.#end - this.#start;
      const slab = Buffer.allocUnsafe(Math.max(this.#slabSize, pending + n));
      this.#slab.copy(slab, 0, this.#start, this.#end);
      this.#slab = slab;
      this.#start = 0;
      this.#end = pending;
    }
    const at = this.#end;
    this.#end += n;
    return at;
  }

  /** The client connection preface magic. */
  preface(): this {
    const at = this.#reserve(CONNECTION_PREFACE_LENGTH);
    this.#slab.write(CONNECTION_PREFACE, at, "latin1");
    return this;
  }

  /** A DATA frame (see {@link encodeDataFrame}); refused if larger than `maxFrameSize`. */
  data(streamId: number, data: Uint8Array, options?: Omit<DataFrameOptions, "maxFrameSize">): this {
    const opts = { ...options, maxFrameSize: this.#maxFrameSize };
    const at = this.#reserve(dataSize(streamId, data, opts));
    writeData(this.#slab, at, streamId, data, opts);
    return this;
  }

  /** A HEADERS frame and its CONTINUATION frames, split at `maxFrameSize` (see {@link encodeHeadersFrame}). */
  headers(streamId: number, block: Uint8Array, options?: Omit<HeadersFrameOptions, "maxFrameSize">): this {
    const opts = { ...options, maxFrameSize: this.#maxFrameSize };
    const at = this.#reserve(headersSize(streamId, block, opts));
    writeHeaders(this.#slab, at, streamId, block, opts);
    return this;
  }

  /** A PRIORITY frame. */
  priority(streamId: number, priority: PrioritySpec): this {
    const at = this.#reserve(prioritySize(streamId, priority));
    writePriorityFrame(this.#slab, at, streamId, priority);
    return this;
  }

  /** A RST_STREAM frame. */
  rstStream(streamId: number, errorCode: number): this {
    const at = this.#reserve(rstStreamSize(streamId, errorCode));
    writeRstStream(this.#slab, at, streamId, errorCode);
    return this;
  }

  /** A SETTINGS frame with the entries in the given order. */
  settings(entries: SettingsEntries): this {
    const at = this.#reserve(settingsSize(entries));
    writeSettings(this.#slab, at, entries);
    return this;
  }

  /** A SETTINGS frame with ACK. */
  settingsAck(): this {
    const at = this.#reserve(FRAME_HEADER_LENGTH);
    writeSettingsAck(this.#slab, at);
    return this;
  }

  /** A PUSH_PROMISE frame and its CONTINUATION frames. */
  pushPromise(
    streamId: number,
    promisedStreamId: number,
    block: Uint8Array,
    options?: Omit<PushPromiseFrameOptions, "maxFrameSize">,
  ): this {
    const opts = { ...options, maxFrameSize: this.#maxFrameSize };
    const at = this.#reserve(pushPromiseSize(streamId, promisedStreamId, block, opts));
    writePushPromise(this.#slab, at, streamId, promisedStreamId, block, opts);
    return this;
  }

  /** A PING frame (8 bytes of data, zeros by default), or its ACK. */
  ping(data: Uint8Array = ZERO_PING, ack = false): this {
    const at = this.#reserve(pingSize(data));
    writePing(this.#slab, at, data, ack);
    return this;
  }

  /** A GOAWAY frame. */
  goaway(lastStreamId: number, errorCode: number, debugData?: Uint8Array | string): this {
    const debug = debugBytes(debugData);
    const at = this.#reserve(goawaySize(lastStreamId, errorCode, debug, this.#maxFrameSize));
    writeGoaway(this.#slab, at, lastStreamId, errorCode, debug);
    return this;
  }

  /** A WINDOW_UPDATE frame (stream 0: the connection window). */
  windowUpdate(streamId: number, increment: number): this {
    const at = this.#reserve(windowUpdateSize(streamId, increment));
    writeWindowUpdate(this.#slab, at, streamId, increment);
    return this;
  }

  /** Any frame, as given (see {@link encodeFrame}). */
  frame(type: number, flags: number, streamId: number, payload: Uint8Array): this {
    const at = this.#reserve(rawSize(type, flags, streamId, payload));
    writeRaw(this.#slab, at, type, flags, streamId, payload);
    return this;
  }
}
