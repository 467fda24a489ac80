import {
  abortReason,
  appendSignal,
  type GenericLayer,
  type HasExtensions,
  neverAborts,
  type Same,
  type Service,
  SignalKey,
  sameLayer,
  signalOf,
  TimeoutError,
} from "@tessera/core";
import { forwardCapacity } from "../capacity.js";
import { checkNumber } from "../internal/validate.js";

export { TimeoutError } from "@tessera/core";

/**
 * Fail a call that takes longer than `ms` milliseconds with core's `TimeoutError` (`ERR_TIMEOUT`), and tell
 * the inner work to stop: the inner service sees a narrower cancellation signal (`signalOf(input)`) that
 * aborts with the `TimeoutError` when time runs out, or with the caller's reason when the caller's signal
 * aborts first. The timer and the listener on the caller's signal are released when the inner call settles.
 *
 * The caller's promise rejects the moment the time runs out, even if the inner service has not stopped yet.
 * When the caller's own signal aborts first, the inner service sees that through its signal and the call
 * ends when the inner service stops (or at the deadline).
 *
 * Cost: about a timer per call (~1 µs). The inner service's `AbortSignal` is made only when it reads
 * `signalOf(input)` (a signal costs ~4-5 µs on Node 20, which builds each one with `Object.setPrototypeOf`).
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { timeout } from "@tessera/layers/timeout";
 *
 * const svc = stack(timeout(5_000)).into(handler);
 * await svc.serve(req); // rejects with TimeoutError (code ERR_TIMEOUT) after 5 s
 * ```
 */
export function timeout(ms: number): GenericLayer<Same<HasExtensions>> {
  checkNumber("timeout(ms)", ms, 0);
  return sameLayer(<I extends HasExtensions, O>(inner: Service<I, O>) =>
    forwardCapacity(new TimeoutService(inner, ms), inner),
  );
}

class TimeoutService<I extends HasExtensions, O> implements Service<I, O> {
  readonly #inner: Service<I, O>;
  readonly #ms: number;

  constructor(inner: Service<I, O>, ms: number) {
    this.#inner = inner;
    this.#ms = ms;
  }

  serve(input: I): Promise<O> {
    const extensions = input.extensions;
    const parent = signalOf(extensions);
    if (parent.aborted) return Promise.reject(abortReason(parent));
    const call = new TimeoutCall(parent, this.#ms);
    // The narrower signal is appended to the input's own extensions, not to a fork (`withExtensions`):
    // - a timeout wraps its inner call 1:1, like TLS over TCP, so by DESIGN section 1 it shares the extensions:
    //   what the inner service appends (breadcrumbs) stays visible to the outer layers after it returns;
    // - forking would need `Extensible` inputs and allocate a copy of the input on every call.
    // The cost of sharing is that the input's newest signal would stay our spent signal after the call, one
    // that no longer follows the caller's. So once the inner call has settled (not when the time runs out:
    // inner work still winding down must keep seeing the aborted signal) the caller's signal is appended
    // again and is the newest once more. Extensions are append-only, so this is a re-append.
    //
    // The signal is made only if the inner service reads it (`insertLazy`): an AbortSignal costs ~4-5 µs on
    // Node 20, far more than the rest of this layer, and many services never look at it.
    extensions.insertLazy(SignalKey, call.signal);
    return new Promise<O>((resolve, reject) => {
      call.start(reject);
      let result: Promise<O>;
      try {
        result = this.#inner.serve(input);
      } catch (error) {
        call.settle();
        appendSignal(extensions, parent);
        reject(error);
        return;
      }
      result.then(
        (output) => {
          call.settle();
          appendSignal(extensions, parent);
          resolve(output);
        },
        (error: unknown) => {
          call.settle();
          appendSignal(extensions, parent);
          reject(error);
        },
      );
    });
  }
}

// One call's deadline. The timer stays ref'd (unlike `AbortSignal.timeout()`): a deadline must fire even when
// the inner work is a promise that nothing else keeps alive; unref'ing would save ~0.8 µs but let such a
// process exit with the call unsettled instead of rejecting with ERR_TIMEOUT.
class TimeoutCall {
  readonly #parent: AbortSignal;
  readonly #ms: number;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #controller: AbortController | undefined = undefined;
  #reason: TimeoutError | undefined = undefined;
  #listening = false;

  constructor(parent: AbortSignal, ms: number) {
    this.#parent = parent;
    this.#ms = ms;
  }

  /** Arm the deadline: when it passes, the inner work is told (if it has a signal) and the caller fails now. */
  start(reject: (error: Error) => void): void {
    const ms = this.#ms;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const error = new TimeoutError(`timed out after ${ms} ms`, ms);
      this.#reason = error;
      this.#unlisten();
      this.#controller?.abort(error);
      reject(error);
    }, ms);
  }

  /** The inner service's signal, made on first read: aborts at the deadline or with the caller's signal. */
  readonly signal = (): AbortSignal => {
    const controller = new AbortController();
    this.#controller = controller;
    const parent = this.#parent;
    if (this.#reason !== undefined) controller.abort(this.#reason);
    else if (parent.aborted) controller.abort(parent.reason);
    else if (parent !== neverAborts() && this.#timer !== undefined) {
      parent.addEventListener("abort", this.#onParentAbort, { once: true });
      this.#listening = true;
    }
    return controller.signal;
  };

  // The caller gave up: tell the inner work; the call ends when it stops (or at the deadline).
  readonly #onParentAbort = (): void => {
    this.#listening = false;
    this.#controller?.abort(this.#parent.reason);
  };

  /** The inner call settled: release the timer and the listener on the caller's signal. */
  settle(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#unlisten();
  }

  #unlisten(): void {
    if (this.#listening) this.#parent.removeEventListener("abort", this.#onParentAbort);
    this.#listening = false;
  }
}
