import { type Service, SignalKey } from "@tessera/core";
import {
  Body,
  type BodyChannel,
  type HeaderMap,
  HeaderMap as HeaderMapClass,
  Request,
  Response,
} from "@tessera/http";
import { type Conn, Draining } from "@tessera/net";
import { ErrorCode, FrameType, MAX_STREAM_ID } from "./constants.js";
import {
  Http2EnhanceYourCalmError,
  Http2Error,
  Http2FlowControlError,
  Http2HeaderListTooLargeError,
  Http2MalformedRequestError,
  Http2ProtocolError,
  Http2SettingsTimeoutError,
  Http2StreamClosedError,
  Http2StreamResetError,
} from "./errors.js";
import { FingerprintRecorder, Http2FingerprintKey } from "./fingerprint.js";
import { FloodGuard } from "./flood-guard.js";
import { ReceiveWindow, SendWindow } from "./flow-control.js";
import { FrameReader } from "./frame-reader.js";
import type { Frame, FrameHandler } from "./frame-types.js";
import { FrameWriter } from "./frame-writer.js";
import { HeaderBlockAssembler } from "./header-block-assembler.js";
import type { HeaderList } from "./header-list.js";
import { HpackDecoder } from "./hpack-decoder.js";
import { HpackEncoder } from "./hpack-encoder.js";
import type { ResolvedHttp2ServerOptions } from "./options.js";
import { parseRequestHead, parseTrailers } from "./request-headers.js";
import { type ResponseSink, writeResponse } from "./response-writer.js";
import { applySettings, DEFAULT_SETTINGS, type Http2Settings, SettingId } from "./settings.js";
import { ServerStream, type StreamOwner } from "./stream.js";
import { afterLocalEnd, afterRemoteEnd, localOpen, remoteOpen, StreamState } from "./stream-state.js";

/** The application service a server runs for each request. */
export type Http2Handler = Service<Request, Response>;

/** Connection-wide things shared by every connection of one server. */
export interface Http2ServerShared {
  readonly handler: Http2Handler;
  readonly options: ResolvedHttp2ServerOptions;
}

const DEFAULT_WINDOW = 65_535;
/** The opaque data of the PING that times the graceful drain (any 8 bytes we recognise). */
const DRAIN_PING = Buffer.from("tsdrain1");
/** How long the drain waits for its PING ACK before the final GOAWAY. */
const DRAIN_PING_TIMEOUT = 1000;
/** How long a connection that sent GOAWAY waits for the peer to close before destroying the socket. */
const CLOSE_LINGER = 1000;
/** How many reset stream ids are remembered to ignore the frames still in flight on them. */
const RECENT_RESETS = 256;
/** Adds `id` to a bounded set of recent ids, dropping the oldest past {@link RECENT_RESETS}. */
function remember(recent: Set<number>, id: number): void {
  recent.add(id);
  if (recent.size > RECENT_RESETS) {
    const oldest = recent.values().next().value;
    if (oldest !== undefined) recent.delete(oldest);
  }
}

const TEXT_PLAIN: [string, string][] = [["content-type", "text/plain; charset=utf-8"]];

/**
 * One HTTP/2 server connection (RFC 9113): the frame loop, stream states, flow control both ways, the floods it
 * refuses, graceful drain, and the dispatch of each request to the handler. Built by `server()`.
 */
