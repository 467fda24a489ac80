import type { Duplex } from "node:stream";
import { abortReason, type Extensions, neverAborts, signalOf } from "@tessera/core";
import {
  Body,
  type BodyChannel,
  type BodyChannelListener,
  BodyLengthMismatchError,
  type ClientConnection,
  type ClientConnectionListener,
  type ClientConnectionOptions,
  ConnectionExtensions,
  HeaderMap,
  HttpProxy,
  type Request,
  Response,
} from "@tessera/http";
import { type Conn, toSocketError } from "@tessera/net";
import { CHUNK_TERMINATOR, chunkHeader, encodeChunk, lastChunk } from "../chunked-encoder.js";
import { encodeHead } from "../head-serializer.js";
import type { Http1Limits } from "../limits.js";
import { BodyFraming, type ResponseHead } from "../message-head.js";
import type { Http1Handler } from "../parser.js";
import type { RawHeaders } from "../raw-headers.js";
import { ResponseParser } from "../response-parser.js";
import { STATUS_REASONS } from "../status-codes.js";
import { Http1ConnectionBusyError, Http1ConnectionClosedError, Http1ResponseInvalidError } from "./errors.js";
import { RequestFraming, RequestHeadBuilder } from "./request-head.js";

/** Options of {@link clientConnection}. */
export interface Http1ClientOptions extends ClientConnectionOptions {
  /** Parser limits for response heads (defaults in `DEFAULT_LIMITS`). */
  readonly limits?: Partial<Http1Limits>;
  /**
   * How long a request with `Expect: 100-continue` waits for the 100 before sending its body anyway (RFC 9110
   * 10.1.1: servers that do not know the expectation never answer it). Default 1000 ms.
   */
  readonly expectContinueTimeout?: number;
  /** Unread response body bytes at which the socket is paused. Default 64 KiB. */
  readonly highWaterMark?: number;
  /**
   * Send targets in absolute form (`GET http://host/path`), as a forward proxy expects. Default: true when the
   * connection's extensions say it goes to a forward proxy (`HttpProxy` with mode `"forward"`).
   */
  readonly absoluteForm?: boolean;
}

// Bodies up to this size are copied behind the head so that head and body leave in one write; larger ones are
// written after it, uncopied, in the same corked batch.
const COPY_LIMIT = 16 * 1024;

function trailerFields(trailers: HeaderMap | undefined): Iterable<readonly [string, string]> | undefined {
  return trailers === undefined || trailers.size === 0 ? undefined : trailers;
}

/**
 * One HTTP/1.1 client connection over any {@link Conn}: a `Service<Request, Response>` that runs one exchange
 * at a time (no pipelining). Make it with {@link clientConnection}.
 *
 * - The head is written from the request (see `RequestHeadBuilder`); a buffered body of up to 16 KiB goes in
 *   the same write, a larger one in the same corked batch; a streamed body is written chunk by chunk, waiting
 *   for `'drain'`, chunked when its length is unknown.
 * - `Expect: 100-continue`: the body waits for the 100 (or `expectContinueTimeout`); a final answer before it
 *   means the body is never sent and the connection is closed after the response.
 * - The promise resolves when the response head arrives; the body is streamed through a `Body.channel`, and the
 *   socket is paused while the reader lags (backpressure). Interim 1xx responses are skipped; HEAD, 204 and 304
 *   responses have no body whatever their headers say.
 * - The exchange is over when the response body has ended on the wire and the request body was sent: then the
 *   connection is reusable (`capacity` 1, the listener's `onAvailable`) unless either side said
 *   `Connection: close`, the response ran until close, or anything else makes reuse unsafe; then it closes.
 * - An idle connection does not keep the process alive (the socket is unref'd between exchanges), as with
 *   node:http's agent and undici.
 * - The request's cancellation signal (`signalOf(request)`) is watched until the exchange is over: aborting
 *   destroys the connection, the pending promise rejects and the response body errors with the abort reason.
 * - Errors: {@link Http1ConnectionClosedError} (`ERR_HTTP1_CONNECTION_CLOSED`, with `staleConnection` for a
 *   reused connection the peer closed while idle), {@link Http1ResponseInvalidError}
 *   (`ERR_HTTP1_RESPONSE_INVALID`), {@link Http1ConnectionBusyError}, {@link Http1RequestInvalidError}.
 *
 * @example
 * ```ts
 * const conn = await tcpConnector().serve(connectRequest("example.com:80"));
 * const h1 = clientConnection(conn);
 * const res = await h1.serve(Request.get("http://example.com/"));
 * console.log(res.status, await res.body.text());
 * h1.close();
 * ```
 */
