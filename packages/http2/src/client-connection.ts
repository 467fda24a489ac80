import type { Duplex } from "node:stream";
import { abortReason, type Extensions, neverAborts, signalOf } from "@tessera/core";
import {
  Body,
  type ClientConnection,
  type ClientConnectionListener,
  ConnectionExtensions,
  type HeaderMap,
  type Request,
  Response,
} from "@tessera/http";
import { Alpn, type Conn } from "@tessera/net";
import {
  Http2ConnectionBusyError,
  Http2ConnectionClosedError,
  Http2HandshakeTimeoutError,
  Http2MalformedResponseError,
  Http2RequestNotProcessedError,
} from "./client-errors.js";
import {
  type Http2ClientOptions,
  type ResolvedHttp2ClientOptions,
  resolveClientOptions,
} from "./client-options.js";
import { ClientStream, type ClientStreamOwner } from "./client-stream.js";
import { ErrorCode, FrameType, MAX_STREAM_ID } from "./constants.js";
import { DataScheduler, type DataSchedulerHost } from "./data-scheduler.js";
import {
  Http2EnhanceYourCalmError,
  Http2Error,
  Http2FlowControlError,
  Http2ProtocolError,
  Http2SettingsTimeoutError,
  Http2StreamClosedError,
  Http2StreamResetError,
} from "./errors.js";
import { FloodGuard } from "./flood-guard.js";
import { ReceiveWindow, SendWindow } from "./flow-control.js";
import { FrameReader } from "./frame-reader.js";
import type { Frame, FrameHandler } from "./frame-types.js";
import { FrameWriter } from "./frame-writer.js";
import { HeaderBlockAssembler } from "./header-block-assembler.js";
import type { HeaderList } from "./header-list.js";
import { HpackDecoder } from "./hpack-decoder.js";
import { HpackEncoder } from "./hpack-encoder.js";
import { type MessageSink, writeMessage } from "./message-writer.js";
import { requestFields } from "./request-fields.js";
import { parseResponseHead, parseResponseTrailers } from "./response-head.js";
import { applySettings, DEFAULT_SETTINGS, type Http2Settings } from "./settings.js";
import { afterLocalEnd, afterRemoteEnd, localOpen, remoteOpen, StreamState } from "./stream-state.js";

const DEFAULT_WINDOW = 65_535;
/** How long a connection that sent GOAWAY waits for the peer to close before destroying the socket. */
const CLOSE_LINGER = 1000;
/** How many reset (or refused push) stream ids are remembered to ignore the frames still in flight on them. */
const RECENT_RESETS = 256;
/** Empty DATA frames (without END_STREAM) and pings tolerated per second before the server counts as hostile. */
const FLOOD_LIMIT = 1000;

