import { checkNumber } from "../internal/validate.js";

/**
 * A retry budget: a token bucket shared by every call that uses it, so that retries stay a bounded share of
 * the traffic. Each call deposits `ratio` of a token, each retry (or hedge) withdraws a whole one, and the
 * bucket also refills at `minPerSecond` so that a client with little traffic can still retry. During an
 * outage the bucket runs dry and retries fall to `ratio` of the calls plus `minPerSecond`: they cannot
 * multiply the load on a struggling backend.
 */
export interface RetryBudget {
  /** Record one call (a first attempt). */
  deposit(): void;
  /** Take a token for one retry; false when the budget is empty (then do not retry). */
  withdraw(): boolean;
  /** The tokens available now (for metrics and tests). */
  readonly balance: number;
}

export interface RetryBudgetOptions {
  /** Tokens each call deposits; the steady-state share of retries. Default 0.2 (retries <= 20% of calls). */
  readonly ratio?: number;
  /** Tokens added per second whatever the traffic. Default 10. */
  readonly minPerSecond?: number;
  /** The most tokens the bucket holds; it starts full. Default 100. */
  readonly capacity?: number;
  /** The clock, in milliseconds. Default `performance.now`. */
  readonly now?: () => number;
}

/**
 * Make a {@link RetryBudget}. Pass the same budget to several `retry()` or `hedge()` layers to give them one
 * shared allowance.
 *
 * @example
 * ```ts
 * const budget = retryBudget({ ratio: 0.1, minPerSecond: 5 });
 * const client = stack(retry({ budget }), timeout(1_000)).into(connector);
 * ```
 */
export function retryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  return new TokenBudget(
    checkNumber("retryBudget ratio", options.ratio ?? 0.2, 0),
    checkNumber("retryBudget minPerSecond", options.minPerSecond ?? 10, 0),
    checkNumber("retryBudget capacity", options.capacity ?? 100, 1),
    options.now ?? (() => performance.now()),
  );
}

class TokenBudget implements RetryBudget {
  #tokens: number;
  #last: number;
  readonly #ratio: number;
  readonly #perMs: number;
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(ratio: number, minPerSecond: number, capacity: number, now: () => number) {
    this.#ratio = ratio;
    this.#perMs = minPerSecond / 1000;
    this.#capacity = capacity;
    this.#now = now;
    this.#tokens = capacity;
    this.#last = now();
  }

  deposit(): void {
    // On the path of every call: arithmetic only, no clock read.
    const tokens = this.#tokens + this.#ratio;
    this.#tokens = Math.min(tokens, this.#capacity);
  }

  withdraw(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  get balance(): number {
    this.#refill();
    return this.#tokens;
  }

  #refill(): void {
    const now = this.#now();
    const tokens = this.#tokens + (now - this.#last) * this.#perMs;
    this.#last = now;
    this.#tokens = Math.min(tokens, this.#capacity);
  }
}