export class Http2ServerConnection implements FrameHandler, StreamOwner, ResponseSink {
  readonly #conn: Conn;
  readonly #shared: Http2ServerShared;
  readonly #options: ResolvedHttp2ServerOptions;
  readonly #done: () => void;
  readonly #reader: FrameReader;
  readonly #writer: FrameWriter;
  readonly #decoder: HpackDecoder;
  readonly #encoder = new HpackEncoder();
  readonly #streams = new Map<number, ServerStream>();
  /** Streams with response data waiting for window or for the socket. */
  readonly #sendQueue = new Set<ServerStream>();
  /**
   * Streams we reset (or ignored after our GOAWAY) recently, in that order (a Set iterates in insertion order: the
   * oldest goes first). Frames still arriving on them are dropped silently.
   */
  readonly #recentlyReset = new Set<number>();
  /** Streams that closed recently (bounded like the above), to tell STREAM_CLOSED from a reused id. */
  readonly #recentlyClosed = new Set<number>();
  #idleTimer: NodeJS.Timeout | undefined;
  /** Handler promises not yet settled (a reset stream's handler may still be running). */
  #handlersRunning = 0;
  readonly #connSend = new SendWindow(DEFAULT_WINDOW);
  readonly #connRecv: ReceiveWindow;
  readonly #resets: FloodGuard;
  readonly #empties: FloodGuard;
  #peer: Http2Settings = DEFAULT_SETTINGS;
  /** The stream window the peer sends with: the default until our SETTINGS is ACKed. */
  #recvInitial = DEFAULT_WINDOW;
  /** The highest client stream id seen (opened or refused): ids up to it are no longer idle. */
  #lastStreamId = 0;
  #settingsTimer: NodeJS.Timeout | undefined;
  #drainTimer: NodeJS.Timeout | undefined;
  #flushScheduled = false;
  #pumping = false;
  /** Control frames queued while the peer was not reading (the SETTINGS/PING flood counter). */
  #controlBacklog = 0;
  /** GOAWAY state: draining (first GOAWAY sent), the id of the final GOAWAY (-1 until sent), peer's GOAWAY. */
  #draining = false;
  #goawayId = -1;
  #peerGoaway = false;
  #remoteEnded = false;
  #closed = false;
  #cleaned = false;
  #unsubscribe: (() => void)[] = [];
  /** Records the client's early frames until its first request (then dropped): the HTTP/2 fingerprint. */
  #fingerprint: FingerprintRecorder | undefined = new FingerprintRecorder();

  constructor(conn: Conn, shared: Http2ServerShared, done: () => void) {
    this.#conn = conn;
    this.#shared = shared;
    const options = shared.options;
    this.#options = options;
    this.#done = done;
    const assembler = new HeaderBlockAssembler(this);
    this.#reader = new FrameReader(assembler, { preface: "client", maxFrameSize: options.maxFrameSize });
    this.#writer = new FrameWriter();
    this.#decoder = new HpackDecoder({ maxHeaderListSize: options.maxHeaderListSize });
    this.#connRecv = new ReceiveWindow(DEFAULT_WINDOW, options.connectionWindowSize);
    this.#resets = new FloodGuard(options.maxResetsPerWindow, options.floodWindow);
    this.#empties = new FloodGuard(options.maxEmptyFramesPerWindow, options.floodWindow);
  }