export class Http1ClientConnection implements ClientConnection {
  /** The connection's extensions: the `Conn`'s own (a 1:1 wrap shares them). */
  readonly extensions: Extensions;
  readonly #stream: Duplex;
  readonly #parser: ResponseParser;
  readonly #listener: ClientConnectionListener | undefined;
  readonly #builder = new RequestHeadBuilder();
  readonly #absoluteForm: boolean;
  readonly #continueTimeout: number;
  readonly #highWaterMark: number;
  readonly #bodyListener: BodyChannelListener;

  #closed = false;
  #closing = false;
  // The exchange in progress: #active from serve() until both #reading and #writing are done.
  #active = false;
  #reading = false;
  #writing = false;
  #keepAlive = true;
  #reused = false;
  #requestSent = false;
  #responseStarted = false;
  #interim = false;
  #stopWriting = false;
  #request: Request | undefined = undefined;
  #signal: AbortSignal | undefined = undefined;
  #resolve: ((response: Response) => void) | undefined = undefined;
  #reject: ((error: unknown) => void) | undefined = undefined;
  #channel: BodyChannel | undefined = undefined;
  // A body held back until 100 Continue: the bytes of a buffered body, or the streamed Body.
  #pendingBody: Uint8Array | Body | undefined = undefined;
  #continueTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  #drainWaiter: (() => void) | undefined = undefined;
  // The socket is paused because the response body's reader lags.
  #pausedForBody = false;
  // A socket's ref()/unref(), when the stream has them: an idle connection must not keep the process alive.
  readonly #refable: { ref(): unknown; unref(): unknown } | undefined;

