import type { Duplex } from "node:stream";
import { isTesseraError, type Service } from "@tessera/core";
import { Body, BodyChannel, type BodyChannelListener, HeaderMap, Request, Response } from "@tessera/http";
import { type Conn, closeReason, Draining, conn as makeConn, rewind } from "@tessera/net";
import { encodeChunk, lastChunk } from "../chunked-encoder.js";
import { latin1Slice } from "../latin1.js";
import { BodyFraming, type RequestHead } from "../message-head.js";
import type { Http1Handler } from "../parser.js";
import type { RawHeaders } from "../raw-headers.js";
import { RequestParser } from "../request-parser.js";
import { STATUS_REASONS } from "../status-codes.js";
import type { ConnectionRegistry, Tracked } from "./connection-registry.js";
import {
  HandlerError,
  HeaderTimeoutError,
  InvalidResponseError,
  ResponseBodyError,
  UpgradeError,
} from "./errors.js";
import { type ContinueListener, ContinueSource, Exchange, ExchangeState } from "./exchange.js";
import type { ResolvedServerOptions } from "./options.js";
import {
  buildHead,
  CONTINUE,
  ConnectionField,
  Framing,
  scanFields,
  scanned,
  simpleResponse,
} from "./response-writer.js";
import { OnUpgrade } from "./upgrade.js";

/**
 * What a handler may be: a `Service<Request, Response>`. As a fast path, `serve` may also return the Response
 * itself instead of a promise; the server then writes it without waiting for a microtask.
 */
export type ServerHandler =
  | Service<Request, Response>
  | { serve(request: Request): Response | Promise<Response> };

/** State shared by every connection of one server. */
export interface ServerShared {
  readonly handler: ServerHandler;
  readonly options: ResolvedServerOptions;
  readonly registry: ConnectionRegistry;
  /** Parsers of idle connections, for the next connection that receives bytes (see {@link ServerParser}). */
  readonly parsers: ServerParser[];
}

/** Idle parsers kept per server; beyond this they are left to the garbage collector. */
const MAX_POOLED_PARSERS = 256;

// The parser calls this object, which calls the connection that holds the parser right now.
class Dispatch implements Http1Handler<RequestHead> {
  target: ServerConnection | undefined = undefined;
  onHead(head: RequestHead): void {
    this.target!.onHead(head);
  }
  onBody(data: Buffer): void {
    this.target!.onBody(data);
  }
  onMessageComplete(trailers: RawHeaders | null): void {
    this.target!.onMessageComplete(trailers);
  }
}

/**
 * A request parser lent to a connection while it has a message in progress. A parser with its buffers is about
 * 1.4 KB, more than the rest of an idle keep-alive connection: connections between requests give theirs back to
 * a per-server pool, so thousands of idle connections hold none. It also tells whether it sits between
 * messages with no byte of the next one seen (the header timer runs from the first byte of a head).
 */
export class ServerParser extends RequestParser {
  readonly dispatch: Dispatch;
  constructor(dispatch: Dispatch, options: ResolvedServerOptions) {
    super(dispatch, { ...options.limits, requireHost: options.requireHost });
    this.dispatch = dispatch;
  }
  get idle(): boolean {
    return this.scanner.idle;
  }
  /** True when the parser can serve another connection: between messages, nothing held or seen. */
  get reusable(): boolean {
    return this.scanner.idle && !this.paused && !this.upgraded && !this.closed;
  }
}

function acquireParser(shared: ServerShared, target: ServerConnection): ServerParser {
  const parser = shared.parsers.pop() ?? new ServerParser(new Dispatch(), shared.options);
  parser.dispatch.target = target;
  return parser;
}

// Why the parser is held at a message boundary (bits of `holds`).
const HOLD_PIPELINE = 1;
const HOLD_WRITE = 2;
const HOLD_UPGRADE = 4;

// Which timer a connection runs (its deadline is in `deadline`).
const TIMER_NONE = 0;
const TIMER_HEADER = 1;
const TIMER_IDLE = 2;

/** Beyond this, a buffered body is written as its own buffer after the head instead of being copied into it. */
const COPY_BODY_BYTES = 16 * 1024;
/** Output is written once this much is queued, even in the middle of a batch. */
const CONCAT_BYTES = 64 * 1024;

const CLOSED: unique symbol = Symbol("closed");
type Closed = typeof CLOSED;

const kConnection: unique symbol = Symbol("tessera.http1.server.connection");
type ServerSocket = Duplex & { [kConnection]?: ServerConnection };