  /** Sends our SETTINGS (the server preface) and starts reading. */
  start(): void {
    const stream = this.#conn.stream;
    const o = this.#options;
    const w = this.#writer;
    w.settings([
      [SettingId.ENABLE_PUSH, 0],
      [SettingId.MAX_CONCURRENT_STREAMS, o.maxConcurrentStreams],
      [SettingId.INITIAL_WINDOW_SIZE, o.initialWindowSize],
      [SettingId.MAX_FRAME_SIZE, o.maxFrameSize],
      [SettingId.MAX_HEADER_LIST_SIZE, o.maxHeaderListSize],
    ]);
    if (o.connectionWindowSize > DEFAULT_WINDOW) {
      this.#connRecv.available = o.connectionWindowSize;
      w.windowUpdate(0, o.connectionWindowSize - DEFAULT_WINDOW);
    }
    this.#settingsTimer = setTimeout(
      () => this.#fail(new Http2SettingsTimeoutError(o.settingsTimeout)),
      o.settingsTimeout,
    );
    this.#settingsTimer.unref?.();
    stream.on("data", (chunk: Buffer) => this.#onData(chunk));
    stream.on("drain", () => this.#onDrain());
    stream.on("end", () => this.#onEnd());
    stream.on("error", (err: Error) => this.#onSocketError(err));
    stream.on("close", () => this.#cleanup());
    this.#watchDrain(this.#conn.extensions.get(Draining));
    this.#watchDrain(o.shutdown?.signal);
    const forced = o.shutdown?.forced;
    if (forced !== undefined) {
      // The grace period is over: whatever is still in flight is dropped.
      const destroy = (): void => {
        stream.destroy();
      };
      if (forced.aborted) destroy();
      else {
        forced.addEventListener("abort", destroy, { once: true });
        this.#unsubscribe.push(() => forced.removeEventListener("abort", destroy));
      }
    }
    this.#armIdle();
    this.#flush();
  }

  #watchDrain(signal: AbortSignal | undefined): void {
    if (signal === undefined) return;
    if (signal.aborted) {
      this.drain();
      return;
    }
    const listener = (): void => this.drain();
    signal.addEventListener("abort", listener, { once: true });
    this.#unsubscribe.push(() => signal.removeEventListener("abort", listener));
  }

  // ---- input ----------------------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      this.#reader.push(chunk);
    } catch (err) {
      this.#fail(err);
      return;
    }
    this.#flushSoon();
  }

  onFrame(frame: Frame): void {
    // After a connection error raised mid-chunk, the rest of the chunk is not looked at.
    if (this.#closed) return;
    try {
      switch (frame.type) {
        case FrameType.DATA:
          this.#onDataFrame(frame);
          break;
        case FrameType.HEADERS:
          this.#onHeaders(frame);
          break;
        case FrameType.PRIORITY:
          // RFC 9113 5.3.2: parsed (the reader checked it) and ignored; allowed in any state, opens nothing.
          // Only the fingerprint looks at the ones that come before the first request.
          this.#fingerprint?.priority(frame.streamId, frame.exclusive, frame.dependency, frame.weight);
          break;
        case FrameType.RST_STREAM:
          this.#onRstStream(frame);
          break;
        case FrameType.SETTINGS:
          this.#onSettings(frame);
          break;
        case FrameType.PUSH_PROMISE:
          throw new Http2ProtocolError("PUSH_PROMISE from a client", "connection", frame.streamId);
        case FrameType.PING:
          this.#onPing(frame);
          break;
        case FrameType.GOAWAY:
          this.#peerGoaway = true;
          this.#maybeClose();
          break;
        case FrameType.WINDOW_UPDATE:
          this.#onWindowUpdate(frame);
          break;
        default:
          // Extension frames: ignored (RFC 9113 5.5). CONTINUATION never gets here (the assembler merges it).
          break;
      }
    } catch (err) {
      if (err instanceof Http2Error && err.scope === "stream") this.#streamError(err);
      else throw err;
    }
  }

  onStreamError(error: Http2Error): void {
    this.#streamError(error);
  }

  #onDataFrame(frame: Frame): void {
    const id = frame.streamId;
    const length = frame.length;
    if (!this.#connRecv.receive(length)) {
      throw new Http2FlowControlError(`DATA of ${length} octets past the connection window`);
    }
    const stream = this.#streams.get(id);
    if (stream === undefined || !remoteOpen(stream.state)) {
      if (this.#idle(id)) throw new Http2ProtocolError(`DATA on idle stream ${id}`, "connection", id);
      // Closed or half-closed (remote): nobody will read it, but it counted against the connection window.
      this.#creditConnection(length);
      if (stream === undefined && this.#recentlyReset.has(id)) return;
      throw new Http2StreamClosedError(`DATA on stream ${id} after END_STREAM or reset`, "stream", id);
    }
    if (!stream.recvWindow.receive(length)) {
      this.#creditConnection(length);
      throw new Http2FlowControlError(
        `DATA of ${length} octets past the window of stream ${id}`,
        "stream",
        id,
      );
    }
    const data = frame.data;
    const size = data.length;
    // Padding (and its length octet) is consumed on arrival: nobody reads it.
    if (length > size) this.#credit(stream, length - size);
    if (size === 0 && !frame.endStream && !this.#empties.hit()) {
      throw new Http2EnhanceYourCalmError("flood of empty DATA frames");
    }
    stream.received += size;
    if (stream.contentLength >= 0 && stream.received > stream.contentLength) {
      this.#creditConnection(size);
      throw new Http2MalformedRequestError("more DATA than content-length", id);
    }
    const channel = stream.channel;
    if (size > 0) {
      if (channel === undefined || channel.cancelled) this.#credit(stream, size);
      else {
        stream.unread += size;
        channel.push(data);
      }
    }
    if (frame.endStream) this.#remoteEnd(stream, undefined);
  }

  /**
   * Whether stream `id` is idle (RFC 9113 5.1): a client stream above the highest opened, or any even-numbered
   * one (the server's own streams, which it never opens: no push).
   */
  #idle(id: number): boolean {
    return id > this.#lastStreamId || (id & 1) === 0;
  }

  #onHeaders(frame: Frame): void {
    const id = frame.streamId;
    if ((id & 1) === 0) throw new Http2ProtocolError(`HEADERS on even stream ${id}`, "connection", id);
    const existing = this.#streams.get(id);
    if (existing !== undefined) {
      // Trailers. The block is decoded first whatever happens: HPACK state is shared by the connection.
      const list = this.#decoder.decode(frame.data, id);
      if (!remoteOpen(existing.state))
        throw new Http2StreamClosedError(`HEADERS after END_STREAM on ${id}`, "stream", id);
      if (!frame.endStream) throw new Http2MalformedRequestError("trailers without END_STREAM", id);
      const trailers = parseTrailers(list, id);
      this.#remoteEnd(existing, trailers);
      return;
    }
    if (id <= this.#lastStreamId) {
      this.#decoder.decode(frame.data, id);
      if (this.#recentlyReset.has(id)) return; // trailers sent before the client saw our reset
      // A stream that was open and is closed now: STREAM_CLOSED (5.1). An id below the highest that never
      // opened: the client reused or went back on ids, PROTOCOL_ERROR (5.1.1). Only recent ids are told
      // apart (bounded memory); older ones get PROTOCOL_ERROR, a connection error either way.
      if (this.#recentlyClosed.has(id)) {
        throw new Http2StreamClosedError(`HEADERS on closed stream ${id}`, "connection", id);
      }
      throw new Http2ProtocolError(
        `HEADERS on stream ${id}, not above ${this.#lastStreamId}`,
        "connection",
        id,
      );
    }
    this.#lastStreamId = id;
    let list: HeaderList;
    try {
      list = this.#decoder.decode(frame.data, id);
    } catch (err) {
      if (!(err instanceof Http2HeaderListTooLargeError)) throw err;
      // The decoder read the whole block (HPACK state intact): answer 431 as HTTP/1.1 would (RFC 9113 8.1).
      this.#refuseTooLarge(id, frame.endStream);
      return;
    }
    const fingerprint = this.#fingerprint;
    if (fingerprint !== undefined) {
      // The first request completes the fingerprint; it goes on the connection, so every request sees it.
      this.#fingerprint = undefined;
      this.#conn.extensions.insertLazy(Http2FingerprintKey, fingerprint.finish(list));
    }
    if (this.#goawayId >= 0 && id > this.#goawayId) {
      // After our final GOAWAY, a stream above its last id is ignored (RFC 9113 6.8), and so are the DATA and
      // trailers that follow on it: remembered like a stream we reset, whose late frames are dropped silently.
      this.#rememberReset(id);
      return;
    }
    // Handlers still running count too: a reset frees the stream slot at once, but a handler that ignores its
    // signal keeps working; without this, Rapid Reset under the reset limit would still pile up handlers.
    const max = this.#options.maxConcurrentStreams;
    if (this.#streams.size >= max || this.#handlersRunning >= max) {
      throw new Http2Error(
        "ERR_HTTP2_REFUSED_STREAM",
        ErrorCode.REFUSED_STREAM,
        "stream",
        id,
        "too many streams",
      );
    }
    this.#open(id, list, frame.endStream);
  }

  #refuseTooLarge(id: number, endStream: boolean): void {
    const w = this.#writer;
    w.headers(id, this.#encoder.encode([":status", "431", "content-length", "0"]), { endStream: true });
    if (!endStream) {
      // The client may still be sending a body nobody will read.
      w.rstStream(id, ErrorCode.NO_ERROR);
      this.#rememberReset(id);
    }
    this.#controlFrameQueued();
    if (!this.#resets.hit()) throw new Http2EnhanceYourCalmError("too many oversized header lists");
  }

  #open(id: number, list: HeaderList, endStream: boolean): void {
    const head = parseRequestHead(list, id);
    if (endStream && head.contentLength > 0)
      throw new Http2MalformedRequestError("content-length without DATA", id);
    const stream = new ServerStream(
      this,
      id,
      head.method,
      this.#peer.initialWindowSize,
      this.#recvInitial,
      this.#options.initialWindowSize,
      head.contentLength,
    );
    this.#streams.set(id, stream);
    if (this.#idleTimer !== undefined) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    }
    let body: Body;
    if (endStream) {
      stream.state = StreamState.HALF_CLOSED_REMOTE;
      body = Body.empty();
    } else {
      const channel: BodyChannel = Body.channel({
        // Flow control already bounds what is buffered; the mark only matters to push()'s return value.
        highWaterMark: this.#options.initialWindowSize,
        length: head.contentLength >= 0 ? head.contentLength : undefined,
        listener: stream,
      });
      stream.channel = channel;
      body = channel.body;
    }
    const ext = this.#conn.extensions.fork();
    // The signal is made only if someone asks for it: most handlers never do.
    ext.insertLazy(SignalKey, () => stream.signal());
    const request = new Request(head.method, head.target, head.headers, body, "HTTP/2", ext);
    let result: Promise<Response> | Response;
    try {
      result = this.#shared.handler.serve(request);
    } catch (err) {
      this.#handlerFailed(stream, err);
      return;
    }
    // A handler may return the Response itself: written without a microtask hop.
    if (result instanceof Response) {
      this.#respond(stream, result);
      return;
    }
    this.#handlersRunning++;
    result.then(
      (response) => {
        this.#handlersRunning--;
        this.#respond(stream, response);
      },
      (err: unknown) => {
        this.#handlersRunning--;
        this.#handlerFailed(stream, err);
      },
    );
  }

  #respond(stream: ServerStream, response: Response): void {
    if (!localOpen(stream.state) || this.#closed) {
      if (response.body.bytesIfBuffered() === undefined) response.body.cancel();
      return;
    }
    writeResponse(this, stream, response).then(
      () => this.#responseDone(stream),
      (err: unknown) => this.#handlerFailed(stream, err),
    );
  }

  #responseDone(stream: ServerStream): void {
    // A complete response while the client is still sending: ask it to stop, without error (RFC 9113 8.1).
    if (stream.state === StreamState.HALF_CLOSED_LOCAL && this.#streams.get(stream.id) === stream) {
      this.#reset(stream, ErrorCode.NO_ERROR, false);
    }
  }

  #handlerFailed(stream: ServerStream, err: unknown): void {
    this.#report(err instanceof Error ? err : new Error(String(err)));
    if (!localOpen(stream.state) || this.#closed) return;
    if (stream.headersSent) {
      this.#reset(stream, ErrorCode.INTERNAL_ERROR, false);
      return;
    }
    const response = new Response(
      500,
      HeaderMapClass.fromPairs(TEXT_PLAIN),
      Body.fromText("Internal Server Error\n"),
    );
    this.#respond(stream, response);
  }

  #remoteEnd(stream: ServerStream, trailers: HeaderMap | undefined): void {
    if (stream.contentLength >= 0 && stream.received !== stream.contentLength) {
      throw new Http2MalformedRequestError("DATA shorter than content-length", stream.id);
    }
    stream.state = afterRemoteEnd(stream.state);
    stream.channel?.end(trailers);
    if (stream.state === StreamState.CLOSED) this.#retire(stream);
  }

