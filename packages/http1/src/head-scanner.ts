import { FIELD_VALUE, FV_VISIBLE, isOws, TARGET, TCHAR } from "./char-tables.js";
import {
  BareCrError,
  BareLfError,
  HeaderTooLargeError,
  type Http1ParseError,
  InvalidHeaderNameError,
  InvalidHeaderValueError,
  InvalidMethodError,
  InvalidStatusLineError,
  InvalidTargetError,
  InvalidVersionError,
  ObsFoldError,
  TooManyHeadersError,
  TrailersTooLargeError,
  UnsupportedVersionError,
  UriTooLongError,
} from "./errors.js";
import type { Http1Limits } from "./limits.js";
import { copyOffsets } from "./offsets-pool.js";

/** Scan a request head: request line, then fields. */
export const SCAN_REQUEST = 0;
/** Scan a response head: status line, then fields. */
export const SCAN_RESPONSE = 1;
/** Scan a trailer section: fields only. */
export const SCAN_TRAILERS = 2;
export type ScanMode = typeof SCAN_REQUEST | typeof SCAN_RESPONSE | typeof SCAN_TRAILERS;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const DOT = 0x2e;
const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/" (case-sensitive, RFC 9112 2.3)

const EMPTY = Buffer.alloc(0);
/** Beyond this size the stash buffer for split heads is dropped after use instead of kept for the next head. */
const KEEP_STASH_BYTES = 4096;