function remember(recent: Set<number>, id: number): void {
  recent.add(id);
  if (recent.size > RECENT_RESETS) {
    const oldest = recent.values().next().value;
    if (oldest !== undefined) recent.delete(oldest);
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * One HTTP/2 client connection (RFC 9113) over any {@link Conn}: a `Service<Request, Response>` that multiplexes
 * requests as streams, up to the server's SETTINGS_MAX_CONCURRENT_STREAMS. It implements `@tessera/http`'s
 * `ClientConnection`, so the HTTP client's pool shares one connection across requests to an authority.
 * Made by {@link clientConnection}, which resolves once the server's SETTINGS arrived.
 *
 * - `serve()` resolves when the final response head arrives (1xx are skipped); the body streams through a
 *   `Body.channel` whose reading gives flow-control credit back, so a slow reader stops the server; cancelling it
 *   resets the stream (CANCEL). The request body is sent as DATA within the server's windows, round-robin with
 *   the other streams.
 * - An exchange is over when both directions ended (or the stream was reset): only then does `capacity` go up
 *   and the listener's `onAvailable` fire.
 * - The request's signal is watched until then: aborting resets the stream (CANCEL) and fails the exchange with
 *   the abort reason.
 * - Errors: a stream the server refused (REFUSED_STREAM) or did not process (above its GOAWAY's last stream id)
 *   fails with {@link Http2RequestNotProcessedError} (`requestSent` false: safe to send again); a reset with
 *   {@link Http2StreamResetError}; a response breaking RFC 9113 8.2/8.3 with {@link Http2MalformedResponseError};
 *   the connection closing under an exchange with {@link Http2ConnectionClosedError}. A protocol violation by
 *   the server is a connection error: GOAWAY with its code, then close.
 * - An idle connection does not keep the process alive (the socket is unref'd while no stream is open).
 */
export class Http2ClientConnection implements ClientConnection, FrameHandler, ClientStreamOwner {
  /** The connection's extensions: the `Conn`'s own. */
  readonly extensions: Extensions;
  /** Resolves once the server's SETTINGS arrived; rejects if the connection fails before. */
  readonly ready: Promise<void>;
  readonly #stream: Duplex;
  readonly #options: ResolvedHttp2ClientOptions;
  readonly #listener: ClientConnectionListener | undefined;
  readonly #reader: FrameReader;
  readonly #writer = new FrameWriter();
  readonly #decoder: HpackDecoder;
  readonly #encoder = new HpackEncoder();
  readonly #streams = new Map<number, ClientStream>();
  readonly #scheduler: DataScheduler<ClientStream>;
  readonly #sink: MessageSink<ClientStream>;
  readonly #recentlyReset = new Set<number>();
  readonly #connSend = new SendWindow(DEFAULT_WINDOW);
  readonly #connRecv: ReceiveWindow;
  readonly #empties = new FloodGuard(FLOOD_LIMIT, 1000);
  readonly #pings = new FloodGuard(FLOOD_LIMIT, 1000);
  readonly #local: Http2Settings;
  readonly #scheme: string;
  #peer: Http2Settings = DEFAULT_SETTINGS;
  #nextId = 1;
  /** Exchanges completed: a connection that served some is "reused" (see staleConnection). */
  #completed = 0;
  #settingsReceived = false;
  #settingsTimer: NodeJS.Timeout | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #readyResolve: (() => void) | undefined;
  #readyReject: ((error: unknown) => void) | undefined;
  #priorityFramesSent = false;
  #flushScheduled = false;
  /** The server's GOAWAY last-stream-id, or -1 before any GOAWAY. */
  #goaway = -1;
  #closing = false;
  #closed = false;
  #cleaned = false;
  /** Why the connection ended, for exchanges still in flight. */
  #reason: Error | undefined;
  readonly #refable: { ref(): unknown; unref(): unknown } | undefined;

  /** Use {@link clientConnection}. */
  constructor(conn: Conn, options: Http2ClientOptions = {}) {
    const o = resolveClientOptions(options);
    this.#options = o;
    this.extensions = conn.extensions;
    this.#stream = conn.stream;
    this.#listener = options.listener;
    this.#scheme = o.scheme ?? (conn.extensions.get(Alpn) === undefined ? "http" : "https");
    const flat: number[] = [];
    for (const [id, value] of o.settings) flat.push(id, value);
    const local = applySettings(DEFAULT_SETTINGS, flat);
    this.#local = local;
    this.#reader = new FrameReader(new HeaderBlockAssembler(this), {
      preface: "server",
      maxFrameSize: local.maxFrameSize,
    });
    this.#decoder = new HpackDecoder(
      Number.isFinite(local.maxHeaderListSize) ? { maxHeaderListSize: local.maxHeaderListSize } : {},
    );
    this.#connRecv = new ReceiveWindow(DEFAULT_WINDOW, DEFAULT_WINDOW + o.windowUpdate);
    const host: DataSchedulerHost<ClientStream> = {
      outputBacklog: () => this.#stream.writableLength + this.#writer.pending,
      localEnd: (stream) => this.#localEnd(stream),
    };
    this.#scheduler = new DataScheduler(this.#writer, this.#connSend, o.outputHighWaterMark, host);
    this.#sink = {
      sendHeaders: (stream, fields, endStream) => this.#sendHeaders(stream, fields, endStream),
      sendData: (stream, chunk, endStream) => this.#sendData(stream, chunk, endStream),
    };
    this.ready = new Promise<void>((resolve, reject) => {
      this.#readyResolve = resolve;
      this.#readyReject = reject;
    });
    // Nobody may be waiting on `ready` when the connection fails (the factory awaits it, a user may not).
    this.ready.catch(() => {});
    const socket = this.#stream as Partial<{ ref(): unknown; unref(): unknown }>;
    this.#refable =
      typeof socket.ref === "function" && typeof socket.unref === "function"
        ? (socket as { ref(): unknown; unref(): unknown })
        : undefined;
    this.#start();
  }

  #start(): void {
    const o = this.#options;
    const w = this.#writer;
    w.preface();
    w.settings(o.settings);
    if (o.windowUpdate > 0) {
      this.#connRecv.available += o.windowUpdate;
      w.windowUpdate(0, o.windowUpdate);
    }
    this.#settingsTimer = setTimeout(
      () => this.#fail(new Http2SettingsTimeoutError(o.settingsTimeout)),
      o.settingsTimeout,
    );
    this.#settingsTimer.unref?.();
    this.#handshakeTimer = setTimeout(
      () => this.#fail(new Http2HandshakeTimeoutError(o.handshakeTimeout)),
      o.handshakeTimeout,
    );
    this.#handshakeTimer.unref?.();
    const stream = this.#stream;
    stream.on("data", (chunk: Buffer) => this.#onData(chunk));
    stream.on("drain", () => this.#scheduler.pump());
    stream.on("end", () => this.#onEnd());
    stream.on("error", (err: Error) => this.#onSocketError(err));
    stream.on("close", () => this.#cleanup());
    // A stream handed over paused (after a CONNECT or TLS handshake) does not start flowing on a 'data' listener.
    stream.resume();
    if (stream.destroyed) {
      this.#cleanup();
      return;
    }
    this.#flush();
  }

  // ---- the ClientConnection contract ---------------------------------------------------------------------

  /** How many more requests it takes now: the server's MAX_CONCURRENT_STREAMS (capped) minus open streams. */
  get capacity(): number {
    if (this.#closed || this.#closing || this.#goaway >= 0 || this.#nextId > MAX_STREAM_ID) return 0;
    const limit = Math.min(this.#peer.maxConcurrentStreams, this.#options.maxConcurrentStreams);
    return Math.max(0, limit - this.#streams.size);
  }

  /** Streams open (exchanges not over). */
  get inFlight(): number {
    return this.#streams.size;
  }

  /** True once it takes no more requests (closed, closing, or the server sent GOAWAY). */
  get closed(): boolean {
    return this.#closed || this.#closing || this.#goaway >= 0;
  }

  /** The server's settings as last received. */
  get peerSettings(): Http2Settings {
    return this.#peer;
  }

  /** Send `request` on a new stream; resolves with the response once its final head arrived (the body streams). */
  serve(request: Request): Promise<Response> {
    if (this.closed) {
      return Promise.reject(
        new Http2ConnectionClosedError("the HTTP/2 connection takes no more requests", false, false, {
          cause: this.#reason,
        }),
      );
    }
    if (this.capacity === 0) return Promise.reject(new Http2ConnectionBusyError(this.#streams.size));
    const signal = signalOf(request);
    if (signal.aborted) return Promise.reject(abortReason(signal));
    const body = request.body;
    const bytes = body.bytesIfBuffered();
    let fields: string[];
    try {
      fields = requestFields(
        request,
        this.#options.pseudoHeaderOrder,
        this.#scheme,
        bytes !== undefined ? bytes.byteLength : body.length,
      );
    } catch (error) {
      return Promise.reject(error);
    }
    const id = this.#nextId;
    this.#nextId += 2;
    const stream = new ClientStream(
      this,
      id,
      request,
      this.#peer.initialWindowSize,
      // The server read our SETTINGS before this stream's HEADERS (they went first on the wire), so it counts
      // every stream we open from our INITIAL_WINDOW_SIZE, acknowledged or not.
      this.#local.initialWindowSize,
    );
    const promise = new Promise<Response>((resolve, reject) => {
      stream.resolve = resolve;
      stream.reject = reject;
    });
    if (this.#streams.size === 0) this.#refable?.ref();
    this.#streams.set(id, stream);
    if (signal !== neverAborts()) {
      stream.signal = signal;
      stream.onAbort = () => this.#abort(stream, abortReason(signal));
      signal.addEventListener("abort", stream.onAbort, { once: true });
    }
    // HEADERS goes out synchronously (writeMessage calls sendHeaders before its first await): ids stay in order.
    writeMessage(this.#sink, stream, fields, body, false).then(undefined, (error: unknown) =>
      this.#abort(stream, asError(error)),
    );
    return promise;
  }

  /** Take no more requests; close once the streams in flight are over (at once when idle). */
  close(): void {
    if (this.#closed) return;
    this.#closing = true;
    if (this.#streams.size === 0) this.#shutdown(ErrorCode.NO_ERROR);
  }

  /** Close now: exchanges in flight fail with `reason` (default {@link Http2ConnectionClosedError}). */
  destroy(reason?: Error): void {
    if (this.#closed) return;
    this.#reason = reason;
    this.#failStreams(reason);
    this.#shutdown(ErrorCode.CANCEL);
    this.#stream.destroy();
  }

  // ---- output ----------------------------------------------------------------------------------------------

  #sendHeaders(stream: ClientStream, fields: string[], endStream: boolean): boolean {
    if (!localOpen(stream.state) || this.#closed) return false;
    const w = this.#writer;
    if (!this.#priorityFramesSent) {
      this.#priorityFramesSent = true;
      for (const p of this.#options.priorityFrames) w.priority(p.streamId, p.priority);
    }
    const block = this.#encoder.encode(fields);
    const priority = stream.requestSent ? undefined : this.#options.headerPriority;
    w.headers(stream.id, block, priority === undefined ? { endStream } : { endStream, priority });
    stream.requestSent = true;
    if (endStream) this.#localEnd(stream);
    this.#flushSoon();
    return true;
  }

  #sendData(stream: ClientStream, chunk: Uint8Array, endStream: boolean): Promise<boolean> {
    if (!localOpen(stream.state) || this.#closed) return Promise.resolve(false);
    if (chunk.byteLength === 0 && !endStream) return Promise.resolve(true);
    const sent = this.#scheduler.send(stream, chunk, endStream);
    this.#flushSoon();
    return sent;
  }

  #localEnd(stream: ClientStream): void {
    stream.state = afterLocalEnd(stream.state);
    if (stream.state === StreamState.CLOSED) this.#retire(stream);
  }

  #flushSoon(): void {
    if (this.#flushScheduled || this.#closed) return;
    this.#flushScheduled = true;
    // One socket write per turn: the frames of every request made in this turn go out together.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#writer.pending === 0) return;
    const stream = this.#stream;
    if (stream.destroyed || stream.writableEnded) {
      this.#writer.take();
      return;
    }
    stream.write(this.#writer.take(), this.#afterWrite);
  }

  readonly #afterWrite = (): void => {
    if (this.#scheduler.size > 0 && !this.#closed) {
      this.#scheduler.pump();
      this.#flushSoon();
    }
  };

  // ---- input -----------------------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      this.#reader.push(chunk);
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#scheduler.pump();
    this.#flushSoon();
  }

  onFrame(frame: Frame): void {
    if (this.#closed) return;
    try {
      switch (frame.type) {
        case FrameType.DATA:
          this.#onDataFrame(frame);
          break;
        case FrameType.HEADERS:
          this.#onHeaders(frame);
          break;
        case FrameType.RST_STREAM:
          this.#onRstStream(frame);
          break;
        case FrameType.SETTINGS:
          this.#onSettings(frame);
          break;
        case FrameType.PUSH_PROMISE:
          this.#onPushPromise(frame);
          break;
        case FrameType.PING:
          if (!frame.ack) {
            if (!this.#pings.hit()) throw new Http2EnhanceYourCalmError("flood of PING frames");
            this.#writer.ping(frame.data, true);
          }
          break;
        case FrameType.GOAWAY:
          this.#onGoaway(frame);
          break;
        case FrameType.WINDOW_UPDATE:
          this.#onWindowUpdate(frame);
          break;
        default:
          // PRIORITY is ignored (RFC 9113 5.3.2), extension frames too (5.5).
          break;
      }
    } catch (error) {
      if (error instanceof Http2Error && error.scope === "stream") this.#streamError(error);
      else throw error;
    }
  }

  onStreamError(error: Http2Error): void {
    this.#streamError(error);
  }

  /** A frame on a stream we do not have: idle (never opened: a connection error), or closed (ignored or STREAM_CLOSED). */
  #unknownStream(id: number, what: string): void {
    if ((id & 1) === 1 ? id >= this.#nextId : !this.#recentlyReset.has(id)) {
      throw new Http2ProtocolError(`${what} on idle stream ${id}`, "connection", id);
    }
    if (this.#recentlyReset.has(id)) return;
    throw new Http2StreamClosedError(`${what} on closed stream ${id}`, "stream", id);
  }

  #onHeaders(frame: Frame): void {
    const id = frame.streamId;
    // Decoded first whatever happens: the HPACK context is the connection's.
    const list: HeaderList = this.#decoder.decode(frame.data, id);
    const stream = this.#streams.get(id);
    if (stream === undefined) {
      this.#unknownStream(id, "HEADERS");
      return;
    }
    if (!remoteOpen(stream.state)) {
      throw new Http2StreamClosedError(`HEADERS after END_STREAM on ${id}`, "stream", id);
    }
    stream.responseStarted = true;
    if (stream.headReceived) {
      if (!frame.endStream) throw new Http2MalformedResponseError("trailers without END_STREAM", id);
      this.#remoteEnd(stream, parseResponseTrailers(list, id));
      return;
    }
    const head = parseResponseHead(list, id);
    const status = head.status;
    if (status < 200) {
      // Interim responses are skipped; 101 does not exist in HTTP/2 (RFC 9113 8.6).
      if (status === 101) throw new Http2MalformedResponseError("101 in HTTP/2", id);
      if (frame.endStream) throw new Http2MalformedResponseError("1xx with END_STREAM", id);
      return;
    }
    stream.headReceived = true;
    stream.noContent = stream.head || status === 204 || status === 304;
    stream.contentLength = head.contentLength;
    let body: Body;
    if (frame.endStream || stream.noContent) {
      if (frame.endStream && !stream.noContent && head.contentLength > 0) {
        throw new Http2MalformedResponseError("content-length without DATA", id);
      }
      body = Body.empty();
    } else {
      const channel = Body.channel({
        highWaterMark: this.#local.initialWindowSize,
        length: head.contentLength >= 0 ? head.contentLength : undefined,
        listener: stream,
      });
      stream.channel = channel;
      body = channel.body;
    }
    const response = new Response(
      status,
      head.headers,
      body,
      stream.request.extensions.fork().insert(ConnectionExtensions, this.extensions),
      "HTTP/2",
    );
    const resolve = stream.resolve;
    stream.resolve = undefined;
    stream.reject = undefined;
    resolve?.(response);
    if (frame.endStream) this.#remoteEnd(stream, undefined);
  }

  #onDataFrame(frame: Frame): void {
    const id = frame.streamId;
    const length = frame.length;
    if (!this.#connRecv.receive(length)) {
      throw new Http2FlowControlError(`DATA of ${length} octets past the connection window`);
    }
    const stream = this.#streams.get(id);
    if (stream === undefined || !remoteOpen(stream.state)) {
      // Nobody will read it, but it counted against the connection window.
      this.#creditConnection(length);
      if (stream === undefined) this.#unknownStream(id, "DATA");
      else throw new Http2StreamClosedError(`DATA on stream ${id} after END_STREAM`, "stream", id);
      return;
    }
    if (!stream.recvWindow.receive(length)) {
      this.#creditConnection(length);
      throw new Http2FlowControlError(
        `DATA of ${length} octets past the window of stream ${id}`,
        "stream",
        id,
      );
    }
    stream.responseStarted = true;
    const data = frame.data;
    const size = data.length;
    if (length > size) this.#credit(stream, length - size);
    if (!stream.headReceived) {
      this.#credit(stream, size);
      throw new Http2MalformedResponseError("DATA before the response HEADERS", id);
    }
    if (size === 0 && !frame.endStream && !this.#empties.hit()) {
      throw new Http2EnhanceYourCalmError("flood of empty DATA frames");
    }
    if (size > 0) {
      if (stream.noContent) {
        this.#credit(stream, size);
        throw new Http2MalformedResponseError("DATA in a response without content", id);
      }
      stream.received += size;
      if (stream.contentLength >= 0 && stream.received > stream.contentLength) {
        this.#credit(stream, size);
        throw new Http2MalformedResponseError("more DATA than content-length", id);
      }
      const channel = stream.channel;
      if (channel === undefined || channel.cancelled) this.#credit(stream, size);
      else {
        stream.unread += size;
        channel.push(data);
      }
    }
    if (frame.endStream) this.#remoteEnd(stream, undefined);
  }

  #remoteEnd(stream: ClientStream, trailers: HeaderMap | undefined): void {
    if (!stream.noContent && stream.contentLength >= 0 && stream.received !== stream.contentLength) {
      throw new Http2MalformedResponseError("DATA shorter than content-length", stream.id);
    }
    stream.state = afterRemoteEnd(stream.state);
    stream.channel?.end(trailers);
    if (stream.state === StreamState.CLOSED) this.#retire(stream);
  }

  #onRstStream(frame: Frame): void {
    const id = frame.streamId;
    const stream = this.#streams.get(id);
    if (stream === undefined) {
      if ((id & 1) === 1 && id >= this.#nextId) {
        throw new Http2ProtocolError(`RST_STREAM on idle stream ${id}`, "connection", id);
      }
      return;
    }
    const code = frame.errorCode;
    if (code === ErrorCode.NO_ERROR && stream.state === StreamState.HALF_CLOSED_REMOTE) {
      // The response is complete and the server asks us to stop sending the request body (RFC 9113 8.1).
      this.#retire(stream);
      stream.fail(new Http2StreamResetError(id, code, "the server needs no more of the request body"));
      return;
    }
    this.#retire(stream);
    stream.fail(
      code === ErrorCode.REFUSED_STREAM
        ? new Http2RequestNotProcessedError(id, `the server refused stream ${id} (REFUSED_STREAM)`)
        : new Http2StreamResetError(id, code, "the server reset the stream"),
    );
  }

  #onSettings(frame: Frame): void {
    if (frame.ack) {
      if (this.#settingsTimer !== undefined) {
        clearTimeout(this.#settingsTimer);
        this.#settingsTimer = undefined;
        this.#decoder.setMaxTableSize(this.#local.headerTableSize);
      }
      return;
    }
    const before = this.#peer;
    const wasFull = this.capacity === 0;
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
    if (!this.#settingsReceived) {
      this.#settingsReceived = true;
      if (this.#handshakeTimer !== undefined) clearTimeout(this.#handshakeTimer);
      this.#handshakeTimer = undefined;
      const resolve = this.#readyResolve;
      this.#readyResolve = undefined;
      this.#readyReject = undefined;
      resolve?.();
    } else if (wasFull && this.capacity > 0) {
      this.#listener?.onAvailable(this);
    }
  }

  #onPushPromise(frame: Frame): void {
    // The promise's header block is decoded whatever we do with it: the HPACK context is the connection's.
    this.#decoder.decode(frame.data, frame.promisedStreamId);
    if (this.#local.enablePush === 0) {
      throw new Http2ProtocolError("PUSH_PROMISE with push disabled", "connection", frame.streamId);
    }
    // Push was left enabled (a browser's SETTINGS being emulated): the promised stream is refused.
    this.#writer.rstStream(frame.promisedStreamId, ErrorCode.CANCEL);
    remember(this.#recentlyReset, frame.promisedStreamId);
  }

  #onGoaway(frame: Frame): void {
    const last = frame.lastStreamId;
    this.#goaway = this.#goaway < 0 ? last : Math.min(this.#goaway, last);
    if (frame.errorCode !== ErrorCode.NO_ERROR) {
      this.#reason = new Http2Error(
        "ERR_HTTP2_GOAWAY",
        frame.errorCode,
        "connection",
        0,
        `the server closed the connection: ${frame.data.toString("latin1").slice(0, 200)}`,
      );
    }
    // Streams above the last id were not processed (RFC 9113 6.8): safe to send again elsewhere.
    for (const stream of [...this.#streams.values()]) {
      if (stream.id > this.#goaway) {
        this.#retire(stream);
        stream.fail(
          new Http2RequestNotProcessedError(
            stream.id,
            `the server's GOAWAY left stream ${stream.id} unprocessed`,
            {
              cause: this.#reason,
            },
          ),
        );
      }
    }
    if (this.#streams.size === 0) this.#shutdown(ErrorCode.NO_ERROR);
  }

  #onWindowUpdate(frame: Frame): void {
    const id = frame.streamId;
    const increment = frame.windowIncrement;
    if (id === 0) this.#connSend.increase(increment, "connection", 0);
    else {
      const stream = this.#streams.get(id);
      if (stream === undefined) {
        if ((id & 1) === 1 && id >= this.#nextId) {
          throw new Http2ProtocolError(`WINDOW_UPDATE on idle stream ${id}`, "connection", id);
        }
        return;
      }
      stream.sendWindow.increase(increment, "stream", id);
    }
    this.#scheduler.pump();
  }

  // ---- flow-control credit ---------------------------------------------------------------------------------

  bodyRead(stream: ClientStream, bytes: number): void {
    this.#credit(stream, bytes);
    this.#flushSoon();
  }

  bodyCancelled(stream: ClientStream): void {
    if (this.#streams.get(stream.id) !== stream) return;
    this.#reset(stream, ErrorCode.CANCEL);
    stream.fail(new Http2StreamResetError(stream.id, ErrorCode.CANCEL, "the response body was cancelled"));
  }

  #credit(stream: ClientStream, bytes: number): void {
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

  // ---- stream ends -----------------------------------------------------------------------------------------

  /** The exchange is over (both ways, or reset): the stream leaves the table and its slot is free again. */
  #retire(stream: ClientStream): void {
    if (this.#streams.get(stream.id) !== stream) return;
    const wasFull = this.capacity === 0;
    stream.state = StreamState.CLOSED;
    this.#streams.delete(stream.id);
    this.#scheduler.drop(stream);
    stream.unwatch();
    this.#completed++;
    if (this.#streams.size === 0) {
      this.#refable?.unref();
      if (this.#closing || this.#goaway >= 0) {
        this.#shutdown(ErrorCode.NO_ERROR);
        return;
      }
    }
    if (wasFull && this.capacity > 0) this.#listener?.onAvailable(this);
  }

  /** Reset `stream` with RST_STREAM `code` (the caller fails it). */
  #reset(stream: ClientStream, code: number): void {
    if (!this.#closed) {
      this.#writer.rstStream(stream.id, code);
      remember(this.#recentlyReset, stream.id);
      const unread = stream.unread;
      stream.unread = 0;
      if (unread > 0) this.#creditConnection(unread);
      this.#flushSoon();
    }
    this.#retire(stream);
  }

  /** The request's signal aborted, or its body failed: reset the stream and fail the exchange. */
  #abort(stream: ClientStream, reason: Error): void {
    if (this.#streams.get(stream.id) !== stream) return;
    this.#reset(stream, stream.requestSent ? ErrorCode.CANCEL : ErrorCode.NO_ERROR);
    stream.fail(reason);
  }

  #streamError(error: Http2Error): void {
    const stream = this.#streams.get(error.streamId);
    if (stream === undefined) {
      if (!this.#closed) {
        this.#writer.rstStream(error.streamId, error.errorCode);
        remember(this.#recentlyReset, error.streamId);
        this.#flushSoon();
      }
      return;
    }
    this.#reset(stream, error.errorCode);
    stream.fail(error);
  }

  // ---- connection ends -------------------------------------------------------------------------------------

  /** GOAWAY (we accept no streams from the server: last id 0) and end the socket; linger, then destroy. */
  #shutdown(code: number, debug?: string): void {
    if (this.#closed) return;
    this.#writer.goaway(0, code, debug);
    this.#flush();
    this.#closed = true;
    const stream = this.#stream;
    stream.end();
    const timer = setTimeout(() => stream.destroy(), CLOSE_LINGER);
    timer.unref?.();
    this.#cleanup();
  }

  /** A connection error: every exchange fails, GOAWAY with its code, close. */
  #fail(error: unknown): void {
    if (this.#closed) return;
    const err = asError(error);
    this.#reason = err;
    this.#failStreams(err);
    this.#shutdown(
      err instanceof Http2Error ? err.errorCode : ErrorCode.INTERNAL_ERROR,
      err.message.slice(0, 200),
    );
  }

  /** Fail every stream: with `reason` as is, or a ConnectionClosed error carrying it as the cause. */
  #failStreams(reason: Error | undefined): void {
    if (this.#streams.size === 0) return;
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#scheduler.clear();
    const reused = this.#completed > 0;
    for (const stream of streams) {
      stream.fail(
        new Http2ConnectionClosedError(
          `the HTTP/2 connection closed before the exchange on stream ${stream.id} was over`,
          stream.requestSent,
          reused && !stream.responseStarted,
          { cause: reason },
        ),
      );
    }
  }

  #onEnd(): void {
    // HTTP/2 has no half-closed connections: the server is gone.
    this.#failStreams(this.#reason);
    this.#closing = true;
    this.#stream.end();
    this.#cleanup();
  }

  #onSocketError(error: Error): void {
    if (this.#reason === undefined) this.#reason = error;
  }

  #cleanup(): void {
    this.#closed = true;
    if (this.#cleaned) return;
    this.#cleaned = true;
    if (this.#settingsTimer !== undefined) clearTimeout(this.#settingsTimer);
    if (this.#handshakeTimer !== undefined) clearTimeout(this.#handshakeTimer);
    this.#settingsTimer = undefined;
    this.#handshakeTimer = undefined;
    this.#failStreams(this.#reason);
    const reject = this.#readyReject;
    this.#readyResolve = undefined;
    this.#readyReject = undefined;
    // The factory rejects with what went wrong (a timeout, a bad preface), else with "closed".
    reject?.(
      this.#reason ??
        new Http2ConnectionClosedError(
          "the HTTP/2 connection closed before the server's SETTINGS",
          false,
          false,
        ),
    );
    this.#listener?.onClose(this);
  }
}

/**
 * Start HTTP/2 on a connected `Conn` (after TLS negotiated `h2`, or h2c with prior knowledge on cleartext): sends
 * the preface and our SETTINGS, and resolves once the server's SETTINGS arrived, so `capacity` already reflects
 * its MAX_CONCURRENT_STREAMS. It is a `ClientConnectionFactory` of `@tessera/http`: pass it as the `http2`
 * protocol of `httpClient`.
 *
 * @example
 * ```ts
 * import { Request } from "@tessera/http";
 * import { connectRequest, tcpConnector } from "@tessera/net";
 * import { clientConnection } from "@tessera/http2";
 *
 * const conn = await tcpConnector().serve(connectRequest("127.0.0.1:8080"));
 * const h2 = await clientConnection(conn); // h2c, prior knowledge
 * const res = await h2.serve(Request.get("http://127.0.0.1:8080/"));
 * console.log(res.status, await res.body.text());
 * h2.close();
 * ```
 */
export async function clientConnection(
  conn: Conn,
  options: Http2ClientOptions = {},
): Promise<Http2ClientConnection> {
  const connection = new Http2ClientConnection(conn, options);
  await connection.ready;
  return connection;
}
