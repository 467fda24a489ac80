import type { BodyChannel, BodyChannelListener, Request, Response } from "@tessera/http";
import type { OutboundStream } from "./data-scheduler.js";
import { ReceiveWindow, SendWindow } from "./flow-control.js";
import { StreamState } from "./stream-state.js";

/** What a client stream asks of its connection. */
export interface ClientStreamOwner {
  /** The reader consumed `bytes` of the response body: give flow-control credit back. */
  bodyRead(stream: ClientStream, bytes: number): void;
  /** The reader cancelled the response body: the stream is reset (CANCEL). */
  bodyCancelled(stream: ClientStream): void;
}

/**
 * One client stream (RFC 9113 5.1): one exchange. Its state, both windows, the request data waiting for window,
 * the pending response promise until the head arrives, then the response body's producer side.
 */
export class ClientStream implements OutboundStream, BodyChannelListener {
  readonly id: number;
  readonly request: Request;
  /** A HEAD request: the response has no content whatever its fields say. */
  readonly head: boolean;
  state: StreamState = StreamState.OPEN;
  readonly sendWindow: SendWindow;
  readonly recvWindow: ReceiveWindow;
  out: Uint8Array | null = null;
  outOffset = 0;
  outEnd = false;
  outDone: ((sent: boolean) => void) | null = null;
  /** Settle the `serve()` promise; undefined once the final head arrived (or the exchange failed). */
  resolve: ((response: Response) => void) | undefined = undefined;
  reject: ((error: unknown) => void) | undefined = undefined;
  /** The response body's producer side, once a final head with content arrived. */
  channel: BodyChannel | undefined = undefined;
  /** The final response head arrived. */
  headReceived = false;
  /** The response has no content (HEAD, 204, 304): DATA on it is malformed. */
  noContent = false;
  /** The response's content-length, or -1. */
  contentLength = -1;
  /** DATA octets received (padding excluded). */
  received = 0;
  /** Octets pushed to the channel and not read yet. */
  unread = 0;
  /** HEADERS went to the connection's output. */
  requestSent = false;
  /** A frame of the response arrived. */
  responseStarted = false;
  /** The request's signal while it is watched (removed when the exchange is over). */
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  readonly #owner: ClientStreamOwner;

  constructor(
    owner: ClientStreamOwner,
    id: number,
    request: Request,
    sendWindow: number,
    recvWindow: number,
  ) {
    this.#owner = owner;
    this.id = id;
    this.request = request;
    this.head = request.method === "HEAD";
    this.sendWindow = new SendWindow(sendWindow);
    this.recvWindow = new ReceiveWindow(recvWindow);
  }

  /** The exchange failed: the pending promise rejects, the response body errors, pending output is dropped. */
  fail(error: Error): void {
    this.state = StreamState.CLOSED;
    const reject = this.reject;
    this.resolve = undefined;
    this.reject = undefined;
    reject?.(error);
    this.channel?.error(error);
    this.out = null;
    const done = this.outDone;
    this.outDone = null;
    done?.(false);
    this.unwatch();
  }

  /** Stop watching the request's signal. */
  unwatch(): void {
    if (this.onAbort !== undefined) this.signal!.removeEventListener("abort", this.onAbort);
    this.onAbort = undefined;
    this.signal = undefined;
  }

  onRead(_channel: BodyChannel, bytes: number): void {
    this.unread -= bytes;
    this.#owner.bodyRead(this, bytes);
  }

  onCancel(_channel: BodyChannel, _reason: unknown): void {
    this.#owner.bodyCancelled(this);
  }
}