enum S {
  Lead, // empty lines before the start line (RFC 9112 2.2 lets a recipient skip them)
  LeadLf,
  Method,
  TargetStart,
  Target,
  ReqVersion,
  ReqLineLf,
  RespVersion,
  Status,
  Reason,
  StatusLineLf,
  FieldStart,
  Name,
  ValueLead,
  Value,
  ValueLf,
  EndLf,
  Done,
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, "0")}`;
}

/**
 * Incremental scanner for a message head (start line and field lines) or a trailer section. It validates every
 * byte against the grammar of RFC 9112 as it goes, records offsets instead of building strings, and when the
 * head is complete copies its bytes out of the input exactly once into `buffer`.
 *
 * Feeding is resumable at any byte: the state lives in fields, and bytes of a head split over several chunks
 * are stashed (bounded by the limits) until the head completes. Offsets are "head offsets", counted from the
 * first byte of the head, so they are the same whatever the split and point straight into `buffer`.
 *
 * Internal to the package; the parsers wrap it.
 */
export class HeadScanner {
  private readonly limits: Http1Limits;
  /** undefined: each error's request-side default status; 502 in the response parser. */
  private readonly errStatus: number | undefined;
  private mode: ScanMode = SCAN_REQUEST;
  private state: S = S.Lead;
  /** True once the first byte of the head (after leading empty lines) has been seen. */
  private started = false;
  /** Bytes of empty lines skipped before the start line (they count against its budget). */
  private lead = 0;
  /** Head offset at which the budget of the current part (start line or field section) runs out. */
  private limitOff = 0;
  private vIdx = 0;
  private statusDigits = 0;
  private stash: Buffer | null = null;
  private stashLen = 0;
  private scratch: Int32Array;

  /** True when the head (or trailer section) is complete; `buffer` and the fields below are then valid. */
  done = false;
  /** The head bytes (own copy), set when done. */
  buffer: Buffer = EMPTY;
  /** Number of field lines seen. */
  count = 0;
  methodEnd = 0;
  targetStart = 0;
  targetEnd = 0;
  versionMajor = 0;
  versionMinor = 0;
  status = 0;
  reasonStart = 0;
  reasonEnd = 0;

  constructor(limits: Http1Limits, errStatus: number | undefined) {
    this.limits = limits;
    this.errStatus = errStatus;
    this.scratch = new Int32Array(Math.min(limits.maxHeaderCount, 32) * 4);
  }

  /** Prepares for a new head (or trailer section) in the given mode. */
  reset(mode: ScanMode): void {
    this.mode = mode;
    this.state = mode === SCAN_TRAILERS ? S.FieldStart : S.Lead;
    this.started = false;
    this.lead = 0;
    this.done = false;
    this.buffer = EMPTY;
    this.count = 0;
    this.statusDigits = 0;
    this.status = 0;
    this.stashLen = 0;
  }

  /** True if no byte of a message has been consumed yet (leading empty lines do not count as a message). */
  get idle(): boolean {
    return !this.started && this.state === S.Lead;
  }

  /** The field offsets of the completed head, trimmed to `count` fields (a copy the caller owns). */
  takeOffsets(): Int32Array {
    return copyOffsets(this.scratch, this.count * 4);
  }

  /**
   * Consumes bytes of `buf` from `start` up to `end` and returns the index after the last consumed byte. Stops
   * early only when the head completes (`done`); throws a {@link Http1ParseError} on bad input or a limit.
   */
  scan(buf: Buffer, start: number, end: number): number {
    let i = start;
    let state = this.state;
    // Head offset of buf[i] is i + off; headStart is where this call's head bytes begin in buf (-1: not yet).
    let off = 0;
    let headStart = -1;
    if (this.started) {
      off = this.stashLen - start;
      headStart = start;
    } else if (this.mode === SCAN_TRAILERS) {
      this.started = true;
      off = 0 - start; // not -start: -0 is a double and would push all offset math off small integers
      headStart = start;
      this.startFields(0);
    }
    let stop = headStart === -1 ? end : Math.min(end, this.limitOff - off);
    let o = this.count * 4;
    let scratch = this.scratch;
    // Module-level tables read through locals: V8 then keeps them in registers inside the byte loops.
    const tchar = TCHAR;
    const fieldValue = FIELD_VALUE;
    const target = TARGET;
    // A DataView of `buf` for the word-at-a-time value check, made only when a long value shows up.
    let dv: DataView | undefined;

    while (i < stop) {
      switch (state) {
        case S.Lead: {
          const c = buf[i]!;
          if (c === CR) {
            i++;
            state = S.LeadLf;
            break;
          }
          if (c === LF) throw new BareLfError("before the start line", this.errStatus);
          if (this.mode === SCAN_REQUEST && TCHAR[c] === 0) {
            throw new InvalidMethodError(`unexpected byte ${hex(c)}`, this.errStatus);
          }
          // The head begins here; its first byte is handled by the next state.
          this.started = true;
          off = 0 - i;
          headStart = i;
          this.limitOff = this.limits.maxStartLineBytes - this.lead;
          stop = Math.min(end, this.limitOff - off);
          this.vIdx = 0;
          state = this.mode === SCAN_REQUEST ? S.Method : S.RespVersion;
          break;
        }
        case S.LeadLf: {
          if (buf[i] !== LF) throw new BareCrError("before the start line", this.errStatus);
          i++;
          this.lead += 2;
          if (this.lead >= this.limits.maxStartLineBytes) throw this.startLineTooLong();
          state = S.Lead;
          break;
        }
        case S.Method: {
          let c = 0;
          while (i < stop) {
            c = buf[i]!;
            if (tchar[c] !== 1) break;
            i++;
          }
          if (i === stop) break;
          if (c !== SP) throw new InvalidMethodError(`unexpected byte ${hex(c)}`, this.errStatus);
          this.methodEnd = i + off;
          i++;
          state = S.TargetStart;
          break;
        }
        case S.TargetStart: {
          const c = buf[i]!;
          if (TARGET[c] === 0) {
            throw new InvalidTargetError(c === SP ? "empty" : `unexpected byte ${hex(c)}`, this.errStatus);
          }
          this.targetStart = i + off;
          i++;
          state = S.Target;
          break;
        }
        case S.Target: {
          let c = 0;
          while (i < stop) {
            c = buf[i]!;
            if (target[c] !== 1) break;
            i++;
          }
          if (i === stop) break;
          if (c === SP) {
            this.targetEnd = i + off;
            i++;
            this.vIdx = 0;
            state = S.ReqVersion;
            break;
          }
          if (c === CR) {
            throw new InvalidVersionError(
              "missing (HTTP/0.9 request lines are not supported)",
              this.errStatus,
            );
          }
          if (c === LF) throw new BareLfError("in the request line", this.errStatus);
          throw new InvalidTargetError(`unexpected byte ${hex(c)}`, this.errStatus);
        }
        case S.ReqVersion:
        case S.RespVersion: {
          const c = buf[i]!;
          const k = this.vIdx;
          if (k < 5) {
            if (c !== HTTP_SLASH[k]) throw this.badVersion(c);
          } else if (k === 5 || k === 7) {
            if (c < 0x30 || c > 0x39) throw this.badVersion(c);
            if (k === 5) {
              this.versionMajor = c - 0x30;
            } else {
              this.versionMinor = c - 0x30;
              if (this.versionMajor !== 1 || this.versionMinor > 1) {
                // 505 for a version we do not speak: HTTP/2.0 (a prior-knowledge h2 client), 0.9, 1.2+.
                throw new UnsupportedVersionError(this.versionMajor, this.versionMinor, this.errStatus);
              }
            }
          } else if (k === 6) {
            if (c !== DOT) throw this.badVersion(c);
          } else if (state === S.ReqVersion) {
            if (c === LF) throw new BareLfError("in the request line", this.errStatus);
            if (c !== CR) throw this.badVersion(c);
            state = S.ReqLineLf;
          } else {
            if (c !== SP) throw this.badVersion(c);
            state = S.Status;
          }
          this.vIdx = k + 1;
          i++;
          break;
        }
        case S.ReqLineLf: {
          if (buf[i] !== LF) throw new BareCrError("after the request line", this.errStatus);
          i++;
          this.startFields(i + off);
          stop = Math.min(end, this.limitOff - off);
          state = S.FieldStart;
          break;
        }
        case S.Status: {
          const c = buf[i]!;
          if (this.statusDigits < 3) {
            const d = c - 0x30;
            if (d < 0 || d > 9 || (d === 0 && this.statusDigits === 0)) {
              throw new InvalidStatusLineError(
                "the status code is not three digits in 100-999",
                this.errStatus,
              );
            }
            this.status = this.status * 10 + d;
            this.statusDigits++;
            i++;
            break;
          }
          if (c === SP) {
            this.reasonStart = i + 1 + off;
            i++;
            state = S.Reason;
            break;
          }
          if (c === CR) {
            // "HTTP/1.1 200\r\n": the space before an empty reason is commonly left out; harmless to accept.
            this.reasonStart = this.reasonEnd = i + off;
            i++;
            state = S.StatusLineLf;
            break;
          }
          if (c === LF) throw new BareLfError("in the status line", this.errStatus);
          throw new InvalidStatusLineError("the status code is not three digits in 100-999", this.errStatus);
        }
        case S.Reason: {
          let c = 0;
          while (i < stop) {
            c = buf[i]!;
            if (fieldValue[c] === 0) break;
            i++;
          }
          if (i === stop) break;
          if (c === CR) {
            this.reasonEnd = i + off;
            i++;
            state = S.StatusLineLf;
            break;
          }
          if (c === LF) throw new BareLfError("in the status line", this.errStatus);
          throw new InvalidStatusLineError(`byte ${hex(c)} in the reason phrase`, this.errStatus);
        }
        case S.StatusLineLf: {
          if (buf[i] !== LF) throw new BareCrError("after the status line", this.errStatus);
          i++;
          this.startFields(i + off);
          stop = Math.min(end, this.limitOff - off);
          state = S.FieldStart;
          break;
        }
        case S.FieldStart:
        case S.Name:
        case S.ValueLead:
        case S.Value:
        case S.ValueLf: {
          // The field lines: one case with a loop per line, so a line that sits wholly in the chunk never goes
          // back through the outer switch. Each step leaves by `break fields` when the bytes run out, with
          // `state` saying where to resume.
          for (;;) {
            let c = 0;
            if (state === S.FieldStart) {
              if (i === stop) break;
              c = buf[i]!;
              if (tchar[c] !== 1) {
                if (c === CR) {
                  i++;
                  state = S.EndLf;
                  break;
                }
                if (c === SP || c === HTAB) throw new ObsFoldError(this.errStatus);
                if (c === LF) throw new BareLfError("ending a header line", this.errStatus);
                throw new InvalidHeaderNameError(
                  c === COLON ? "empty name" : `unexpected byte ${hex(c)}`,
                  this.errStatus,
                );
              }
              const n = this.count;
              if (n === this.limits.maxHeaderCount) throw new TooManyHeadersError(n, this.errStatus);
              o = n * 4;
              if (o === scratch.length) scratch = this.growScratch();
              scratch[o] = i + off;
              i++;
              state = S.Name;
            }
            if (state === S.Name) {
              while (i < stop) {
                c = buf[i]!;
                if (tchar[c] !== 1) break;
                i++;
              }
              if (i === stop) break;
              if (c !== COLON) {
                if (c === SP || c === HTAB) {
                  throw new InvalidHeaderNameError(
                    "whitespace between the name and the colon",
                    this.errStatus,
                  );
                }
                throw new InvalidHeaderNameError(`unexpected byte ${hex(c)}`, this.errStatus);
              }
              scratch[o + 1] = i + off;
              i++;
              state = S.ValueLead;
            }
            if (state === S.ValueLead) {
              while (i < stop) {
                c = buf[i]!;
                if (c !== SP && c !== HTAB) break;
                i++;
              }
              if (i === stop) break;
              if (fieldValue[c] === FV_VISIBLE) {
                scratch[o + 2] = i + off;
                i++;
                scratch[o + 3] = i + off;
                state = S.Value;
              } else if (c === CR) {
                scratch[o + 2] = scratch[o + 3] = i + off;
                i++;
                state = S.ValueLf;
              } else {
                throw this.badValueByte(c);
              }
            }
            if (state === S.Value) {
              // The hot loop. Values are most of a head's bytes, so they are checked four bytes at a time
              // (SWAR): a word passes if none of its bytes is below 0x20 or equal to 0x7F, which leaves VCHAR,
              // SP and obs-text. A word with any other byte (HTAB, CR, a control) drops to the byte loop, which
              // decides. Both tests are exact for "is there such a byte in the word"; borrows can only add false
              // alarms next to a byte that is really there.
              const from = i;
              const short = Math.min(stop, i + 16);
              while (i < short) {
                c = buf[i]!;
                if (fieldValue[c] === 0) break;
                i++;
              }
              if (i === short && stop - i >= 8) {
                // Long value (16+ bytes so far): worth a DataView of the chunk, made once per scan() call.
                dv ??= new DataView(buf.buffer, buf.byteOffset, buf.length);
                while (i + 4 <= stop) {
                  const w = dv.getUint32(i, true);
                  const x = w ^ 0x7f7f7f7f;
                  if ((((w - 0x20202020) & ~w) | ((x - 0x01010101) & ~x)) & 0x80808080) break;
                  i += 4;
                }
              }
              while (i < stop) {
                c = buf[i]!;
                if (fieldValue[c] === 0) break;
                i++;
              }
              // The value ends after its last visible byte: trailing OWS is not part of it (RFC 9112 5.1).
              let j = i;
              while (j > from && isOws(buf[j - 1]!)) j--;
              if (j > from) scratch[o + 3] = j + off;
              if (i === stop) break;
              if (c !== CR) throw this.badValueByte(c);
              i++;
              state = S.ValueLf;
            }
            // state === S.ValueLf
            if (i === stop) break;
            if (buf[i] !== LF) throw new BareCrError("after a header value", this.errStatus);
            i++;
            this.count++;
            state = S.FieldStart;
          }
          break;
        }
        case S.EndLf: {
          if (buf[i] !== LF) throw new BareCrError("after the header section", this.errStatus);
          i++;
          this.complete(buf, headStart, i, off);
          this.state = S.Done;
          return i;
        }
        default:
          // S.Done: the caller resets before scanning again.
          throw new Error("HeadScanner: scan() after the head was complete");
      }
    }
    this.state = state;
    if (i < end) throw this.sectionTooLarge(state);
    if (headStart !== -1) this.keep(buf, headStart, end);
    return i;
  }

  private startFields(at: number): void {
    this.limitOff =
      at + (this.mode === SCAN_TRAILERS ? this.limits.maxTrailerBytes : this.limits.maxHeaderBytes);
  }

  private growScratch(): Int32Array {
    const next = new Int32Array(Math.min(this.scratch.length * 2, this.limits.maxHeaderCount * 4));
    next.set(this.scratch);
    this.scratch = next;
    return next;
  }

  /** Copies the bytes of a head that continues in the next chunk (bounded by the limits). */
  private keep(buf: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n === 0) return;
    const need = this.stashLen + n;
    let stash = this.stash;
    if (stash === null || stash.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, Math.min(2 * need, this.maxHeadBytes()), 256));
      if (stash !== null) stash.copy(grown, 0, 0, this.stashLen);
      stash = this.stash = grown;
    }
    buf.copy(stash, this.stashLen, from, to);
    this.stashLen = need;
  }

  private maxHeadBytes(): number {
    return this.mode === SCAN_TRAILERS
      ? this.limits.maxTrailerBytes
      : this.limits.maxStartLineBytes + this.limits.maxHeaderBytes;
  }

  /** The one copy: the whole head leaves the input chunk (and the stash) for a buffer of its own. */
  private complete(buf: Buffer, headStart: number, endIndex: number, off: number): void {
    this.done = true;
    if (this.mode === SCAN_TRAILERS && this.count === 0) {
      this.buffer = EMPTY;
    } else {
      const len = endIndex + off;
      const out = Buffer.allocUnsafe(len);
      if (this.stashLen > 0) this.stash!.copy(out, 0, 0, this.stashLen);
      buf.copy(out, this.stashLen, headStart, endIndex);
      this.buffer = out;
    }
    if (this.stash !== null && this.stash.length > KEEP_STASH_BYTES) this.stash = null;
    this.stashLen = 0;
  }

  private badVersion(c: number): Http1ParseError {
    if (c === LF) return new BareLfError("in the HTTP version", this.errStatus);
    return new InvalidVersionError(`unexpected byte ${hex(c)}`, this.errStatus);
  }

  private badValueByte(c: number): Http1ParseError {
    if (c === LF) return new BareLfError("ending a header line", this.errStatus);
    return new InvalidHeaderValueError(`byte ${hex(c)}`, this.errStatus);
  }

  private startLineTooLong(): Http1ParseError {
    const max = this.limits.maxStartLineBytes;
    return this.mode === SCAN_REQUEST
      ? new UriTooLongError(max, this.errStatus)
      : new HeaderTooLargeError("status line", max, this.errStatus);
  }

  private sectionTooLarge(state: S): Http1ParseError {
    if (state < S.FieldStart) return this.startLineTooLong();
    if (this.mode === SCAN_TRAILERS)
      return new TrailersTooLargeError(this.limits.maxTrailerBytes, this.errStatus);
    return new HeaderTooLargeError("header section", this.limits.maxHeaderBytes, this.errStatus);
  }
}
