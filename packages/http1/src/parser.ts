import { FieldFacts } from "./body-framing.js";
import { ChunkedDecoder } from "./chunked-decoder.js";
import { IncompleteMessageError } from "./errors.js";
import { HeadScanner, SCAN_TRAILERS, type ScanMode } from "./head-scanner.js";
import { type Http1Limits, resolveLimits } from "./limits.js";
import { BodyFraming, type FramedHead } from "./message-head.js";
import { RawHeaders } from "./raw-headers.js";

/**
 * The callbacks of a parser: an object with three methods, called synchronously from `execute()`. One handler
 * object serves every message on the connection, so parsing allocates no closures or promises per message.
 *
 * Callbacks must not throw; if one does, the exception propagates out of `execute()` and the parser is dead
 * (every later call throws it again).
 */
export interface Http1Handler<Head> {
  /** A head is complete. For messages without a body, `onMessageComplete` follows at once. */
  onHead(head: Head): void;
  /**
   * A piece of body, already de-chunked. `data` is a view of the buffer given to `execute()` (zero copy): copy
   * it if you keep it after that buffer may be reused. Never called with an empty buffer.
   */
  onBody(data: Buffer): void;
  /** The message is complete; `trailers` holds the trailer fields of a chunked body, or null if there were none. */
  onMessageComplete(trailers: RawHeaders | null): void;
}

/** Options shared by both parsers: the size limits (defaults in {@link DEFAULT_LIMITS}). */
export interface Http1ParserOptions extends Partial<Http1Limits> {}

enum P {
  Head,
  Length,
  Chunked,
  Trailers,
  UntilClose,
}

/**
 * The engine shared by {@link RequestParser} and {@link ResponseParser}: feeds bytes through the head scanner,
 * the body framing and the chunked decoder, and calls the handler. Use the two subclasses.
 *
 * Stopping: `execute()` returns how many bytes it consumed. It consumes the whole chunk unless the parser
 * stops at a message boundary, which happens
 * - when `pause()` was called: right after the current message completes (or at once between messages);
 * - after a message with `upgrade` (Upgrade, CONNECT, 101): the remaining bytes belong to the new protocol,
 *   `upgraded` is true, and `resume()` continues with HTTP/1 (for a server that declines the upgrade);
 * - after a message that does not keep the connection alive: `closed` is true for good, and whatever follows
 *   (the peer should not have sent it) is left unconsumed and is never parsed.
 *
 * The unconsumed bytes are `chunk.subarray(returnValue)`; after `resume()`, pass them to `execute()` again.
 *
 * @example
 * ```ts
 * socket.on("data", (chunk: Buffer) => {
 *   const consumed = parser.execute(chunk); // throws Http1ParseError: answer err.status, then close
 *   if (parser.upgraded) handOver(socket, chunk.subarray(consumed)); // bytes of the new protocol
 *   else if (parser.paused) pending = chunk.subarray(consumed); // after resume(): parser.execute(pending)
 *   // parser.closed: whatever is left is never parsed; finish the response and close.
 * });
 * socket.on("end", () => parser.finish()); // completes a body that runs until close
 * ```
 */
export abstract class Http1Parser<Head extends FramedHead> {
  protected readonly handler: Http1Handler<Head>;
  protected readonly limits: Http1Limits;
  protected readonly scanner: HeadScanner;
  protected readonly facts = new FieldFacts();
  private readonly chunked: ChunkedDecoder;
  private readonly headMode: ScanMode;
  private phase: P = P.Head;
  private remaining = 0;
  private keepAlive = true;
  private upgrade = false;
  private pauseRequested = false;
  private isUpgraded = false;
  private isClosed = false;
  private failure: unknown = null;
  private failed = false;
  private running = false;
  private readonly errStatus: number | undefined;

  protected constructor(
    handler: Http1Handler<Head>,
    options: Http1ParserOptions | undefined,
    headMode: ScanMode,
    errStatus: number | undefined,
  ) {
    this.handler = handler;
    this.errStatus = errStatus;
    this.limits = resolveLimits(options);
    this.headMode = headMode;
    this.scanner = new HeadScanner(this.limits, errStatus);
    this.scanner.reset(headMode);
    this.chunked = new ChunkedDecoder(this.limits.maxChunkExtensionBytes, errStatus);
  }

  /** True once `pause()` was called and until `resume()`. */
  get paused(): boolean {
    return this.pauseRequested;
  }

  /** True when the parser stopped after an upgrade (Upgrade, CONNECT, 101) until `resume()`. */
  get upgraded(): boolean {
    return this.isUpgraded;
  }

  /** True after a message that closes the connection, after `finish()`, or after an error. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The error that killed the parser, or null. */
  get error(): unknown {
    return this.failed ? this.failure : null;
  }

