import { HEX, TCHAR } from "./char-tables.js";
import {
  BareCrError,
  BareLfError,
  ChunkExtensionTooLargeError,
  type Http1ParseError,
  InvalidChunkExtensionError,
  InvalidChunkSizeError,
  InvalidChunkTerminatorError,
} from "./errors.js";

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const SEMI = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** 2^49: one more hex digit on a size this large would pass 2^53-1, where JavaScript numbers stop being exact. */
const SIZE_OVERFLOW = 2 ** 49;

enum C {
  SizeStart, // first hex digit of a chunk size
  Size, // more hex digits, or what follows the size
  BwsBeforeSemi, // whitespace after the size or an extension: only ";" may follow
  ExtNameStart, // after ";" (BWS allowed), a token must start
  ExtName,
  ExtAfterName, // whitespace after a name: "=" or ";" may follow
  ExtValueStart, // after "=" (BWS allowed): token or quoted-string
  ExtToken,
  ExtQuoted,
  ExtQuotedEscape,
  ExtAfterQuoted,
  SizeLf, // CR of the size line seen
  Data,
  DataCr, // chunk data done: CRLF must follow
  DataLf,
  Last, // "0" line complete: trailers follow (scanned by the head scanner)
}

/** Where decoded body bytes go. */
export interface BodySink {
  onBody(data: Buffer): void;
}

/**
 * Incremental decoder of the chunked transfer coding (RFC 9112 7.1), up to and including the last-chunk line;
 * the trailer section that follows is scanned by the head scanner. Chunk data is handed on as views of the
 * input (no copy). Chunk sizes are hex without sign, prefix or whitespace inside, and at most 2^53-1.
 * Extensions are validated against the grammar and skipped; their total size per message is bounded.
 *
 * Internal to the package; the parsers wrap it.
 */
export class ChunkedDecoder {
  private state: C = C.SizeStart;
  private remaining = 0;
  private extBytes = 0;
  private readonly maxExtBytes: number;
  private readonly errStatus: number | undefined;

  constructor(maxExtBytes: number, errStatus: number | undefined) {
    this.maxExtBytes = maxExtBytes;
    this.errStatus = errStatus;
  }

  /** Prepares for the body of a new message. */
  reset(): void {
    this.state = C.SizeStart;
    this.remaining = 0;
    this.extBytes = 0;
  }

  /** True once the last-chunk line has been read; the trailer section comes next. */
  get atTrailers(): boolean {
    return this.state === C.Last;
  }

  /** True while between chunks (used to tell a clean end from a truncated body). */
  get idle(): boolean {
    return this.state === C.SizeStart;
  }

  /**
   * Consumes bytes from `start` up to `end`, passing chunk data to `sink`, and returns the index after the last
   * consumed byte. Returns early when the last-chunk line is complete (`atTrailers`).
   */
  decode(buf: Buffer, start: number, end: number, sink: BodySink): number {
    let i = start;
    let state = this.state;
    while (i < end) {
      switch (state) {
        case C.Data: {
          const n = Math.min(this.remaining, end - i);
          this.remaining -= n;
          const from = i;
          i += n;
          if (this.remaining === 0) state = C.DataCr;
          // Store the state before calling out: the sink may throw, and a dead parser must not look resumable.
          this.state = state;
          sink.onBody(buf.subarray(from, i));
          break;
        }
        case C.DataCr:
          if (buf[i] !== CR) throw new InvalidChunkTerminatorError(this.errStatus);
          i++;
          state = C.DataLf;
          break;
        case C.DataLf:
          if (buf[i] !== LF) throw new InvalidChunkTerminatorError(this.errStatus);
          i++;
          state = C.SizeStart;
          break;
        case C.SizeStart: {
          const v = HEX[buf[i]!]!;
          if (v < 0) throw this.badSize(buf[i]!);
          this.remaining = v;
          i++;
          state = C.Size;
          break;
        }
        case C.Size: {
          const c = buf[i]!;
          const v = HEX[c]!;
          if (v >= 0) {
            if (this.remaining >= SIZE_OVERFLOW)
              throw new InvalidChunkSizeError("larger than 2^53-1", this.errStatus);
            this.remaining = this.remaining * 16 + v;
            i++;
            break;
          }
          if (c === CR) state = C.SizeLf;
          else if (c === SEMI) state = this.ext(C.ExtNameStart);
          else if (c === SP || c === HTAB) state = this.ext(C.BwsBeforeSemi);
          else throw this.badSize(c);
          i++;
          break;
        }
        case C.SizeLf: {
          if (buf[i] !== LF) throw new BareCrError("after a chunk size", this.errStatus);
          i++;
          if (this.remaining === 0) {
            this.state = C.Last;
            return i;
          }
          state = C.Data;
          break;
        }
        default:
          state = this.extension(buf[i]!, state);
          i++;
          break;
      }
    }
    this.state = state;
    return i;
  }

