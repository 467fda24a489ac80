import type { Duplex } from "node:stream";
import { ConnectionClosedError, toSocketError } from "./errors.js";

/** Shared no-op `'error'` listener: keeps a stream's errors from being fatal without a closure per stream. */
export function ignoreError(): void {}

/**
 * Why a connection's signal aborts once its stream has closed: its error (typed), or a plain close.
 *
 * @example
 * ```ts
 * socket.once("close", () => controller.abort(closeReason(socket)));
 * ```
 */
export function closeReason(stream: Duplex): Error {
  const error = stream.errored;
  return error === null || error === undefined ? plainClose() : toSocketError(error);
}

// Every connection ends with one of these, so it must be cheap: capturing a stack trace was the largest single
// cost of closing a connection in a profile of the listener, and the stack of an event (socket 'close') says
// nothing anyway.
function plainClose(): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new ConnectionClosedError("the connection closed");
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * A signal that aborts when `stream` closes, with {@link closeReason} as its reason: the connection-lifetime
 * signal that listeners and connectors put on a connection's extensions (core's `SignalKey`).
 *
 * It also adds a no-op `'error'` listener. DESIGN section 4 says bad input never crashes the process; an
 * `'error'` with no listener would. Errors stay visible as the signal's reason and to any other listener.
 *
 * @example
 * ```ts
 * const ext = new Extensions().insert(SignalKey, connectionSignal(socket));
 * ```
 */
export function connectionSignal(stream: Duplex): AbortSignal {
  const controller = new AbortController();
  stream.on("error", ignoreError);
  if (stream.destroyed) controller.abort(closeReason(stream));
  else stream.once("close", () => controller.abort(closeReason(stream)));
  return controller.signal;
}
