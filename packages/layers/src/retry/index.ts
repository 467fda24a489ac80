import {
  AbortedError,
  type Extensible,
  forkInput,
  type GenericLayer,
  isTesseraError,
  type Same,
  type Service,
  sameLayer,
  signalOf,
} from "@tessera/core";
import { RetryBudgetExhaustedError } from "../errors/index.js";
import { sleep } from "../internal/sleep.js";
import { checkInteger, checkNumber } from "../internal/validate.js";
import { fullJitterBackoff } from "./backoff.js";
import { type RetryBudget, retryBudget } from "./budget.js";

export { RetryBudgetExhaustedError } from "../errors/index.js";
export { fullJitterBackoff } from "./backoff.js";
export { type RetryBudget, type RetryBudgetOptions, retryBudget } from "./budget.js";

/** What `onRetry` is told before each retry. */
export interface RetryEvent<O> {
  /** The attempt that just failed (1 for the first). */
  readonly attempt: number;
  /** How long the layer waits before the next attempt, in milliseconds. */
  readonly delay: number;
  /** The failed attempt's error, or undefined when an output was judged retryable. */
  readonly error: unknown;
  /** The retryable output, when `isRetryableOutput` asked for the retry. */
  readonly output: O | undefined;
}

export interface RetryPolicy<O = unknown> {
  /** The most attempts per call, the first included. Default 3. */
  readonly attempts?: number;
  /** The backoff ceiling of the first retry, in ms; it doubles per retry (with full jitter). Default 100. */
  readonly baseDelay?: number;
  /** The largest backoff ceiling, in ms. Default 10_000. */
  readonly maxDelay?: number;
  /**
   * The budget shared by all calls (see {@link retryBudget}); `false` for none. Default: one budget with
   * default settings per service this layer wraps.
   */
  readonly budget?: RetryBudget | false;
  /**
   * Whether a failed attempt may be retried. Default: every error except `AbortedError` (`ERR_ABORTED`,
   * the caller gave up). An attempt that fails after the caller's signal aborted is never retried.
   */
  readonly isRetryable?: (error: unknown, attempt: number) => boolean;
  /** Whether a successful output should be retried (e.g. an HTTP 503). Default: never. */
  readonly isRetryableOutput?: (output: O, attempt: number) => boolean;
  /** Random numbers in [0, 1) for the jitter. Default `Math.random`; inject one for deterministic tests. */
  readonly random?: () => number;
  /** Called before each retry's backoff (for logs and metrics). */
  readonly onRetry?: (event: RetryEvent<O>) => void;
}

const notAborted = (error: unknown): boolean => !isTesseraError(error, AbortedError.code);

/**
 * Retry failed calls with exponential backoff and full jitter, within a retry budget shared by all calls.
 *
 * - Every attempt, the first included, runs on a copy of the input with forked extensions
 *   (`forkInput`), so what a failed attempt appended is gone and the next attempt starts clean.
 * - The backoff wait stops as soon as the input's signal aborts, rejecting with the signal's reason.
 * - When attempts run out, the last error (or output) is passed on. When the budget is empty, a retryable
 *   error becomes a {@link RetryBudgetExhaustedError} whose `cause` is that error; a retryable output is
 *   returned as it is.
 * - Only retry idempotent work: an attempt that failed may have had effects.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { retry } from "@tessera/layers/retry";
 *
 * const client = stack(
 *   retry({ attempts: 4, baseDelay: 50, isRetryableOutput: (res: Response) => res.status === 503 }),
 * ).into(httpClient);
 * ```
 */
export function retry<O = unknown>(policy: RetryPolicy<O> = {}): GenericLayer<Same<Extensible, O>> {
  const attempts = checkInteger("retry attempts", policy.attempts ?? 3, 1);
  const baseDelay = checkNumber("retry baseDelay", policy.baseDelay ?? 100, 0);
  const maxDelay = checkNumber("retry maxDelay", policy.maxDelay ?? 10_000, 0);
  const config: RetryConfig<O> = {
    attempts,
    baseDelay,
    maxDelay,
    isRetryable: policy.isRetryable ?? notAborted,
    isRetryableOutput: policy.isRetryableOutput,
    random: policy.random ?? Math.random,
    onRetry: policy.onRetry,
  };
  return sameLayer(<I extends Extensible, OO extends O>(inner: Service<I, OO>): Service<I, OO> => {
    const budget = policy.budget === false ? undefined : (policy.budget ?? retryBudget());
    return new RetryService(inner, config as unknown as RetryConfig<OO>, budget);
  });
}

interface RetryConfig<O> {
  readonly attempts: number;
  readonly baseDelay: number;
  readonly maxDelay: number;
  readonly isRetryable: (error: unknown, attempt: number) => boolean;
  readonly isRetryableOutput: ((output: O, attempt: number) => boolean) | undefined;
  readonly random: () => number;
  readonly onRetry: ((event: RetryEvent<O>) => void) | undefined;
}

class RetryService<I extends Extensible, O> implements Service<I, O> {
  readonly #inner: Service<I, O>;
  readonly #config: RetryConfig<O>;
  readonly #budget: RetryBudget | undefined;

  constructor(inner: Service<I, O>, config: RetryConfig<O>, budget: RetryBudget | undefined) {
    this.#inner = inner;
    this.#config = config;
    this.#budget = budget;
  }

  async serve(input: I): Promise<O> {
    const config = this.#config;
    const budget = this.#budget;
    budget?.deposit();
    const signal = signalOf(input);
    for (let attempt = 1; ; attempt++) {
      let output: O;
      try {
        output = await this.#inner.serve(forkInput(input));
      } catch (error) {
        if (attempt >= config.attempts || signal.aborted || !config.isRetryable(error, attempt)) throw error;
        if (budget !== undefined && !budget.withdraw()) {
          throw new RetryBudgetExhaustedError(attempt, { cause: error });
        }
        await this.#backoff(attempt, signal, error, undefined);
        continue;
      }
      const retryOutput = config.isRetryableOutput;
      if (retryOutput === undefined || attempt >= config.attempts || signal.aborted) return output;
      if (!retryOutput(output, attempt)) return output;
      if (budget !== undefined && !budget.withdraw()) return output;
      await this.#backoff(attempt, signal, undefined, output);
    }
  }

  #backoff(attempt: number, signal: AbortSignal, error: unknown, output: O | undefined): Promise<void> {
    const config = this.#config;
    const delay = fullJitterBackoff(attempt, config.baseDelay, config.maxDelay, config.random);
    config.onRetry?.({ attempt, delay, error, output });
    return sleep(delay, signal);
  }
}