// Socket events reach the connection through the socket (`this` of a shared function), so a connection costs
// no event-handler closures.
function onSocketData(this: ServerSocket, chunk: Buffer): void {
  this[kConnection]?.onData(chunk);
}
function onSocketEnd(this: ServerSocket): void {
  this[kConnection]?.onEnd();
}
function onSocketClose(this: ServerSocket): void {
  this[kConnection]?.onClose();
}
function onSocketDrain(this: ServerSocket): void {
  this[kConnection]?.onWritable();
}
// A socket error is followed by 'close', which is where the connection reacts; without a listener an 'error'
// would be fatal to the process.
function onSocketError(): void {}

function isResponse(value: unknown): value is Response {
  if (value instanceof Response) return true;
  // A Response from another copy of @tessera/http has the same shape.
  const v = value as Partial<Response> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.status === "number" &&
    v.headers instanceof Object &&
    typeof v.body === "object"
  );
}

/** The status to answer when a handler failed: a 4xx a Tessera error carries (a peer's fault), else 500. */
function statusFor(error: unknown): number {
  if (isTesseraError(error)) {
    const status = (error as { status?: unknown }).status;
    if (typeof status === "number" && status >= 400 && status < 500) return status;
  }
  return 500;
}

const TEXT_PLAIN: [string, string][] = [["Content-Type", "text/plain; charset=utf-8"]];

/** The server's own answer to a failed handler: the status and its reason phrase, nothing of the error. */
function errorResponse(status: number): Response {
  return new Response(
    status,
    HeaderMap.fromPairs(TEXT_PLAIN),
    Body.fromText(`${STATUS_REASONS[status] ?? "Error"}\n`),
  );
}

/** Stop a response body's producer; a buffered body is left alone (a constant response is served again). */
function cancelBody(body: Body): void {
  if (body.bytesIfBuffered() === undefined) body.cancel();
}

/**
 * One HTTP/1.1 connection of the server: parses requests, calls the handler for each, writes the responses in
 * request order. See {@link server} for the behaviour; the comments here say how.
 *
 * Writes: responses are appended to `out` and written together, once per incoming chunk while the chunk is
 * being parsed (`batching`), otherwise at once or at the end of the current microtask burst, so pipelined
 * responses leave in one write. A small buffered body is copied into the same buffer as its head.
 */
export class ServerConnection implements BodyChannelListener, ContinueListener, Tracked {
  readonly socket: ServerSocket;
  readonly conn: Conn;
  readonly shared: ServerShared;
  /** The parser, while a message is in progress (see {@link ServerParser}). */
  parser: ServerParser | undefined = undefined;
  readonly drainSignal: AbortSignal | undefined;
  readonly #resolve: () => void;
  deadline = 0;
  timer = TIMER_HEADER;
  /** Exchanges whose responses are not completely written, in request order. */
  queue: Exchange[] = [];
  /** The exchange whose request body is being received. */
  current: Exchange | undefined = undefined;
  /** The exchange whose unread request body paused the socket. */
  bodyPausedBy: Exchange | undefined = undefined;
  /** The exchange whose response body is being streamed. */
  streaming: Exchange | undefined = undefined;
  /** What waits to be written, in order: latin1 strings (heads, small bodies) and large body buffers. */
  out: (string | Buffer)[] = [];
  /** Latin1 text that follows the last entry of `out` (consecutive small responses build one string). */
  outText = "";
  outBytes = 0;
  /** Bytes of input the parser did not take (held at a boundary, or after an upgrade). */
  leftover: Buffer | undefined = undefined;
  holds = 0;
  /** A complete response the server makes itself (parse error, timeout), written after the queue, then close. */
  finalResponse: string | undefined = undefined;
  discardBudget = 0;
  executing = false;
  batching = false;
  flushScheduled = false;
  resumePending = false;
  /** No request after the ones in the queue will be handled; close once they are answered. */
  stopped = false;
  draining = false;
  readEnded = false;
  /** The socket has closed. */
  dead = false;
  handedOver = false;
  finished = false;
  /** No request has been received yet (the header timer runs from the connection's start). */
  fresh = true;
  watchingDrain = false;
  wakeRead: ((value: IteratorResult<Uint8Array> | Closed) => void) | undefined = undefined;
  wakeDrain: ((value: undefined | Closed) => void) | undefined = undefined;

  constructor(conn: Conn, shared: ServerShared, resolve: () => void) {
    this.conn = conn;
    this.socket = conn.stream as ServerSocket;
    this.shared = shared;
    this.#resolve = resolve;
    this.drainSignal = conn.extensions.get(Draining);
  }

