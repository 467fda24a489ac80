import {
  AbortedError,
  abortReason,
  appendSignal,
  type Cancellation,
  childCancellation,
  type Extensible,
  type GenericLayer,
  neverAborts,
  type Same,
  type Service,
  sameLayer,
  signalOf,
} from "@tessera/core";
import { checkInteger, checkNumber } from "../internal/validate.js";
import { type RetryBudget, retryBudget } from "../retry/budget.js";

export { type RetryBudget, retryBudget } from "../retry/budget.js";

export interface HedgeOptions {
  /** How long to wait for an attempt before sending the next one, in ms. */
  readonly delay: number;
  /** The most attempts per call, the first included. Default 2. */
  readonly attempts?: number;
  /**
   * A budget for the extra attempts (see `retryBudget`), so hedging cannot double the load on a slow
   * backend; `false` for none. Default: one budget with default settings per service this layer wraps.
   * When it is empty the call simply waits for the attempts it has.
   */
  readonly budget?: RetryBudget | false;
}

/**
 * Hedged calls, for idempotent work with a long latency tail: if an attempt has not finished after `delay`
 * ms, send another, and take the first success. The attempts that lose are cancelled (their signal aborts
 * with an `AbortedError`). Each attempt runs on a copy of the input with forked extensions and its own
 * child signal, so attempts never see each other's breadcrumbs.
 *
 * A failure does not start a new attempt (that is `retry`'s job): the call fails, with the first error, once
 * every attempt it started has failed and none is due. If the caller's signal aborts, the call rejects with
 * its reason at once, and the pending delay and all attempts are cancelled.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { hedge } from "@tessera/layers/hedge";
 *
 * const client = stack(hedge({ delay: 50 })).into(replicaClient); // p99 of 2 s becomes ~50 ms + p50
 * ```
 */
export function hedge(options: HedgeOptions): GenericLayer<Same<Extensible>> {
  const delay = checkNumber("hedge delay", options.delay, 0);
  const attempts = checkInteger("hedge attempts", options.attempts ?? 2, 1);
  return sameLayer(<I extends Extensible, O>(inner: Service<I, O>): Service<I, O> => {
    const budget = options.budget === false ? undefined : (options.budget ?? retryBudget());
    return new HedgeService(inner, delay, attempts, budget);
  });
}

class HedgeService<I extends Extensible, O> implements Service<I, O> {
  readonly #inner: Service<I, O>;
  readonly #delay: number;
  readonly #attempts: number;
  readonly #budget: RetryBudget | undefined;

  constructor(inner: Service<I, O>, delay: number, attempts: number, budget: RetryBudget | undefined) {
    this.#inner = inner;
    this.#delay = delay;
    this.#attempts = attempts;
    this.#budget = budget;
  }

  serve(input: I): Promise<O> {
    const parent = signalOf(input);
    if (parent.aborted) return Promise.reject(abortReason(parent));
    this.#budget?.deposit();
    return new Promise<O>((resolve, reject) => {
      const cancellations: Cancellation[] = [];
      let settled = false;
      let failed = 0;
      let firstError: unknown;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const watch = parent !== neverAborts();

      // Settle once: stop the delay, stop watching the caller, abort the attempts other than `winner` with
      // `reason` (none when every attempt has failed: they are over), and detach every attempt's signal from
      // the caller's so no listener is left behind. On a caller abort this listener runs before the attempts'
      // own, which dispose() then removes, so the attempts are aborted here with the caller's reason.
      const finish = (reason: unknown, winner?: Cancellation): void => {
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        if (watch) parent.removeEventListener("abort", onAbort);
        for (const c of cancellations) {
          if (reason !== undefined && c !== winner) c.cancel(reason);
          c.dispose();
        }
      };
      const onAbort = (): void => {
        if (settled) return;
        finish(parent.reason ?? new AbortedError());
        reject(abortReason(parent));
      };
      const start = (): void => {
        const cancellation = childCancellation(parent);
        cancellations.push(cancellation);
        const copy = input.withExtensions(appendSignal(input.extensions.fork(), cancellation.signal));
        let result: Promise<O>;
        try {
          result = this.#inner.serve(copy);
        } catch (error) {
          result = Promise.reject(error);
        }
        result.then(
          (output) => {
            if (settled) return;
            finish(new AbortedError("another hedged attempt finished first"), cancellation);
            resolve(output);
          },
          (error: unknown) => {
            if (settled) return;
            if (failed++ === 0) firstError = error;
            if (failed === cancellations.length) {
              finish(undefined);
              reject(firstError);
            }
          },
        );
        if (cancellations.length < this.#attempts) timer = setTimeout(onDelay, this.#delay);
      };
      const onDelay = (): void => {
        timer = undefined;
        if (settled) return;
        if (this.#budget !== undefined && !this.#budget.withdraw()) return;
        start();
      };

      if (watch) parent.addEventListener("abort", onAbort, { once: true });
      start();
    });
  }
}