  #onRstStream(frame: Frame): void {
    const id = frame.streamId;
    if (this.#idle(id)) throw new Http2ProtocolError(`RST_STREAM on idle stream ${id}`, "connection", id);
    const stream = this.#streams.get(id);
    if (stream === undefined) return; // already closed: ignored
    if (!this.#resets.hit()) throw new Http2EnhanceYourCalmError("rapid reset: too many stream resets");
    this.#retire(stream);
    stream.kill(new Http2StreamResetError(id, frame.errorCode, "the client reset the stream"));
  }

  #onSettings(frame: Frame): void {
    if (frame.ack) {
      if (this.#settingsTimer !== undefined) {
        clearTimeout(this.#settingsTimer);
        this.#settingsTimer = undefined;
        // Our SETTINGS are in force: the client now sends with our initial window.
        const target = this.#options.initialWindowSize;
        if (target !== this.#recvInitial) {
          for (const stream of this.#streams.values()) stream.recvWindow.retarget(target);
          this.#recvInitial = target;
        }
      }
      return;
    }
    this.#fingerprint?.settings(frame.settings);
    const before = this.#peer;
    const after = applySettings(before, frame.settings);
    this.#peer = after;
    if (after.maxFrameSize !== before.maxFrameSize) this.#writer.maxFrameSize = after.maxFrameSize;
    if (after.headerTableSize !== before.headerTableSize)
      this.#encoder.setMaxTableSize(after.headerTableSize);
    const delta = after.initialWindowSize - before.initialWindowSize;
    if (delta !== 0) {
      for (const stream of this.#streams.values()) stream.sendWindow.adjust(delta, stream.id);
    }
    this.#writer.settingsAck();
    this.#controlFrameQueued();
    if (delta > 0) this.#pump();
  }

  #onPing(frame: Frame): void {
    if (frame.ack) {
      if (this.#draining && this.#goawayId < 0 && frame.data.equals(DRAIN_PING)) this.#finalGoaway();
      return;
    }
    this.#writer.ping(frame.data, true);
    this.#controlFrameQueued();
  }

  #onWindowUpdate(frame: Frame): void {
    const id = frame.streamId;
    const increment = frame.windowIncrement;
    if (id === 0) {
      this.#fingerprint?.windowUpdate(increment);
      this.#connSend.increase(increment, "connection", 0);
    } else {
      if (this.#idle(id))
        throw new Http2ProtocolError(`WINDOW_UPDATE on idle stream ${id}`, "connection", id);
      const stream = this.#streams.get(id);
      if (stream === undefined) return; // closed: ignored
      stream.sendWindow.increase(increment, "stream", id);
    }
    this.#pump();
  }

  // ---- flow control credit ---------------------------------------------------------------------------------

  bodyRead(stream: ServerStream, bytes: number): void {
    this.#credit(stream, bytes);
    this.#flushSoon();
  }

  bodyCancelled(stream: ServerStream): void {
    const unread = stream.unread;
    stream.unread = 0;
    if (unread > 0) {
      this.#creditConnection(unread);
      this.#flushSoon();
    }
  }

  /** `bytes` of `stream` were consumed: give credit back to the stream (if it can still send) and the connection. */
  #credit(stream: ServerStream, bytes: number): void {
    if (this.#closed) return;
    const increment = stream.recvWindow.consumed(bytes);
    if (increment > 0 && remoteOpen(stream.state) && this.#streams.get(stream.id) === stream) {
      this.#writer.windowUpdate(stream.id, increment);
    }
    this.#creditConnection(bytes);
  }

  #creditConnection(bytes: number): void {
    if (this.#closed) return;
    const increment = this.#connRecv.consumed(bytes);
    if (increment > 0) this.#writer.windowUpdate(0, increment);
  }

  // ---- output ----------------------------------------------------------------------------------------------

  sendHeaders(stream: ServerStream, fields: string[], endStream: boolean): boolean {
    if (!localOpen(stream.state) || this.#closed) return false;
    const block = this.#encoder.encode(fields);
    this.#writer.headers(stream.id, block, { endStream });
    stream.headersSent = true;
    if (endStream) this.#localEnd(stream);
    this.#flushSoon();
    return true;
  }

  sendData(stream: ServerStream, chunk: Uint8Array, endStream: boolean): Promise<boolean> {
    if (!localOpen(stream.state) || this.#closed) return Promise.resolve(false);
    if (chunk.byteLength === 0 && !endStream) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      stream.out = chunk;
      stream.outOffset = 0;
      stream.outEnd = endStream;
      stream.outDone = resolve;
      this.#sendQueue.add(stream);
      this.#pump();
    });
  }

  /** Bytes written but not yet taken by the peer (socket buffer plus frames not yet flushed). */
  #outputBacklog(): number {
    return this.#conn.stream.writableLength + this.#writer.pending;
  }

  /** Frames queued DATA as windows and the output buffer allow, round-robin, one frame per stream per pass. */
  #pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    try {
      const high = this.#options.outputHighWaterMark;
      const queue = this.#sendQueue;
      let progress = true;
      while (progress && queue.size > 0 && this.#outputBacklog() < high) {
        progress = false;
        for (const stream of queue) {
          const out = stream.out;
          if (out === null) {
            queue.delete(stream);
            continue;
          }
          const remaining = out.byteLength - stream.outOffset;
          const n = Math.min(
            remaining,
            stream.sendWindow.size,
            this.#connSend.size,
            this.#writer.maxFrameSize,
          );
          if (n <= 0 && remaining > 0) continue;
          const last = n === remaining;
          const end = last && stream.outEnd;
          const piece = out.subarray(stream.outOffset, stream.outOffset + n);
          this.#writer.data(stream.id, piece, { endStream: end });
          stream.sendWindow.size -= n;
          this.#connSend.size -= n;
          stream.outOffset += n;
          progress = true;
          if (last) {
            stream.out = null;
            queue.delete(stream);
            const done = stream.outDone;
            stream.outDone = null;
            if (end) this.#localEnd(stream);
            done?.(true);
          }
          if (this.#outputBacklog() >= high) break;
        }
      }
    } finally {
      this.#pumping = false;
    }
    this.#flushSoon();
  }

  #localEnd(stream: ServerStream): void {
    stream.state = afterLocalEnd(stream.state);
    if (stream.state === StreamState.CLOSED) this.#retire(stream);
  }

