import type { Duplex } from "node:stream";
import { type HasExtensions, neverAborts, type Service } from "@tessera/core";
import { type Authority, parseAuthority } from "./address.js";
import type { Conn } from "./conn.js";
import { type ConnectRequest, connectRequest } from "./connect-request.js";
import { type Ending, type EndWatcher, endedReason, unwatchEnding, watchEnding } from "./ending.js";
import { ConnectionClosedError, toSocketError } from "./errors.js";
import { type DirectionDone, ForwardDirection } from "./forward-direction.js";
import { ForwardBytes } from "./keys.js";
import { ignoreError } from "./lifetime.js";
import { endingOf } from "./listener.js";

export interface ForwardOptions {
  /** Stop forwarding (both streams destroyed) when this aborts; rejects with its reason. */
  readonly signal?: AbortSignal;
  /**
   * Stop forwarding when this connection's signal (core `signalOf`) aborts, as `signal: signalOf(until)` would,
   * but for a listener's connection without making that signal (it follows the connection itself): the
   * signal would cost a relay more CPU than the rest of its setup. Not together with `signal`.
   */
  readonly until?: HasExtensions;
}

/** Bytes moved in each direction. */
export interface ForwardResult {
  readonly aToB: number;
  readonly bToA: number;
}

/**
 * Forward bytes both ways between two connections until both directions are done, with backpressure and
 * half-close: when `a` ends, `b`'s write side is ended (and the other way round) while the other direction goes
 * on. Resolves once both directions ended and were flushed; then both streams are destroyed. On an error or a
 * premature close of either side, or when `signal` aborts, both are torn down (reset where the stream supports
 * `resetAndDestroy()`, so the far peers see an abort, not a clean end of a truncated stream) and the promise
 * rejects with a typed error ({@link ConnectionResetError}, {@link ConnectionClosedError}, ...) naming the side.
 *
 * Either way the byte counts are recorded on both connections' extensions under {@link ForwardBytes}.
 * Both streams should allow half-open (the listener and connectors of this package do), or a side that ends
 * would close before the other direction is done. `forward` must be the only reader of both streams.
 *
 * @example
 * ```ts
 * const upstream = await tcpConnector().serve(connectRequest("backend:8080", conn.extensions.fork()));
 * const { aToB, bToA } = await forward(conn, upstream, { until: conn });
 * ```
 */
export function forward(a: Conn, b: Conn, options?: ForwardOptions): Promise<ForwardResult> {
  const until = options?.until;
  if (until !== undefined && options?.signal !== undefined) {
    return Promise.reject(new TypeError("forward: give `signal` or `until`, not both"));
  }
  const ending = until !== undefined ? endingOf(until) : (options?.signal ?? neverAborts());
  return new Promise<ForwardResult>((resolve, reject) => {
    new Forwarding(a, b, ending, resolve, reject).start();
  });
}

// Each stream carries its forwarding, so the 'error' and 'close' listeners are shared functions.
const kForwarding = Symbol("tessera.forward");
type Tagged = Duplex & { [kForwarding]?: Forwarding };

function onStreamError(this: Tagged, error: Error): void {
  this[kForwarding]!.onError(this, error);
}
function onStreamClose(this: Tagged): void {
  this[kForwarding]!.onClose(this);
}

// One forward: both directions, the settling rules, and the signal (this object is its abort listener) or the
// listener's connection it follows (this object is its end watcher).
class Forwarding implements DirectionDone, EndWatcher {
  readonly #a: Conn;
  readonly #b: Conn;
  readonly #ending: Ending;
  readonly #resolve: (result: ForwardResult) => void;
  readonly #reject: (error: Error) => void;
  readonly #ab: ForwardDirection;
  readonly #ba: ForwardDirection;
  #settled = false;

  constructor(
    a: Conn,
    b: Conn,
    ending: Ending,
    resolve: (result: ForwardResult) => void,
    reject: (error: Error) => void,
  ) {
    this.#a = a;
    this.#b = b;
    this.#ending = ending;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#ab = new ForwardDirection(a.stream, b.stream, this);
    this.#ba = new ForwardDirection(b.stream, a.stream, this);
  }

