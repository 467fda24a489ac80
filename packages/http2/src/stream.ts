import type { BodyChannel, BodyChannelListener } from "@tessera/http";
import { ReceiveWindow, SendWindow } from "./flow-control.js";
import { StreamState } from "./stream-state.js";

/** What a stream asks of its connection (kept narrow so a stream never reaches into connection internals). */
export interface StreamOwner {
  /** The handler consumed `bytes` of this stream's request body: give flow-control credit back. */
  bodyRead(stream: ServerStream, bytes: number): void;
  /** The handler cancelled the request body: the unread bytes are credited back, later DATA is dropped. */
  bodyCancelled(stream: ServerStream): void;
}

/**
 * One server stream (RFC 9113 5.1): its state, both flow-control windows, the request body channel, the
 * response data waiting for window, and the request's cancellation (made only if the handler asks for it).
 */
export class ServerStream implements BodyChannelListener {
  readonly id: number;
  readonly method: string;
  state: StreamState = StreamState.OPEN;
  readonly sendWindow: SendWindow;
  readonly recvWindow: ReceiveWindow;
  /** The request body's producer side; undefined when the request had none. */
  channel: BodyChannel | undefined = undefined;
  /** content-length of the request, or -1. */
  contentLength: number;
  /** DATA octets received (padding excluded), checked against `contentLength`. */
  received = 0;
  /** Octets pushed to the channel that the handler has not read. */
  unread = 0;
  /** The response HEADERS went out. */
  headersSent = false;
  /** Response bytes waiting for window: the chunk, how far it has been framed, and END_STREAM after it. */
  out: Uint8Array | null = null;
  outOffset = 0;
  outEnd = false;
  /** Settles the promise of the write that `out` belongs to: true when framed, false when the stream died. */
  outDone: ((sent: boolean) => void) | null = null;
  readonly #owner: StreamOwner;
  #controller: AbortController | undefined = undefined;
  #abortReason: Error | undefined = undefined;

  constructor(
    owner: StreamOwner,
    id: number,
    method: string,
    sendWindow: number,
    recvWindow: number,
    recvTarget: number,
    contentLength: number,
  ) {
    this.#owner = owner;
    this.id = id;
    this.method = method;
    this.sendWindow = new SendWindow(sendWindow);
    this.recvWindow = new ReceiveWindow(recvWindow, recvTarget);
    this.contentLength = contentLength;
  }

  /** The request's signal, created on first use (most handlers never ask for it). */
  signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /** The stream died (reset either way, or the connection closed): abort, fail the body, drop pending output. */
  kill(reason: Error): void {
    this.state = StreamState.CLOSED;
    if (this.#abortReason === undefined) {
      this.#abortReason = reason;
      this.#controller?.abort(reason);
    }
    this.channel?.error(reason);
    this.out = null;
    const done = this.outDone;
    this.outDone = null;
    done?.(false);
  }

  onRead(_channel: BodyChannel, bytes: number): void {
    this.unread -= bytes;
    this.#owner.bodyRead(this, bytes);
  }

  onCancel(_channel: BodyChannel, _reason: unknown): void {
    this.#owner.bodyCancelled(this);
  }
}