  /**
   * Parses `chunk` (any split of the byte stream gives the same callbacks) and returns the number of bytes
   * consumed; less than `chunk.length` only when the parser stopped (see the class docs). Throws a
   * {@link Http1ParseError} subclass on bad input; the parser is then dead and throws it again on every call.
   */
  execute(chunk: Buffer): number {
    if (this.failed) throw this.failure;
    if (this.isClosed || this.isUpgraded) return 0;
    if (this.pauseRequested && this.phase === P.Head && this.scanner.idle) return 0;
    // Callbacks run inside execute(); feeding the parser from one of them would interleave two positions.
    if (this.running) throw new Error("Http1Parser.execute() called from one of its own callbacks");
    this.running = true;
    try {
      return this.run(chunk);
    } catch (err) {
      this.die(err);
      throw err;
    } finally {
      this.running = false;
    }
  }

  /**
   * Asks the parser to stop at the next message boundary: right after the current message's
   * `onMessageComplete`, or before the next message if none is in progress. Call from a callback to apply
   * backpressure to pipelined requests.
   */
  pause(): void {
    this.pauseRequested = true;
  }

  /**
   * Clears a pause, and an upgrade stop (a server that declines an Upgrade or fails a CONNECT goes on parsing
   * HTTP/1). Does not reopen a closed parser. Feed the unconsumed bytes to `execute()` afterwards.
   */
  resume(): void {
    this.pauseRequested = false;
    this.isUpgraded = false;
  }

  /**
   * Signals the end of the input (the peer closed). Completes a body that runs until close (`onBody` was its
   * last piece, `onMessageComplete` is called now). Throws {@link IncompleteMessageError} if the input ended
   * inside any other message; ending between messages is fine. The parser is closed afterwards.
   */
  finish(): void {
    if (this.failed) throw this.failure;
    if (this.isClosed) return;
    try {
      if (this.phase === P.UntilClose) {
        this.completeMessage(null);
      } else if (!(this.phase === P.Head && this.scanner.idle) && !this.isUpgraded) {
        throw new IncompleteMessageError(this.phase === P.Head ? "head" : "body", this.errStatus);
      }
    } catch (err) {
      this.die(err);
      throw err;
    }
    this.isClosed = true;
  }

  /** Builds the head object from the completed scanner, validating the fields; throws on bad framing. */
  protected abstract buildHead(): Head;
  /** False for interim (1xx) responses, which neither end the exchange nor close the connection. */
  protected abstract isFinal(head: Head): boolean;

  private run(chunk: Buffer): number {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      switch (this.phase) {
        case P.Head:
          pos = this.scanner.scan(chunk, pos, end);
          if (!this.scanner.done) return pos;
          this.headComplete();
          break;
        case P.Length: {
          const n = Math.min(this.remaining, end - pos);
          const from = pos;
          pos += n;
          this.remaining -= n;
          this.handler.onBody(from === 0 && pos === end ? chunk : chunk.subarray(from, pos));
          if (this.remaining === 0) this.completeMessage(null);
          break;
        }
        case P.Chunked:
          pos = this.chunked.decode(chunk, pos, end, this.handler);
          if (this.chunked.atTrailers) {
            this.scanner.reset(SCAN_TRAILERS);
            this.phase = P.Trailers;
          }
          break;
        case P.Trailers:
          pos = this.scanner.scan(chunk, pos, end);
          if (!this.scanner.done) return pos;
          this.completeMessage(
            this.scanner.count === 0
              ? null
              : new RawHeaders(this.scanner.buffer, this.scanner.takeOffsets(), this.scanner.count),
          );
          break;
        case P.UntilClose:
          this.handler.onBody(pos === 0 ? chunk : chunk.subarray(pos));
          pos = end;
          break;
      }
      if (this.isClosed || this.isUpgraded || (this.pauseRequested && this.phase === P.Head)) return pos;
    }
    return pos;
  }

  private headComplete(): void {
    const head = this.buildHead();
    // Interim responses keep the connection as it is: the final response decides.
    this.keepAlive = this.isFinal(head) ? head.keepAlive : true;
    this.upgrade = head.upgrade;
    switch (head.framing) {
      case BodyFraming.Length:
        this.remaining = head.contentLength!;
        this.phase = P.Length;
        this.handler.onHead(head);
        return;
      case BodyFraming.Chunked:
        this.chunked.reset();
        this.phase = P.Chunked;
        this.handler.onHead(head);
        return;
      case BodyFraming.UntilClose:
        this.phase = P.UntilClose;
        this.handler.onHead(head);
        return;
      default:
        this.phase = P.Head;
        this.handler.onHead(head);
        this.completeMessage(null);
    }
  }

  private completeMessage(trailers: RawHeaders | null): void {
    this.phase = P.Head;
    this.scanner.reset(this.headMode);
    if (this.upgrade) this.isUpgraded = true;
    if (!this.keepAlive) this.isClosed = true;
    this.handler.onMessageComplete(trailers);
  }

  private die(err: unknown): void {
    this.failed = true;
    this.failure = err;
    this.isClosed = true;
  }
}
