import { abortReason } from "@tessera/core";

// How a wait ends: by a signal, or by a listener's connection followed without its signal. forward, the
// happy-eyeballs race and the TCP connector take either (listener.ts says which one an input has).

/** Told when a listener's connection ends: the moment its signal (core `SignalKey`) aborts, with its reason. */
export interface EndWatcher {
  connectionEnded(reason: Error): void;
}

/**
 * A listener's connection, as forward and the TCP connector's race follow it: its end (the abort of its
 * signal) without the signal. An AbortSignal costs tens of microseconds per connection in Node 20 once it is
 * made, listened to and aborted (with the Event it dispatches), several times what relaying a small exchange
 * costs in JavaScript; this costs an array slot.
 */
export interface ConnectionEnd {
  /** The connection has ended (its signal has aborted, or would have). */
  readonly ended: boolean;
  /** Why it ended (its signal's reason); only once it has. */
  endReason(): Error;
  watch(watcher: EndWatcher): void;
  unwatch(watcher: EndWatcher): void;
}

/** What ends a wait: a signal, or a listener's connection followed without its signal (see {@link ConnectionEnd}). */
export type Ending = AbortSignal | ConnectionEnd;

/** Why `ending` has ended (a signal's reason), or undefined while it has not. */
export function endedReason(ending: Ending): Error | undefined {
  if (ending instanceof AbortSignal) return ending.aborted ? abortReason(ending) : undefined;
  return ending.ended ? ending.endReason() : undefined;
}

/** A watcher of an {@link Ending}: its own abort listener too, for a signal. */
export type EndingWatcher = EndWatcher & { handleEvent(event: Event): void };

/**
 * Have `watcher` told when `ending` ends: `connectionEnded(reason)` for a connection; for a signal, its
 * `handleEvent`, which passes `endedReason(ending)` on to `connectionEnded`.
 */
export function watchEnding(ending: Ending, watcher: EndingWatcher): void {
  if (ending instanceof AbortSignal) ending.addEventListener("abort", watcher);
  else ending.watch(watcher);
}

export function unwatchEnding(ending: Ending, watcher: EndingWatcher): void {
  if (ending instanceof AbortSignal) ending.removeEventListener("abort", watcher);
  else ending.unwatch(watcher);
}
