import {
  abortReason,
  appendSignal,
  type GenericLayer,
  type HasExtensions,
  type Same,
  type Service,
  sameLayer,
  signalOf,
  withTimeout,
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
    const cancellation = withTimeout(parent, this.#ms);
    const signal = cancellation.signal;
    // The narrower signal is appended to the input's own extensions, not to a fork (`withExtensions`):
    // - a timeout wraps its inner call 1:1, like TLS over TCP, so by DESIGN section 1 it shares the extensions:
    //   what the inner service appends (breadcrumbs) stays visible to the outer layers after it returns;
    // - forking would need `Extensible` inputs and allocate a copy of the input on every call.
    // The cost of sharing is that the input's newest signal would stay our disposed child signal after the
    // call, one that no longer follows the caller's signal. So once the inner call has settled (not when the
    // time runs out: inner work still winding down must keep seeing the aborted signal) the caller's signal is
    // appended again and is the newest once more. Extensions are append-only, so this is a re-append.
    appendSignal(extensions, signal);
    const settle = (): void => {
      cancellation.dispose();
      appendSignal(extensions, parent);
    };
    let result: Promise<O>;
    try {
      result = this.#inner.serve(input);
    } catch (error) {
      settle();
      return Promise.reject(error);
    }
    return new Promise<O>((resolve, reject) => {
      const onAbort = (): void => reject(abortReason(signal));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      result.then(
        (output) => {
          signal.removeEventListener("abort", onAbort);
          settle();
          resolve(output);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          settle();
          reject(error);
        },
      );
    });
  }
}
