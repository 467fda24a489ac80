import { AbortedError, isTesseraError, TimeoutError } from "./errors.js";
import { type Extensions, key } from "./extensions.js";

/**
 * The cancellation signal of an input. The newest one wins: a layer that narrows cancellation (a timeout, a
 * deadline) appends a signal that aborts when the older one does or when its own reason comes.
 */
export const SignalKey = key<AbortSignal>("tessera.core.Signal");

/** Anything that carries extensions: every Tessera input type. */
export interface HasExtensions {
  readonly extensions: Extensions;
}

const never: AbortSignal = new AbortController().signal;
// Shared by every input without a signal of its own, so many waits listen on it at once (peeks, connects, relays).
// It never fires, so a listener on it is never called: adding and removing one does nothing. Otherwise each
// removal would scan every other waiter's listener, and Node would warn past ten of them.
function ignoreListener(): void {}
Object.defineProperty(never, "addEventListener", { value: ignoreListener });
Object.defineProperty(never, "removeEventListener", { value: ignoreListener });

/** The input's newest cancellation signal, or a signal that never aborts. Never allocates. */
export function signalOf(input: HasExtensions | Extensions): AbortSignal {
  const ext = "extensions" in input ? input.extensions : input;
  return ext.get(SignalKey) ?? never;
}

/** A signal that never aborts (for inputs made outside any connection, e.g. in tests). */
export function neverAborts(): AbortSignal {
  return never;
}

/**
 * A narrower cancellation: its `signal` aborts when the parent aborts, when `cancel()` is called, or (for
 * {@link withTimeout} and {@link withDeadline}) when time runs out. Call `dispose()` once the work is done:
 * it clears the timer and detaches from the parent, so a long-lived parent (a connection) does not
 * collect listeners from every request.
 */
export interface Cancellation {
  readonly signal: AbortSignal;
  cancel(reason?: unknown): void;
  dispose(): void;
}

/** A child cancellation of `parent`. */
export function childCancellation(parent: AbortSignal): Cancellation {
  return cancellation(parent, undefined);
}

/** A child cancellation that also aborts, with a {@link TimeoutError}, after `ms` milliseconds. */
export function withTimeout(parent: AbortSignal, ms: number): Cancellation {
  return cancellation(parent, ms);
}

function cancellation(parent: AbortSignal, timeoutMs: number | undefined): Cancellation {
  return new ChildCancellation(parent, timeoutMs);
}

// A class with methods rather than closures: a connector or a proxy makes one per connection or request, and
// tsup's keepNames gives every closure created at run time its own property dictionary. It is its own abort
// listener on the parent (`handleEvent`), and the timer gets it as the callback's argument.
class ChildCancellation implements Cancellation {
  readonly #controller = new AbortController();
  readonly #parent: AbortSignal;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(parent: AbortSignal, timeoutMs: number | undefined) {
    this.#parent = parent;
    if (parent.aborted) {
      this.#controller.abort(parent.reason);
      return;
    }
    parent.addEventListener("abort", this, { once: true });
    if (timeoutMs !== undefined) this.#timer = setTimeout(timedOut, timeoutMs, this, timeoutMs);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  cancel(reason?: unknown): void {
    this.abort(reason ?? new AbortedError());
  }

  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#parent.removeEventListener("abort", this);
  }

  abort(reason: unknown): void {
    this.dispose();
    this.#controller.abort(reason);
  }

  /** The parent aborted. */
  handleEvent(): void {
    this.abort(this.#parent.reason);
  }
}

function timedOut(cancellation: ChildCancellation, ms: number): void {
  cancellation.abort(new TimeoutError(`timed out after ${ms} ms`, ms));
}

/** A child cancellation that aborts with a {@link TimeoutError} at `deadline` (epoch milliseconds). */
export function withDeadline(parent: AbortSignal, deadline: number): Cancellation {
  return withTimeout(parent, Math.max(0, deadline - Date.now()));
}

/** The abort reason as an `Error`: Tessera errors pass through, anything else becomes an {@link AbortedError}. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (isTesseraError(reason)) return reason;
  return new AbortedError(undefined, { cause: reason });
}

/** Throw the signal's reason (see {@link abortReason}) if it has aborted. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortReason(signal);
}

/**
 * Settle with `promise`, or reject with the signal's reason as soon as it aborts, whichever comes first.
 * The work behind `promise` is not stopped by this: it must watch the signal itself.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal === never) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Append `signal` as the newest cancellation signal of these extensions. */
export function appendSignal(extensions: Extensions, signal: AbortSignal): Extensions {
  return extensions.insert(SignalKey, signal);
}