  /** Use {@link clientConnection}. */
  constructor(conn: Conn, options: Http1ClientOptions = {}) {
    this.extensions = conn.extensions;
    this.#stream = conn.stream;
    this.#listener = options.listener;
    this.#absoluteForm = options.absoluteForm ?? conn.extensions.get(HttpProxy)?.mode === "forward";
    this.#continueTimeout = options.expectContinueTimeout ?? 1000;
    this.#highWaterMark = options.highWaterMark ?? 64 * 1024;
    const handler: Http1Handler<ResponseHead> = {
      onHead: (head) => this.#onHead(head),
      onBody: (data) => this.#onBody(data),
      onMessageComplete: (trailers) => this.#onMessageComplete(trailers),
    };
    this.#parser = new ResponseParser(handler, options.limits);
    this.#bodyListener = {
      // Only the body still arriving may resume the socket: a finished one's reader catching up must not
      // release the backpressure of the next.
      onDrain: (channel) => {
        if (channel === this.#channel) this.#resumeReading();
      },
      onCancel: (channel) => {
        // The reader gave up on a body still arriving: the rest would have to be read and thrown away before
        // the connection could carry another exchange; closing is simpler and bounded.
        if (channel === this.#channel) this.#destroy(undefined);
      },
    };
    const stream = this.#stream;
    stream.on("data", this.#onData);
    stream.on("end", this.#onEnd);
    stream.on("error", this.#onError);
    stream.on("close", this.#onClose);
    // A stream handed over paused (e.g. after a CONNECT handshake) does not start flowing on a 'data' listener.
    stream.resume();
    const socket = stream as Partial<{ ref(): unknown; unref(): unknown }>;
    this.#refable =
      typeof socket.ref === "function" && typeof socket.unref === "function"
        ? (socket as { ref(): unknown; unref(): unknown })
        : undefined;
    this.#refable?.unref();
    if (stream.destroyed) this.#destroy(undefined);
  }

  /** 1 when idle and open, else 0: HTTP/1.1 carries one exchange at a time. */
  get capacity(): number {
    return this.#closed || this.#closing || this.#active ? 0 : 1;
  }

  /** 1 while an exchange is in progress, else 0. */
  get inFlight(): number {
    return this.#active ? 1 : 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Send `request` and resolve with the response once its head has arrived (the body streams). */
  serve(request: Request): Promise<Response> {
    if (this.#closed || this.#closing) return Promise.reject(this.#closedError(undefined, false));
    if (this.#active) return Promise.reject(new Http1ConnectionBusyError());
    const signal = signalOf(request);
    if (signal.aborted) return Promise.reject(abortReason(signal));
    const body = request.body;
    const bytes = body.bytesIfBuffered();
    const builder = this.#builder;
    let head: string;
    try {
      head = builder.build(request, this.#absoluteForm, bytes !== undefined ? bytes.byteLength : body.length);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#active = true;
    this.#refable?.ref();
    this.#reading = true;
    this.#writing = false;
    this.#keepAlive = !builder.close;
    this.#requestSent = false;
    this.#responseStarted = false;
    this.#interim = false;
    this.#stopWriting = false;
    this.#request = request;
    this.#parser.resume();
    this.#parser.pushRequestMethod(request.method);
    if (signal !== neverAborts()) {
      this.#signal = signal;
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    const promise = new Promise<Response>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#write(head, bytes, body);
    return promise;
  }

  /** Take no more requests; close when the exchange in progress is over (at once when idle). */
  close(): void {
    if (this.#closed) return;
    this.#closing = true;
    if (!this.#active) this.#destroy(undefined);
  }

  /** Close now; an exchange in progress fails with `reason` (default: `ERR_HTTP1_CONNECTION_CLOSED`). */
  destroy(reason?: Error): void {
    this.#destroy(reason ?? this.#closedError(undefined, this.#requestSent));
  }

  // ------------------------------------------------------------------------------------------------------
  // Writing

  #write(head: string, bytes: Uint8Array | undefined, body: Body): void {
    const stream = this.#stream;
    const builder = this.#builder;
    this.#requestSent = true;
    if (builder.framing === RequestFraming.None) {
      stream.write(head, "latin1");
      return;
    }
    if (builder.expectContinue) {
      stream.write(head, "latin1");
      this.#writing = true;
      this.#pendingBody = bytes ?? body;
      this.#continueTimer = setTimeout(this.#sendHeldBody, this.#continueTimeout);
      return;
    }
    if (bytes !== undefined) {
      this.#writeBuffered(head, bytes);
      return;
    }
    stream.write(head, "latin1");
    this.#writing = true;
    void this.#pump(body);
  }

  #writeBuffered(head: string | undefined, bytes: Uint8Array): void {
    const stream = this.#stream;
    if (head === undefined) stream.write(bytes);
    else if (bytes.byteLength <= COPY_LIMIT) stream.write(encodeHead(head, bytes));
    else {
      stream.cork();
      stream.write(head, "latin1");
      stream.write(bytes);
      stream.uncork();
    }
  }

  // 100 Continue arrived, or the wait for it ran out: send the body that was held back.
  readonly #sendHeldBody = (): void => {
    if (this.#continueTimer !== undefined) clearTimeout(this.#continueTimer);
    this.#continueTimer = undefined;
    const pending = this.#pendingBody;
    this.#pendingBody = undefined;
    if (pending === undefined || this.#closed) return;
    if (pending instanceof Body) {
      void this.#pump(pending);
      return;
    }
    this.#writeBuffered(undefined, pending);
    this.#writing = false;
    this.#maybeFinish();
  };

  /** Write a streamed body, obeying backpressure; framing as the head announced it. */
  async #pump(body: Body): Promise<void> {
    const stream = this.#stream;
    const chunked = this.#builder.framing === RequestFraming.Chunked;
    const expected = this.#builder.length;
    let sent = 0;
    try {
      for await (const chunk of body) {
        // Breaking out cancels the body: its producer is told to stop.
        if (this.#closed || this.#stopWriting) break;
        const size = chunk.byteLength;
        sent += size;
        if (expected >= 0 && sent > expected) throw new BodyLengthMismatchError(expected, sent);
        let ok: boolean;
        if (!chunked) ok = stream.write(chunk);
        else if (size <= COPY_LIMIT) ok = stream.write(encodeChunk(chunk));
        else {
          stream.cork();
          stream.write(chunkHeader(size), "latin1");
          stream.write(chunk);
          ok = stream.write(CHUNK_TERMINATOR, "latin1");
          stream.uncork();
        }
        if (!ok) await this.#drained();
      }
      if (this.#closed || this.#stopWriting) return;
      if (expected >= 0 && sent !== expected) throw new BodyLengthMismatchError(expected, sent);
      if (chunked) stream.write(lastChunk(trailerFields(body.trailers)), "latin1");
      this.#writing = false;
      this.#maybeFinish();
    } catch (error) {
      // The body failed (its producer threw, or it broke its declared length): the request cannot be
      // completed on this connection, and a server waiting for the rest would misread what came next.
      this.#destroy(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #drained(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#drainWaiter = resolve;
      this.#stream.once("drain", this.#onDrain);
    });
  }

  readonly #onDrain = (): void => {
    const waiter = this.#drainWaiter;
    this.#drainWaiter = undefined;
    waiter?.();
  };

  // ------------------------------------------------------------------------------------------------------
  // Reading

  readonly #onData = (chunk: Buffer): void => {
    if (this.#closed) return;
    if (!this.#reading) {
      // Bytes nobody asked for: a server that sends them cannot be trusted with another exchange.
      if (this.#active) this.#keepAlive = false;
      else this.#destroy(undefined);
      return;
    }
    this.#responseStarted = true;
    let consumed: number;
    try {
      consumed = this.#parser.execute(chunk);
    } catch (error) {
      this.#destroy(
        error instanceof Http1ResponseInvalidError
          ? error
          : new Http1ResponseInvalidError(`invalid response: ${(error as Error).message}`, { cause: error }),
      );
      return;
    }
    // The parser pauses after each response: bytes after it were not asked for.
    if (consumed < chunk.length) this.#keepAlive = false;
    this.#maybeFinish();
  };

  #onHead(head: ResponseHead): void {
    if (head.informational) {
      this.#interim = true;
      if (head.status === 100 && this.#pendingBody !== undefined) this.#sendHeldBody();
      return;
    }
    this.#interim = false;
    if (head.upgrade) {
      throw new Http1ResponseInvalidError(
        head.status === 101
          ? "101 Switching Protocols, but the client connection does not do upgrades"
          : "a 2xx answer to CONNECT: open tunnels with httpConnect()",
      );
    }
    if (!head.keepAlive) this.#keepAlive = false;
    const pending = this.#pendingBody;
    if (pending !== undefined) {
      // A final answer before 100 Continue: the body is never sent (RFC 9110 10.1.1). The server may still be
      // waiting for the bytes the head announced, so the connection cannot be reused.
      this.#pendingBody = undefined;
      if (this.#continueTimer !== undefined) clearTimeout(this.#continueTimer);
      this.#continueTimer = undefined;
      if (pending instanceof Body) pending.cancel();
      this.#writing = false;
      this.#keepAlive = false;
    } else if (this.#writing && !head.keepAlive) {
      // The server answered early and is closing: stop sending the body (RFC 9112 9.5).
      this.#stopWriting = true;
      this.#writing = false;
    }
    let body: Body;
    if (head.framing === BodyFraming.None) {
      body = Body.empty();
    } else {
      const channel = Body.channel({
        length: head.framing === BodyFraming.Length ? head.contentLength : undefined,
        listener: this.#bodyListener,
        highWaterMark: this.#highWaterMark,
      });
      this.#channel = channel;
      body = channel.body;
    }
    const status = head.status;
    const reason = head.reason;
    const response = new Response(
      status,
      HeaderMap.fromSource(head.headers),
      body,
      this.#request!.extensions.fork().insert(ConnectionExtensions, this.extensions),
      head.versionMinor === 1 ? "HTTP/1.1" : "HTTP/1.0",
      reason === STATUS_REASONS[status] ? undefined : reason,
    );
    const resolve = this.#resolve;
    this.#resolve = undefined;
    this.#reject = undefined;
    resolve?.(response);
  }

  #onBody(data: Buffer): void {
    const channel = this.#channel;
    // Socket chunks are never reused by Node, so the view can be handed over without a copy.
    if (channel !== undefined && !channel.push(data) && !this.#pausedForBody) {
      this.#pausedForBody = true;
      this.#stream.pause();
    }
  }

  #resumeReading(): void {
    if (!this.#pausedForBody || this.#closed) return;
    this.#pausedForBody = false;
    this.#stream.resume();
  }

  #onMessageComplete(trailers: RawHeaders | null): void {
    if (this.#interim) {
      this.#interim = false;
      return;
    }
    this.#reading = false;
    // Stop after this response: whatever follows was not asked for (see #onData).
    this.#parser.pause();
    const channel = this.#channel;
    this.#channel = undefined;
    channel?.end(trailers === null ? undefined : HeaderMap.fromSource(trailers));
    // The whole body is in the channel now: its reader's pace no longer concerns the socket, which must flow
    // for the next exchange (or to see the peer close).
    this.#resumeReading();
  }

  readonly #onEnd = (): void => {
    if (this.#closed) return;
    this.#keepAlive = false;
    if (this.#reading) {
      try {
        // Completes a body that runs until close; throws if the response was cut short.
        this.#parser.finish();
      } catch (error) {
        this.#destroy(this.#closedError(error, this.#requestSent));
        return;
      }
      if (this.#reading) {
        this.#destroy(this.#closedError(undefined, this.#requestSent));
        return;
      }
    }
    if (this.#active) this.#maybeFinish();
    else this.#destroy(undefined);
  };

  readonly #onError = (error: Error): void => {
    if (!this.#closed) this.#destroy(this.#closedError(toSocketError(error), this.#requestSent));
  };

  readonly #onClose = (): void => {
    if (!this.#closed) this.#destroy(this.#closedError(undefined, this.#requestSent));
  };

  readonly #onAbort = (): void => {
    const signal = this.#signal;
    if (signal !== undefined) this.#destroy(abortReason(signal));
  };

  // ------------------------------------------------------------------------------------------------------
  // Lifecycle

  #maybeFinish(): void {
    if (!this.#active || this.#reading || this.#writing || this.#closed) return;
    this.#active = false;
    this.#request = undefined;
    this.#unlisten();
    if (!this.#keepAlive || this.#closing) {
      this.#destroy(undefined);
      return;
    }
    this.#reused = true;
    this.#refable?.unref();
    this.#listener?.onAvailable(this);
  }

  #unlisten(): void {
    const signal = this.#signal;
    if (signal !== undefined) {
      this.#signal = undefined;
      signal.removeEventListener("abort", this.#onAbort);
    }
  }

  #closedError(cause: unknown, requestSent: boolean): Http1ConnectionClosedError {
    const started = this.#responseStarted;
    return new Http1ConnectionClosedError(
      started
        ? "the connection closed before the response was complete"
        : "the connection closed before a response arrived",
      { requestSent, responseStarted: started, reused: this.#reused, cause },
    );
  }

  /** Close for good. `reason` goes to a pending response and a body still arriving; undefined: a quiet close. */
  #destroy(reason: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlisten();
    if (this.#continueTimer !== undefined) clearTimeout(this.#continueTimer);
    this.#continueTimer = undefined;
    const pending = this.#pendingBody;
    this.#pendingBody = undefined;
    if (pending instanceof Body) pending.cancel(reason);
    const reject = this.#reject;
    const channel = this.#channel;
    this.#resolve = undefined;
    this.#reject = undefined;
    this.#channel = undefined;
    this.#request = undefined;
    if (reject !== undefined || channel !== undefined) {
      const error = reason ?? this.#closedError(undefined, this.#requestSent);
      reject?.(error);
      channel?.error(error);
    }
    this.#onDrain();
    this.#stream.off("drain", this.#onDrain);
    this.#stream.destroy();
    this.#listener?.onClose(this);
  }
}

/**
 * Start an HTTP/1.1 client on a connected `Conn`. Its signature is `@tessera/http`'s `ClientConnectionFactory`,
 * so it is what the client builder and the pool take as their `http1` protocol.
 *
 * @example
 * ```ts
 * import { httpClient } from "@tessera/http";
 * import { clientConnection } from "@tessera/http1";
 *
 * const client = httpClient({ http1: clientConnection });
 * const res = await client.get("http://127.0.0.1:8080/");
 * ```
 */
export function clientConnection(conn: Conn, options?: Http1ClientOptions): Http1ClientConnection {
  return new Http1ClientConnection(conn, options);
}