  start(): void {
    const socket = this.socket;
    socket[kConnection] = this;
    // Listeners and memory pairs already guard 'error'; a second listener would cost an array per socket.
    if (socket.listenerCount("error") === 0) socket.on("error", onSocketError);
    socket.on("close", onSocketClose);
    socket.on("end", onSocketEnd);
    const drainNow = this.shared.registry.add(this);
    this.setTimer(TIMER_HEADER);
    if (socket.destroyed) {
      this.onClose();
      return;
    }
    socket.on("data", onSocketData);
    if (drainNow) this.drain();
  }

  // ------------------------------------------------------------------------------------------------------
  // Reading

  onData(chunk: Buffer): void {
    if (this.finished || this.handedOver) return;
    // After close was decided, only the body of a request still being received matters.
    if (this.stopped && this.current === undefined) return;
    const leftover = this.leftover;
    if (leftover !== undefined) {
      this.leftover = undefined;
      chunk = Buffer.concat([leftover, chunk]);
    }
    this.batching = true;
    this.feed(chunk);
    this.batching = false;
    this.afterBatch();
  }

  /** True if no byte of a request after the ones dispatched has been received. */
  get parserIdle(): boolean {
    return this.parser === undefined || this.parser.idle;
  }

  /** Parse `chunk`; keep what the parser did not take. */
  feed(chunk: Buffer): void {
    let parser = this.parser;
    if (parser === undefined) {
      parser = acquireParser(this.shared, this);
      this.parser = parser;
      if (this.holds !== 0 || this.stopped) parser.pause();
    }
    let consumed: number;
    this.executing = true;
    try {
      consumed = parser.execute(chunk);
    } catch (error) {
      this.executing = false;
      this.parseFailed(error);
      return;
    }
    this.executing = false;
    if (consumed < chunk.length && !parser.closed && !this.stopped) {
      // Held at a boundary (pipelining limit, write backpressure, upgrade): keep the rest, stop the socket.
      this.leftover = consumed === 0 ? chunk : chunk.subarray(consumed);
      this.socket.pause();
    }
    if (parser.closed && !this.stopped) this.stop();
  }

  /** Give the parser back to the pool if the connection sits between messages. */
  releaseParser(): void {
    const parser = this.parser;
    if (
      parser === undefined ||
      this.executing ||
      this.holds !== 0 ||
      this.stopped ||
      this.current !== undefined ||
      this.leftover !== undefined ||
      !parser.reusable
    )
      return;
    this.parser = undefined;
    parser.dispatch.target = undefined;
    const pool = this.shared.parsers;
    if (pool.length < MAX_POOLED_PARSERS) pool.push(parser);
  }

  afterBatch(): void {
    this.releaseParser();
    this.flush();
    this.updateTimer();
    if (this.resumePending) this.resumeReading();
    this.maybeFinish();
  }

  onHead(head: RequestHead): void {
    if (this.stopped) return;
    const options = this.shared.options;
    let channel: BodyChannel | undefined;
    if (head.framing !== BodyFraming.None) {
      channel = new BodyChannel({
        highWaterMark: options.bodyHighWaterMark,
        length: head.contentLength,
        listener: this,
      });
    }
    const ex = new Exchange(
      head.method,
      head.versionMinor,
      head.keepAlive,
      head.upgrade,
      head.expectContinue,
      head.contentLength,
      channel,
    );
    let body: Body;
    if (channel === undefined) body = Body.empty();
    else {
      body = Body.fromSource(head.expectContinue ? new ContinueSource(channel, this, ex) : channel, {
        length: head.contentLength,
      });
      this.current = ex;
    }
    ex.request = new Request(
      head.method,
      head.target,
      HeaderMap.fromSource(head.headers),
      body,
      head.versionMinor === 1 ? "HTTP/1.1" : "HTTP/1.0",
      this.conn.extensions.fork(),
    );
    this.fresh = false;
    this.setTimer(TIMER_NONE);
    const queue = this.queue;
    queue.push(ex);
    if (queue.length >= options.maxPipelined) this.hold(HOLD_PIPELINE);
    if (head.upgrade) this.hold(HOLD_UPGRADE);
    this.dispatch(ex);
  }

  onBody(data: Buffer): void {
    const ex = this.current;
    if (ex === undefined) return;
    ex.received += data.length;
    if (ex.discarding) {
      if (ex.state === ExchangeState.Done) {
        this.discardBudget -= data.length;
        if (this.discardBudget < 0) this.closeNow();
      }
      return;
    }
    if (!ex.channel!.push(data) && !ex.discarding && this.bodyPausedBy === undefined) {
      this.bodyPausedBy = ex;
      this.socket.pause();
    }
  }