  /** The stream leaves the table (closed): it no longer counts against MAX_CONCURRENT_STREAMS. */
  #retire(stream: ServerStream): void {
    stream.state = StreamState.CLOSED;
    if (this.#streams.get(stream.id) === stream) {
      this.#streams.delete(stream.id);
      remember(this.#recentlyClosed, stream.id);
    }
    this.#sendQueue.delete(stream);
    this.#maybeClose();
  }

  /** Resets `stream` with RST_STREAM `code`. `count` says whether it counts towards the reset flood guard. */
  #reset(stream: ServerStream, code: number, count: boolean): void {
    if (this.#closed) return;
    if (this.#streams.get(stream.id) === stream || stream.state !== StreamState.CLOSED) {
      this.#writer.rstStream(stream.id, code);
      this.#rememberReset(stream.id);
      this.#controlFrameQueued();
    }
    const unread = stream.unread;
    stream.unread = 0;
    if (unread > 0) this.#creditConnection(unread);
    this.#retire(stream);
    stream.kill(new Http2StreamResetError(stream.id, code, "the server reset the stream"));
    this.#flushSoon();
    if (count && !this.#resets.hit()) this.#fail(new Http2EnhanceYourCalmError("too many stream errors"));
  }

  /**
   * Frames the client sent before it saw our RST_STREAM are ignored (RFC 9113 5.1, closed), not answered with
   * another reset: that would be an amplification, and would count against the reset flood guard. The set is
   * bounded; an id that fell out of it gets STREAM_CLOSED, which is still correct.
   */
  #rememberReset(id: number): void {
    remember(this.#recentlyReset, id);
  }

  #streamError(err: Http2Error): void {
    const id = err.streamId;
    const stream = this.#streams.get(id);
    if (stream !== undefined) {
      this.#reset(stream, err.errorCode, true);
      return;
    }
    if (this.#idle(id)) {
      // An idle stream (a PRIORITY frame of the wrong length or depending on itself): RST_STREAM must not name
      // one (RFC 9113 6.4), and a client would take it as a connection error. Raised to one instead (5.4.1).
      this.#fail(err);
      return;
    }
    this.#writer.rstStream(id, err.errorCode);
    this.#rememberReset(id);
    this.#controlFrameQueued();
    this.#flushSoon();
    if (!this.#resets.hit()) this.#fail(new Http2EnhanceYourCalmError("too many stream errors"));
  }

  /**
   * A control frame (ACK, RST_STREAM) was queued. While the peer is not reading what we send, they pile up; past
   * the limit the peer is flooding us (SETTINGS/PING flood) and the connection ends.
   */
  #controlFrameQueued(): void {
    if (this.#outputBacklog() < this.#options.outputHighWaterMark) {
      this.#controlBacklog = 0;
      return;
    }
    if (++this.#controlBacklog > this.#options.maxPendingControlFrames) {
      this.#fail(new Http2EnhanceYourCalmError("flood of frames that need an answer while not reading ours"));
    }
  }

