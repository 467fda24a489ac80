import {
  abortReason,
  type GenericLayer,
  type HasExtensions,
  neverAborts,
  type Same,
  type Service,
  sameLayer,
  signalOf,
} from "@tessera/core";
import { Capacity } from "../capacity.js";
import { OverloadedError } from "../errors/index.js";
import { checkInteger } from "../internal/validate.js";

export { OverloadedError } from "../errors/index.js";

export interface ConcurrencyLimitOptions {
  /**
   * How many callers may wait for a permit; the next one is rejected at once with an
   * {@link OverloadedError}. `0` never queues, `Infinity` never rejects (unbounded memory: avoid on
   * servers). Default 1024.
   */
  readonly queue?: number;
}

/**
 * Let at most `max` calls run at once. Further callers wait in a FIFO queue of bounded length and start as
 * permits come back; when the queue is full they are rejected at once with an {@link OverloadedError}
 * (`ERR_OVERLOADED`). A waiting caller whose input's signal aborts leaves the queue and is rejected with
 * the signal's reason.
 *
 * Each service this layer wraps gets its own permits. A call that finds a free permit costs no allocation
 * beyond the inner call's promise and one `then`. The service reports its capacity to `loadShed()`.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { concurrencyLimit } from "@tessera/layers/concurrency-limit";
 *
 * const svc = stack(concurrencyLimit(64, { queue: 256 })).into(handler);
 * ```
 */
export function concurrencyLimit(
  max: number,
  options: ConcurrencyLimitOptions = {},
): GenericLayer<Same<HasExtensions>> {
  checkInteger("concurrencyLimit(max)", max, 1);
  const queue = checkInteger("concurrencyLimit queue", options.queue ?? 1024, 0, true);
  return sameLayer(
    <I extends HasExtensions, O>(inner: Service<I, O>) => new ConcurrencyLimitService(inner, max, queue),
  );
}

interface Waiter<I, O> {
  readonly input: I;
  readonly resolve: (output: Promise<O>) => void;
  readonly signal: AbortSignal;
  onAbort: (() => void) | undefined;
  prev: Waiter<I, O> | undefined;
  next: Waiter<I, O> | undefined;
}

class ConcurrencyLimitService<I extends HasExtensions, O> implements Service<I, O> {
  readonly #inner: Service<I, O>;
  readonly #max: number;
  readonly #queueMax: number;
  #inFlight = 0;
  #queued = 0;
  // A doubly linked FIFO, so that a cancelled waiter leaves in O(1).
  #head: Waiter<I, O> | undefined;
  #tail: Waiter<I, O> | undefined;
  // One function per service, shared by every call: a call with a free permit allocates no closure.
  readonly #release = (): void => {
    const waiter = this.#head;
    if (waiter === undefined) {
      this.#inFlight--;
      return;
    }
    // Hand the permit straight to the oldest waiter: in-flight count unchanged.
    this.#unlink(waiter);
    if (waiter.onAbort !== undefined) waiter.signal.removeEventListener("abort", waiter.onAbort);
    waiter.resolve(this.#run(waiter.input));
  };

  constructor(inner: Service<I, O>, max: number, queueMax: number) {
    this.#inner = inner;
    this.#max = max;
    this.#queueMax = queueMax;
  }

  serve(input: I): Promise<O> {
    if (this.#inFlight < this.#max) {
      this.#inFlight++;
      return this.#run(input);
    }
    if (this.#queued >= this.#queueMax) {
      return Promise.reject(new OverloadedError(`concurrency limit of ${this.#max} reached and queue full`));
    }
    const signal = signalOf(input);
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise<O>((resolve, reject) => {
      const waiter: Waiter<I, O> = {
        input,
        resolve,
        signal,
        onAbort: undefined,
        prev: this.#tail,
        next: undefined,
      };
      if (signal !== neverAborts()) {
        waiter.onAbort = () => {
          this.#unlink(waiter);
          reject(abortReason(signal));
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      if (this.#tail === undefined) this.#head = waiter;
      else this.#tail.next = waiter;
      this.#tail = waiter;
      this.#queued++;
    });
  }

  /** True when a call now would start at once. */
  [Capacity](_input: I): boolean {
    return this.#inFlight < this.#max;
  }

  /** Calls running now (for metrics and tests). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Callers waiting for a permit now (for metrics and tests). */
  get queued(): number {
    return this.#queued;
  }

  #run(input: I): Promise<O> {
    let result: Promise<O>;
    try {
      result = this.#inner.serve(input);
    } catch (error) {
      this.#release();
      return Promise.reject(error);
    }
    result.then(this.#release, this.#release);
    return result;
  }

  #unlink(waiter: Waiter<I, O>): void {
    if (waiter.prev === undefined) this.#head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.#tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = waiter.next = undefined;
    this.#queued--;
  }
}