  /** Counts one extension byte against the budget and returns `next`. */
  private ext(next: C): C {
    if (++this.extBytes > this.maxExtBytes)
      throw new ChunkExtensionTooLargeError(this.maxExtBytes, this.errStatus);
    return next;
  }

  /**
   * One byte of `chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )`, ext-val = token /
   * quoted-string. Whitespace is allowed only where the grammar has BWS; in particular whitespace after the size
   * or after an extension must lead to a ";", never straight to CRLF.
   */
  private extension(c: number, state: C): C {
    switch (state) {
      case C.BwsBeforeSemi:
        if (c === SP || c === HTAB) return this.ext(state);
        if (c === SEMI) return this.ext(C.ExtNameStart);
        throw this.badExt(c);
      case C.ExtNameStart:
        if (TCHAR[c] === 1) return this.ext(C.ExtName);
        if (c === SP || c === HTAB) return this.ext(state);
        throw this.badExt(c);
      case C.ExtName:
        if (TCHAR[c] === 1) return this.ext(state);
        if (c === CR) return C.SizeLf;
        if (c === SEMI) return this.ext(C.ExtNameStart);
        if (c === EQUALS) return this.ext(C.ExtValueStart);
        if (c === SP || c === HTAB) return this.ext(C.ExtAfterName);
        throw this.badExt(c);
      case C.ExtAfterName:
        if (c === SP || c === HTAB) return this.ext(state);
        if (c === EQUALS) return this.ext(C.ExtValueStart);
        if (c === SEMI) return this.ext(C.ExtNameStart);
        throw this.badExt(c);
      case C.ExtValueStart:
        if (TCHAR[c] === 1) return this.ext(C.ExtToken);
        if (c === DQUOTE) return this.ext(C.ExtQuoted);
        if (c === SP || c === HTAB) return this.ext(state);
        throw this.badExt(c);
      case C.ExtToken:
        if (TCHAR[c] === 1) return this.ext(state);
        if (c === CR) return C.SizeLf;
        if (c === SEMI) return this.ext(C.ExtNameStart);
        if (c === SP || c === HTAB) return this.ext(C.BwsBeforeSemi);
        throw this.badExt(c);
      case C.ExtQuoted:
        // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
        if (c === DQUOTE) return this.ext(C.ExtAfterQuoted);
        if (c === BACKSLASH) return this.ext(C.ExtQuotedEscape);
        if (c === HTAB || (c >= 0x20 && c !== 0x7f)) return this.ext(state);
        throw this.badExt(c);
      case C.ExtQuotedEscape:
        // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
        if (c === HTAB || (c >= 0x20 && c !== 0x7f)) return this.ext(C.ExtQuoted);
        throw this.badExt(c);
      case C.ExtAfterQuoted:
        if (c === CR) return C.SizeLf;
        if (c === SEMI) return this.ext(C.ExtNameStart);
        if (c === SP || c === HTAB) return this.ext(C.BwsBeforeSemi);
        throw this.badExt(c);
      default:
        // C.Last: the parser switches to trailers before feeding more bytes.
        throw new Error("ChunkedDecoder: decode() after the last chunk");
    }
  }

  private badSize(c: number): Http1ParseError {
    if (c === LF) return new BareLfError("in a chunk size line", this.errStatus);
    return new InvalidChunkSizeError(`unexpected byte 0x${c.toString(16).padStart(2, "0")}`, this.errStatus);
  }

  private badExt(c: number): Http1ParseError {
    if (c === LF) return new BareLfError("in a chunk extension", this.errStatus);
    return new InvalidChunkExtensionError(
      `unexpected byte 0x${c.toString(16).padStart(2, "0")}`,
      this.errStatus,
    );
  }
}