  #flushSoon(): void {
    if (this.#flushScheduled || this.#closed) return;
    this.#flushScheduled = true;
    // One socket write per turn: frames made by every handler that finished in this turn go out together.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#writer.pending === 0) return;
    const stream = this.#conn.stream;
    if (stream.destroyed || stream.writableEnded) {
      this.#writer.take();
      return;
    }
    // The write callback, not only 'drain': 'drain' comes only when a write crossed the socket's own high-water
    // mark, which may be above ours; DATA held back by our mark must resume once the bytes are gone.
    stream.write(this.#writer.take(), this.#afterWrite);
  }

  readonly #afterWrite = (): void => {
    if (this.#sendQueue.size > 0 && !this.#closed) this.#pump();
  };

  #onDrain(): void {
    this.#controlBacklog = 0;
    this.#pump();
  }

  // ---- shutdown --------------------------------------------------------------------------------------------

  /**
   * Graceful shutdown (RFC 9113 6.8): a GOAWAY with the largest id and a PING, so requests already on the wire
   * still get served; on the PING ACK (or after a second) the final GOAWAY with the last stream id; then in-flight
   * streams finish and the connection closes.
   */
  drain(): void {
    if (this.#draining || this.#closed) return;
    this.#draining = true;
    this.#writer.goaway(MAX_STREAM_ID, ErrorCode.NO_ERROR);
    this.#writer.ping(DRAIN_PING);
    this.#drainTimer = setTimeout(() => this.#finalGoaway(), DRAIN_PING_TIMEOUT);
    this.#drainTimer.unref?.();
    this.#flush();
  }

  /** No stream open: after `idleTimeout` the connection drains (GOAWAY NO_ERROR) rather than stay forever. */
  #armIdle(): void {
    if (this.#idleTimer !== undefined || this.#draining) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#streams.size === 0) this.drain();
    }, this.#options.idleTimeout);
    this.#idleTimer.unref?.();
  }