  onMessageComplete(trailers: RawHeaders | null): void {
    const ex = this.current;
    if (ex === undefined) return;
    this.current = undefined;
    ex.requestDone = true;
    if (!ex.discarding) ex.channel!.end(trailers === null ? undefined : HeaderMap.fromSource(trailers));
  }

  /** BodyChannelListener: the handler read the buffer down; read on. */
  onDrain(channel: BodyChannel): void {
    const ex = this.bodyPausedBy;
    if (ex === undefined || ex.channel !== channel) return;
    this.bodyPausedBy = undefined;
    this.resumeReading();
  }

  /** BodyChannelListener: the handler (or the server, after responding) does not want the rest of the body. */
  onCancel(channel: BodyChannel): void {
    const ex = this.current;
    if (ex === undefined || ex.channel !== channel) return;
    ex.discarding = true;
    if (this.bodyPausedBy === ex) {
      this.bodyPausedBy = undefined;
      this.resumeReading();
    }
  }

  onEnd(): void {
    this.readEnded = true;
    if (this.leftover === undefined) this.endOfInput();
  }

  /** The client will send nothing more (it may still read): answer what is in flight, then close. */
  endOfInput(): void {
    if (this.finished || this.handedOver) return;
    try {
      this.parser?.finish();
    } catch (error) {
      // The input ended inside a message. Inside a body the handler learns it from the body; a partial head
      // cannot be answered usefully.
      const ex = this.current;
      if (ex !== undefined) {
        this.current = undefined;
        ex.channel!.error(error);
      }
      this.report(error as Error, false);
    }
    this.stop();
    this.updateTimer();
    this.maybeFinish();
  }

  parseFailed(error: unknown): void {
    this.report(error as Error, false);
    const ex = this.current;
    if (ex !== undefined && !ex.requestDone) {
      // A framing error inside a body: the handler sees it on the body, and its answer (the error's status when
      // it fails) is the last on this connection.
      this.current = undefined;
      ex.requestDone = true;
      ex.channel!.error(error);
      if (this.bodyPausedBy === ex) this.bodyPausedBy = undefined;
    } else {
      const status = (error as { status?: unknown }).status;
      this.finalResponse = simpleResponse(typeof status === "number" ? status : 400, true);
    }
    this.leftover = undefined;
    this.stop();
    this.writeQueue();
  }

  /** Hold the parser at the next message boundary for `reason`. */
  hold(reason: number): void {
    this.holds |= reason;
    this.parser?.pause();
  }

  release(reason: number): void {
    if ((this.holds & reason) === 0) return;
    this.holds &= ~reason;
    if (this.holds === 0) this.resumeReading();
  }

  /**
   * Read on: feed what the parser left (once nothing holds it), then resume the socket. Holds stop the parser only
   * at a message boundary, so the socket keeps flowing while a message is in progress (a request body the
   * handler waits for, the rest of a head): it is paused only while the parser refuses bytes (`leftover`) or
   * an unread body is over its mark.
   */
  resumeReading(): void {
    if (this.executing) {
      this.resumePending = true;
      return;
    }
    this.resumePending = false;
    for (;;) {
      if (this.finished || this.handedOver || this.dead) return;
      if (this.bodyPausedBy !== undefined) return;
      if (this.stopped && this.current === undefined) return;
      if (this.holds === 0 && !this.stopped) this.parser?.resume();
      const leftover = this.leftover;
      if (leftover === undefined) break;
      if (this.holds !== 0) return;
      this.leftover = undefined;
      this.batching = true;
      this.feed(leftover);
      this.batching = false;
      this.releaseParser();
      this.flush();
      this.updateTimer();
    }
    if (this.readEnded) {
      this.endOfInput();
      return;
    }
    this.socket.resume();
  }

  // ------------------------------------------------------------------------------------------------------
  // Handling

  dispatch(ex: Exchange): void {
    let result: Response | Promise<Response>;
    try {
      result = this.shared.handler.serve(ex.request);
    } catch (error) {
      this.failed(ex, error);
      return;
    }
    if (typeof (result as Promise<Response>)?.then === "function") {
      (result as Promise<Response>).then(
        (response) => this.settled(ex, response),
        (error: unknown) => this.failed(ex, error),
      );
    } else this.settled(ex, result as Response);
  }

  settled(ex: Exchange, response: Response): void {
    if (!isResponse(response)) {
      this.report(new InvalidResponseError(`the handler returned ${typeof response}, not a Response`), true);
      response = errorResponse(500);
    }
    ex.response = response;
    ex.state = ExchangeState.Ready;
    if (this.dead || this.handedOver) {
      this.drop(ex);
      return;
    }
    if (this.queue[0] === ex) this.writeQueue();
  }

