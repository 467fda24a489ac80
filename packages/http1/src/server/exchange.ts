import type { BodyChannel, BodySource, HeaderMap, Request, Response } from "@tessera/http";

/** Where an exchange is: waiting for its handler, ready to write, writing a streamed body, or done. */
export const ExchangeState = {
  Pending: 0,
  Ready: 1,
  Writing: 2,
  Done: 3,
} as const;
export type ExchangeState = (typeof ExchangeState)[keyof typeof ExchangeState];

/**
 * One request and its response on a connection. Exchanges wait in a FIFO: pipelined requests are handled
 * concurrently, and responses go out in request order. One class with one fixed shape for every request.
 */
export class Exchange {
  /** Set right after construction (the request's body source may need the exchange). */
  request: Request = undefined as unknown as Request;
  readonly method: string;
  readonly versionMinor: number;
  /** The request allows the connection to carry another one (version and Connection field). */
  readonly keepAlive: boolean;
  /** A CONNECT, or an Upgrade the client asked for: bytes after the head may belong to another protocol. */
  readonly upgrade: boolean;
  readonly expectContinue: boolean;
  /** The Content-Length of the request body, if any. */
  readonly contentLength: number | undefined;
  /** The producer side of the request body; undefined when the request has none. */
  readonly channel: BodyChannel | undefined;
  /** Every byte of the request has been received (its body complete). */
  requestDone: boolean;
  /** Request-body bytes received so far. */
  received = 0;
  /** The handler cancelled the body (or the server did after responding): further body bytes are dropped. */
  discarding = false;
  state: ExchangeState = ExchangeState.Pending;
  response: Response | undefined = undefined;
  /** The handler read the body of an `Expect: 100-continue` request; send 100 when this exchange is first. */
  continueWanted = false;
  continueSent = false;
  /** The response head has been queued for writing. */
  headSent = false;
  /** Close the connection once this response is written. */
  closeAfter = false;

  constructor(
    method: string,
    versionMinor: number,
    keepAlive: boolean,
    upgrade: boolean,
    expectContinue: boolean,
    contentLength: number | undefined,
    channel: BodyChannel | undefined,
  ) {
    this.method = method;
    this.versionMinor = versionMinor;
    this.keepAlive = keepAlive;
    this.upgrade = upgrade;
    this.expectContinue = expectContinue;
    this.contentLength = contentLength;
    this.channel = channel;
    this.requestDone = channel === undefined;
  }
}

/** Who is told when the handler first reads a body that the client will only send after `100 Continue`. */
export interface ContinueListener {
  wantContinue(exchange: Exchange): void;
}

/**
 * The body source of an `Expect: 100-continue` request: the channel, plus a hook on the first read. The client
 * holds the body back until it sees `100 Continue`; sending that only once the handler reads lets a handler
 * refuse an upload (413, 401, ...) without the client ever sending it.
 */
export class ContinueSource implements BodySource {
  readonly #channel: BodyChannel;
  readonly #listener: ContinueListener;
  readonly #exchange: Exchange;
  #asked = false;

  constructor(channel: BodyChannel, listener: ContinueListener, exchange: Exchange) {
    this.#channel = channel;
    this.#listener = listener;
    this.#exchange = exchange;
  }

  read(): Promise<Uint8Array | undefined> {
    if (!this.#asked) {
      this.#asked = true;
      this.#listener.wantContinue(this.#exchange);
    }
    return this.#channel.read();
  }

  cancel(reason: unknown): void {
    this.#channel.cancel(reason);
  }

  get trailers(): HeaderMap | undefined {
    return this.#channel.trailers;
  }
}
