import { TesseraError, type TesseraErrorOptions } from "@tessera/core";

// The errors of the HTTP/1 client side. They live next to the client (not in ../errors.ts) because the parser's
// errors there are about bytes; these are about exchanges and connections. Each has a stable `code`.

/** What is known about an exchange when its connection went away (see `ConnectionFailureFacts` in @tessera/http). */
export interface ConnectionClosedFacts extends TesseraErrorOptions {
  /** Some bytes of the request were handed to the connection. */
  readonly requestSent: boolean;
  /** Some bytes of the response had arrived. */
  readonly responseStarted: boolean;
  /** The connection had completed an exchange before this one (keep-alive reuse). */
  readonly reused: boolean;
}

/**
 * The connection closed (or was reset) before the exchange was over. `staleConnection` is true when a reused
 * connection closed before any byte of the response came back, the signature of a server closing an idle
 * keep-alive connection just as the request went out; the pool retries such a request once if it is safe.
 */
export class Http1ConnectionClosedError extends TesseraError {
  static override readonly code = "ERR_HTTP1_CONNECTION_CLOSED";
  readonly requestSent: boolean;
  readonly responseStarted: boolean;
  readonly reused: boolean;
  readonly staleConnection: boolean;
  constructor(message: string, facts: ConnectionClosedFacts) {
    super(Http1ConnectionClosedError.code, message, facts);
    this.requestSent = facts.requestSent;
    this.responseStarted = facts.responseStarted;
    this.reused = facts.reused;
    this.staleConnection = facts.reused && !facts.responseStarted;
  }
}

/**
 * The server sent something that is not a valid response to the request: a parse error (the parser's error is
 * the `cause`), a response nobody asked for, or an upgrade the client did not request. The connection is closed.
 */
export class Http1ResponseInvalidError extends TesseraError {
  static override readonly code = "ERR_HTTP1_RESPONSE_INVALID";
  /** What a proxy answers when its upstream sends this: 502. */
  readonly status = 502;
  constructor(message: string, options?: TesseraErrorOptions) {
    super(Http1ResponseInvalidError.code, message, options);
  }
}

/** A request was given to an HTTP/1 connection that is still busy with another exchange (it takes one at a time). */
export class Http1ConnectionBusyError extends TesseraError {
  static override readonly code = "ERR_HTTP1_CONNECTION_BUSY";
  constructor() {
    super(Http1ConnectionBusyError.code, "the HTTP/1 connection is busy with another exchange");
  }
}

/** A request that cannot be written as HTTP/1.1 (a target with spaces or controls, an unsupported form). */
export class Http1RequestInvalidError extends TesseraError {
  static override readonly code = "ERR_HTTP1_REQUEST_INVALID";
  constructor(message: string, options?: TesseraErrorOptions) {
    super(Http1RequestInvalidError.code, message, options);
  }
}

/** The proxy refused or failed an HTTP CONNECT; `status` is its answer (502, 503, 403, ...). */
export class ProxyConnectError extends TesseraError {
  static override readonly code: string = "ERR_HTTP1_PROXY_CONNECT_FAILED";
  /** The status the proxy answered, or 0 when it closed without an answer. */
  readonly status: number;
  constructor(
    message: string,
    status: number,
    options?: TesseraErrorOptions,
    code: string = ProxyConnectError.code,
  ) {
    super(code, message, options);
    this.status = status;
  }
}

/** The proxy answered 407: credentials are missing or wrong. `proxyAuthenticate` is its challenge, if any. */
export class ProxyAuthRequiredError extends ProxyConnectError {
  static override readonly code: string = "ERR_HTTP1_PROXY_AUTH_REQUIRED";
  readonly proxyAuthenticate: string | undefined;
  constructor(message: string, proxyAuthenticate: string | undefined) {
    super(message, 407, undefined, ProxyAuthRequiredError.code);
    this.proxyAuthenticate = proxyAuthenticate;
  }
}