  failed(ex: Exchange, error: unknown): void {
    const status = statusFor(error);
    this.report(new HandlerError({ cause: error }), status === 500);
    this.settled(ex, errorResponse(status));
  }

  /** The connection is gone: forget a settled exchange (and stop its response body's producer). */
  drop(ex: Exchange): void {
    ex.state = ExchangeState.Done;
    if (ex.response !== undefined) cancelBody(ex.response.body);
    const i = this.queue.indexOf(ex);
    if (i >= 0) this.queue.splice(i, 1);
    this.maybeFinish();
  }

  /** ContinueListener: the handler reads the body of an `Expect: 100-continue` request. */
  wantContinue(ex: Exchange): void {
    ex.continueWanted = true;
    if (this.queue[0] === ex) this.sendContinue(ex);
  }

  sendContinue(ex: Exchange): void {
    if (ex.continueSent || ex.headSent || ex.requestDone || ex.received > 0 || this.dead) return;
    ex.continueSent = true;
    this.pushText(CONTINUE);
    if (!this.batching) this.flush();
  }

  // ------------------------------------------------------------------------------------------------------
  // Writing

  /** Write the responses at the head of the queue that are ready, in order. */
  writeQueue(): void {
    const queue = this.queue;
    while (queue.length > 0 && !this.dead && !this.handedOver) {
      const ex = queue[0]!;
      if (ex.state === ExchangeState.Pending) {
        if (ex.continueWanted) this.sendContinue(ex);
        break;
      }
      if (ex.state !== ExchangeState.Ready) break;
      if (this.writeResponse(ex)) break;
      if (this.handedOver) return;
      this.exchangeDone(ex);
    }
    if (!this.batching) {
      if (queue.length === 0) this.flush();
      else if (!this.flushScheduled && this.outBytes > 0) {
        this.flushScheduled = true;
        queueMicrotask(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
      this.updateTimer();
    }
    this.maybeFinish();
  }

  /**
   * Write the head (and a buffered body) of `ex`'s response. Returns true when a streamed body is being
   * written (the exchange completes later) or the connection was handed over.
   */
  writeResponse(ex: Exchange): boolean {
    let response = ex.response!;
    let status = response.status;
    const connect = ex.method === "CONNECT";
    let upgrade: Service<Conn, void> | undefined;
    if (status === 101 || (connect && status >= 200 && status < 300)) {
      upgrade = response.extensions.get(OnUpgrade);
      const problem = !ex.upgrade
        ? "101 answers a request that did not ask to upgrade"
        : status === 101 && connect
          ? "101 answers CONNECT"
          : upgrade === undefined
            ? `${status} without an upgrade service (see withUpgrade)`
            : undefined;
      if (problem !== undefined) {
        this.report(new InvalidResponseError(problem), true);
        response = errorResponse(500);
        status = 500;
        upgrade = undefined;
      }
    } else if (status < 200) {
      this.report(new InvalidResponseError(`interim status ${status} as the final response`), true);
      response = errorResponse(500);
      status = 500;
    }
    ex.response = response;
    const body = response.body;
    const noBody = upgrade !== undefined || ex.method === "HEAD" || status === 204 || status === 304;
    const buffered = body.bytesIfBuffered();
    scanFields(response.headers, status === 101);

    let framing: Framing;
    let length: number | string | undefined;
    let close =
      !ex.keepAlive ||
      scanned.wantsClose ||
      // A declined CONNECT: the client may already have sent tunnel bytes, which must not be read as HTTP.
      (connect && upgrade === undefined) ||
      (this.stopped && this.queue.length === 1 && this.finalResponse === undefined) ||
      (this.draining && this.queue.length === 1 && (this.current === ex || this.parserIdle));
    if (noBody) {
      framing = Framing.None;
      if (ex.method === "HEAD") length = scanned.contentLength ?? body.length;
      else if (status === 304) length = scanned.contentLength;
    } else if (buffered !== undefined || body.length !== undefined) {
      framing = Framing.Length;
      length = body.length ?? buffered!.byteLength;
    } else if (ex.versionMinor === 1) {
      framing = Framing.Chunked;
    } else {
      framing = Framing.Close;
      close = true;
    }
    if (
      framing !== Framing.None &&
      buffered === undefined &&
      ex.expectContinue &&
      !ex.continueSent &&
      !ex.requestDone &&
      ex.received === 0
    ) {
      // A streamed answer to a request whose client waits for 100 Continue: it may well be streaming that very
      // request body (an echo), so let the client send it. A buffered answer (413, 401) needs no body.
      ex.continueSent = true;
      this.pushText(CONTINUE);
    }
    if (!close && !ex.requestDone && upgrade === undefined) {
      // The request body is still arriving. A client waiting for 100 Continue will not send it; otherwise the
      // rest is read and dropped after the response, if the handler is not reading it and it is small enough.
      // (A body of unknown length is dropped within the same budget; if it runs out the connection closes after
      // this complete response.)
      const reading = ex.request.body.consumed && !ex.discarding;
      if (ex.expectContinue && !ex.continueSent) close = true;
      else if (
        !reading &&
        ex.contentLength !== undefined &&
        ex.contentLength - ex.received > this.shared.options.maxDiscardBytes
      )
        close = true;
    }
    ex.closeAfter = close;
    const connection =
      status === 101
        ? ConnectionField.Passthrough
        : close
          ? ConnectionField.Close
          : ex.versionMinor === 0 && upgrade === undefined
            ? ConnectionField.KeepAlive
            : ConnectionField.None;
    const head = buildHead(status, response.reason, framing, length, connection);
    ex.headSent = true;

    if (upgrade !== undefined) {
      this.pushText(head);
      this.handOver(ex, upgrade);
      return true;
    }
    if (framing === Framing.None) {
      this.pushText(head);
      cancelBody(body);
      return false;
    }
    if (buffered !== undefined) {
      const bytes = Buffer.isBuffer(buffered)
        ? buffered
        : Buffer.from(buffered.buffer, buffered.byteOffset, buffered.byteLength);
      // A small body joins the head as latin1 text (one char per byte, so any bytes survive): the socket encodes
      // the string straight into its write, with no Buffer made and copied here.
      if (bytes.length <= COPY_BODY_BYTES) this.pushText(head + latin1Slice(bytes, 0, bytes.length));
      else {
        this.pushText(head);
        this.pushBuffer(bytes);
      }
      return false;
    }
    this.pushText(head);
    this.flush();
    ex.state = ExchangeState.Writing;
    this.streaming = ex;
    void this.pump(ex, body, framing);
    return true;
  }

  /** A response is completely written: forget the exchange, and decide what happens to the connection. */
  exchangeDone(ex: Exchange): void {
    const queue = this.queue;
    if (queue[0] === ex) {
      queue.shift();
      // Drop the backing store an emptied array keeps: thousands of idle connections hold no capacity.
      if (queue.length === 0) queue.length = 0;
    }
    ex.state = ExchangeState.Done;
    if (ex.channel !== undefined) {
      if (!ex.requestDone) {
        // Answered before the whole body arrived: read and drop the rest (within the budget), unless closing.
        this.discardBudget = this.shared.options.maxDiscardBytes;
        ex.request.body.cancel();
        ex.discarding = true;
      }
      if (this.bodyPausedBy === ex) {
        this.bodyPausedBy = undefined;
        this.resumeReading();
      }
    }
    if (ex.closeAfter) this.stop();
    if (queue.length < this.shared.options.maxPipelined) this.release(HOLD_PIPELINE);
    if (ex.upgrade && !ex.closeAfter) this.release(HOLD_UPGRADE);
  }

  /** Queue latin1 text (heads, small bodies). */
  pushText(text: string): void {
    this.outText += text;
    this.outBytes += text.length;
    // One chunk can hold thousands of small pipelined requests: write as responses add up, so that a client
    // that does not read stops the parser (write backpressure) instead of growing the output without bound.
    if (this.outBytes >= CONCAT_BYTES) this.flush();
  }

  /** Queue a large body buffer (written as is, after what is queued). */
  pushBuffer(buffer: Buffer): void {
    if (this.outText !== "") {
      this.out.push(this.outText);
      this.outText = "";
    }
    this.out.push(buffer);
    this.outBytes += buffer.length;
    if (this.outBytes >= CONCAT_BYTES) this.flush();
  }

  flush(): void {
    if (this.outBytes === 0) return;
    const socket = this.socket;
    const out = this.out;
    const text = this.outText;
    this.outText = "";
    this.outBytes = 0;
    if (this.dead || socket.destroyed) {
      out.length = 0;
      return;
    }
    const n = out.length;
    if (n === 0) socket.write(text, "latin1");
    else {
      // Several pieces: corked, they leave in one writev.
      socket.cork();
      for (let i = 0; i < n; i++) {
        const piece = out[i]!;
        if (typeof piece === "string") socket.write(piece, "latin1");
        else socket.write(piece);
      }
      if (text !== "") socket.write(text, "latin1");
      socket.uncork();
      out.length = 0;
    }
    // Stop reading requests while responses pile up unread (a client pipelining without reading).
    if (socket.writableNeedDrain) {
      this.hold(HOLD_WRITE);
      this.watchDrain();
    }
  }

  /** Listen for 'drain' once (only while needed: a listener per idle socket costs memory). */
  watchDrain(): void {
    if (this.watchingDrain) return;
    this.watchingDrain = true;
    this.socket.once("drain", onSocketDrain);
  }

  /** The socket's write buffer drained. */
  onWritable(): void {
    this.watchingDrain = false;
    const wake = this.wakeDrain;
    if (wake !== undefined) {
      this.wakeDrain = undefined;
      wake(undefined);
    }
    this.release(HOLD_WRITE);
  }

  /** Stream a response body: chunked or raw, honouring the socket's backpressure, until it ends. */
  async pump(ex: Exchange, body: Body, framing: Framing): Promise<void> {
    const socket = this.socket;
    let iterator: AsyncIterator<Uint8Array> | undefined;
    let failure: unknown;
    let closed = false;
    try {
      iterator = body[Symbol.asyncIterator]();
      for (;;) {
        const step = await this.race(iterator.next());
        if (step === CLOSED) {
          closed = true;
          break;
        }
        if (step.done === true) break;
        const chunk = step.value;
        if (framing === Framing.Chunked) {
          if (chunk.byteLength <= COPY_BODY_BYTES) socket.write(encodeChunk(chunk));
          else {
            socket.cork();
            socket.write(`${chunk.byteLength.toString(16)}\r\n`, "latin1");
            socket.write(chunk);
            socket.write("\r\n", "latin1");
            socket.uncork();
          }
        } else socket.write(chunk);
        if (socket.writableNeedDrain && (await this.writable()) === CLOSED) {
          closed = true;
          break;
        }
      }
    } catch (error) {
      failure = error;
    }
    this.streaming = undefined;
    if (closed || failure !== undefined) {
      // The framing cannot be completed: close, so the client sees an incomplete response, never a wrong one.
      try {
        void iterator?.return?.()?.then(undefined, () => {});
      } catch {
        // A broken iterator cannot stop us from closing.
      }
      if (!closed) this.report(new ResponseBodyError({ cause: failure }), true);
      ex.state = ExchangeState.Done;
      const i = this.queue.indexOf(ex);
      if (i >= 0) this.queue.splice(i, 1);
      this.closeNow(true);
      this.maybeFinish();
      return;
    }
    if (framing === Framing.Chunked) {
      const trailers = body.trailers;
      let last: string;
      try {
        last = lastChunk(trailers !== undefined && trailers.size > 0 ? trailers : undefined);
      } catch (error) {
        this.report(new ResponseBodyError({ cause: error }), true);
        last = lastChunk();
      }
      socket.write(last, "latin1");
    }
    this.exchangeDone(ex);
    this.writeQueue();
  }

  /** Settle with `promise`, or with CLOSED as soon as the socket closes (a producer may never settle). */
  race(promise: Promise<IteratorResult<Uint8Array>>): Promise<IteratorResult<Uint8Array> | Closed> {
    if (this.dead) return Promise.resolve(CLOSED);
    return new Promise((resolve, reject) => {
      this.wakeRead = resolve;
      promise.then(resolve, reject);
    }).finally(() => {
      this.wakeRead = undefined;
    }) as Promise<IteratorResult<Uint8Array> | Closed>;
  }

  /** Wait for 'drain', or CLOSED. */
  writable(): Promise<undefined | Closed> {
    if (this.dead) return Promise.resolve(CLOSED);
    this.watchDrain();
    return new Promise((resolve) => {
      this.wakeDrain = resolve;
    });
  }

  // ------------------------------------------------------------------------------------------------------
  // Upgrades

  handOver(ex: Exchange, service: Service<Conn, void>): void {
    this.flush();
    this.handedOver = true;
    this.queue.length = 0;
    this.setTimer(TIMER_NONE);
    this.shared.registry.delete(this);
    const socket = this.socket;
    socket.off("data", onSocketData);
    socket.off("end", onSocketEnd);
    socket.off("close", onSocketClose);
    socket.off("drain", onSocketDrain);
    socket[kConnection] = undefined;
    socket.pause();
    const leftover = this.leftover;
    this.leftover = undefined;
    const stream = leftover === undefined ? socket : rewind(socket, leftover);
    const upgraded = makeConn(stream, ex.request.extensions);
    let served: Promise<void>;
    try {
      served = Promise.resolve(service.serve(upgraded));
    } catch (error) {
      served = Promise.reject(error);
    }
    served.then(
      () => this.finish(),
      (error: unknown) => {
        this.report(new UpgradeError({ cause: error }), true);
        stream.destroy();
        this.finish();
      },
    );
  }

  // ------------------------------------------------------------------------------------------------------
  // Lifetime

  /** No further request will be handled on this connection. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.parser?.pause();
    this.setTimer(TIMER_NONE);
    if (this.current === undefined) this.leftover = undefined;
  }

  /**
   * Close now: with `destroy`, abruptly (a response that cannot be completed must not look complete);
   * otherwise once what is queued is written (a discard budget ran out).
   */
  closeNow(destroy = false): void {
    this.current = undefined;
    this.stop();
    if (destroy) {
      this.out.length = 0;
      this.outText = "";
      this.outBytes = 0;
      this.socket.destroy();
      return;
    }
    this.maybeFinish();
  }

  /** Graceful shutdown: close when idle, else answer what is in flight with `Connection: close` and close. */
  drain(): void {
    if (this.draining || this.finished || this.dead || this.handedOver) return;
    this.draining = true;
    if (this.queue.length === 0) {
      this.current = undefined;
      this.stop();
      this.maybeFinish();
      return;
    }
    this.stop();
  }

  onDeadline(): void {
    const kind = this.timer;
    this.timer = TIMER_NONE;
    if (this.finished || this.dead || this.handedOver) return;
    if (kind === TIMER_HEADER && !this.parserIdle) {
      this.report(new HeaderTimeoutError(this.shared.options.headerTimeout), false);
      this.finalResponse = simpleResponse(408, true);
    }
    // An idle keep-alive connection (or a fresh one that never sent a byte) closes quietly.
    this.current = undefined;
    this.leftover = undefined;
    this.stop();
    this.writeQueue();
  }

  setTimer(kind: number): void {
    this.timer = kind;
    if (kind === TIMER_NONE) {
      this.deadline = 0;
      return;
    }
    const options = this.shared.options;
    const ms = kind === TIMER_HEADER ? options.headerTimeout : options.idleTimeout;
    this.deadline = Number.isFinite(ms) ? Date.now() + ms : 0;
  }

  /** Run the header timer while a head is partly received, the idle timer while nothing is in flight. */
  updateTimer(): void {
    if (this.stopped || this.dead || this.finished || this.handedOver) {
      if (this.timer !== TIMER_NONE) this.setTimer(TIMER_NONE);
      return;
    }
    let kind: number;
    const parserIdle = this.parserIdle;
    if (this.current === undefined && !parserIdle && this.leftover === undefined) kind = TIMER_HEADER;
    else if (this.queue.length === 0 && parserIdle && this.current === undefined)
      kind = this.fresh ? TIMER_HEADER : TIMER_IDLE;
    else kind = TIMER_NONE;
    if (kind !== this.timer) this.setTimer(kind);
  }

  onClose(): void {
    if (this.dead) return;
    this.dead = true;
    this.deadline = 0;
    this.timer = TIMER_NONE;
    this.out.length = 0;
    this.outText = "";
    this.outBytes = 0;
    this.leftover = undefined;
    const ex = this.current;
    if (ex !== undefined) {
      this.current = undefined;
      if (!ex.requestDone) ex.channel!.error(closeReason(this.socket));
    }
    const wakeRead = this.wakeRead;
    const wakeDrain = this.wakeDrain;
    this.wakeRead = undefined;
    this.wakeDrain = undefined;
    wakeRead?.(CLOSED);
    wakeDrain?.(CLOSED);
    for (const queued of [...this.queue]) {
      if (queued.state === ExchangeState.Ready) this.drop(queued);
    }
    this.maybeFinish();
  }

  /** Resolve the connection's service once nothing is left to do. */
  maybeFinish(): void {
    if (this.finished || this.handedOver) return;
    if (this.queue.length > 0 || this.streaming !== undefined) return;
    if (this.dead) {
      this.finish();
      return;
    }
    if (!this.stopped) return;
    const final = this.finalResponse;
    if (final !== undefined) {
      this.finalResponse = undefined;
      this.pushText(final);
    }
    this.flush();
    if (!this.socket.destroyed) this.socket.end();
    this.finish();
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.deadline = 0;
    this.shared.registry.delete(this);
    const socket = this.socket;
    socket.off("data", onSocketData);
    socket.off("end", onSocketEnd);
    socket.off("close", onSocketClose);
    socket.off("drain", onSocketDrain);
    if (socket[kConnection] === this) socket[kConnection] = undefined;
    this.#resolve();
  }

  report(error: Error, internal: boolean): void {
    const onError = this.shared.options.onError;
    if (onError === undefined) {
      if (internal) process.emitWarning(error);
      return;
    }
    try {
      onError(error, this.conn);
    } catch {
      // A broken error handler must not break the connection.
    }
  }
}