  #finalGoaway(): void {
    if (this.#goawayId >= 0 || this.#closed) return;
    this.#goawayId = this.#lastStreamId;
    this.#writer.goaway(this.#goawayId, ErrorCode.NO_ERROR);
    this.#flush();
    this.#maybeClose();
  }

  #maybeClose(): void {
    if (this.#closed || this.#streams.size > 0) return;
    this.#armIdle();
    if (this.#goawayId >= 0 || this.#peerGoaway || this.#remoteEnded) this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    const stream = this.#conn.stream;
    stream.end();
    const timer = setTimeout(() => stream.destroy(), CLOSE_LINGER);
    timer.unref?.();
    this.#cleanup();
  }

  /** A connection error: GOAWAY with its code, every stream dies, the connection closes. */
  #fail(err: unknown): void {
    if (this.#closed) return;
    const error = err instanceof Error ? err : new Error(String(err));
    const code = error instanceof Http2Error ? error.errorCode : ErrorCode.INTERNAL_ERROR;
    this.#report(error);
    this.#writer.goaway(this.#lastStreamId, code, error.message.slice(0, 200));
    this.#close();
  }

  #report(error: Error): void {
    try {
      this.#options.onError?.(error, this.#conn);
    } catch {
      // A failing error hook must not take the connection down with it.
    }
  }

  #onEnd(): void {
    this.#remoteEnded = true;
    // The client closed its side. HTTP/2 has no half-closed connections (a client that is done sends GOAWAY),
    // so, as Go's and nghttp2's servers do, treat EOF as the client gone: in-flight requests are aborted (their
    // signals fire, their bodies fail) and the connection closes.
    this.#close();
  }

  #onSocketError(err: Error): void {
    this.#report(err);
  }

  #cleanup(): void {
    this.#closed = true;
    if (this.#cleaned) return;
    this.#cleaned = true;
    if (this.#settingsTimer !== undefined) clearTimeout(this.#settingsTimer);
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#settingsTimer = undefined;
    this.#drainTimer = undefined;
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    if (this.#streams.size > 0) {
      const streams = [...this.#streams.values()];
      this.#streams.clear();
      for (const stream of streams) {
        stream.kill(new Http2StreamResetError(stream.id, ErrorCode.CANCEL, "the connection closed"));
      }
    }
    this.#sendQueue.clear();
    this.#done();
  }
}