  start(): void {
    const sa = this.#a.stream as Tagged;
    const sb = this.#b.stream as Tagged;
    const early =
      endedReason(this.#ending) ??
      (sa.destroyed ? closedError(sa, "a") : sb.destroyed ? closedError(sb, "b") : undefined);
    if (early !== undefined) {
      this.#fail(early);
      return;
    }
    sa[kForwarding] = this;
    sb[kForwarding] = this;
    sa.on("error", onStreamError);
    sb.on("error", onStreamError);
    sa.on("close", onStreamClose);
    sb.on("close", onStreamClose);
    watchEnding(this.#ending, this);
    this.#ab.start();
    this.#ba.start();
  }

  directionDone(): void {
    const ab = this.#ab;
    const ba = this.#ba;
    if (this.#settled || !(ab.ended && ab.finished && ba.ended && ba.finished)) return;
    this.#settle();
    this.#a.stream.destroy();
    this.#b.stream.destroy();
    this.#resolve({ aToB: ab.bytes, bToA: ba.bytes });
  }

  onError(stream: Duplex, error: Error): void {
    this.#fail(sideError(error, stream === this.#a.stream ? "a" : "b"));
  }

  // A close is premature unless that stream's reading ended and its writing finished.
  onClose(stream: Duplex): void {
    const isA = stream === this.#a.stream;
    const reading = isA ? this.#ab : this.#ba;
    const writing = isA ? this.#ba : this.#ab;
    if (!(reading.ended && writing.finished)) this.#fail(closedError(stream, isA ? "a" : "b"));
  }

  /** The signal aborted. */
  handleEvent(): void {
    this.#fail(endedReason(this.#ending)!);
  }

  /** The connection followed (`until`) ended. */
  connectionEnded(reason: Error): void {
    this.#fail(reason);
  }

  #settle(): void {
    this.#settled = true;
    const sa = this.#a.stream;
    const sb = this.#b.stream;
    this.#ab.stop();
    this.#ba.stop();
    sa.off("error", onStreamError);
    sb.off("error", onStreamError);
    sa.off("close", onStreamClose);
    sb.off("close", onStreamClose);
    unwatchEnding(this.#ending, this);
    const ab = this.#ab.bytes;
    const ba = this.#ba.bytes;
    this.#a.extensions.insert(ForwardBytes, { read: ab, written: ba });
    this.#b.extensions.insert(ForwardBytes, { read: ba, written: ab });
  }

  #fail(error: Error): void {
    if (this.#settled) return;
    this.#settle();
    const sa = this.#a.stream;
    const sb = this.#b.stream;
    // Late errors of streams we are tearing down have no one to go to; they must not crash the process.
    sa.on("error", ignoreError);
    sb.on("error", ignoreError);
    abort(sa);
    abort(sb);
    this.#reject(error);
  }
}

/**
 * Tear a stream down as aborted: a reset (TCP RST) where the stream can send one, so the far peer of a relay that
 * failed sees an error rather than a clean end it would take for a complete (but truncated) stream.
 */
function abort(stream: Duplex): void {
  const reset = (stream as Duplex & { resetAndDestroy?: () => unknown }).resetAndDestroy;
  if (typeof reset === "function" && !stream.destroyed) {
    try {
      reset.call(stream);
      return;
    } catch {
      // Not a TCP handle (a Unix or TLS socket): a plain destroy is all there is.
    }
  }
  stream.destroy();
}

/** A stream's error as a typed one; a new typed error (not one the stream made itself) names the side. */
function sideError(error: unknown, side: "a" | "b"): Error {
  const typed = toSocketError(error);
  if (typed !== error) typed.message = `forward, side ${side}: ${typed.message}`;
  return typed;
}

function closedError(stream: Duplex, side: "a" | "b"): Error {
  const error = stream.errored;
  if (error) return sideError(error, side);
  return new ConnectionClosedError(`forward, side ${side}: the connection closed before forwarding finished`);
}

/**
 * A TCP-proxy service: for every connection it serves, connect to `target` with `connector` (the request forks
 * the connection's extensions, so the client's signal cancels the connect) and {@link forward} both ways.
 * `target` is an authority, or a function making the connect request from the connection (e.g. from SNI).
 *
 * @example
 * ```ts
 * const proxy = forwardService(tcpConnector({ timeout: 5_000 }), "127.0.0.1:8080");
 * const listener = await listen({ port: 8443 }, proxy, { onError: console.error });
 * ```
 */
export function forwardService(
  connector: Service<ConnectRequest, Conn>,
  target: Authority | string | ((conn: Conn) => ConnectRequest),
): Service<Conn, void> {
  const fixed: Authority | undefined =
    typeof target === "string" ? parseAuthority(target) : typeof target === "function" ? undefined : target;
  const make = typeof target === "function" ? target : undefined;
  return {
    async serve(conn: Conn): Promise<void> {
      let upstream: Conn;
      try {
        const request = fixed !== undefined ? connectRequest(fixed, conn.extensions.fork()) : make!(conn);
        upstream = await connector.serve(request);
      } catch (error) {
        conn.stream.destroy();
        throw error;
      }
      await forward(conn, upstream, { until: conn });
    },
  };
}
