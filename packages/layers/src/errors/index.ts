import { TesseraError, type TesseraErrorOptions, TimeoutError } from "@tessera/core";

/**
 * Errors of `@tessera/layers`, one class per stable `code`. `instanceof` works across copies of the package
 * (see core's `TesseraError`); match on `error.code` where a plain string is handier.
 *
 * `timeout()` rejects with core's {@link TimeoutError} (`ERR_TIMEOUT`), re-exported here.
 */
export { TimeoutError };

/**
 * The service has no room for this call: the concurrency limit's queue is full, or `loadShed()` refused a call
 * that would have had to wait. Safe to retry elsewhere or later; a server maps it to 503.
 */
export class OverloadedError extends TesseraError {
  static override readonly code = "ERR_OVERLOADED";
  constructor(message = "the service is overloaded", options?: TesseraErrorOptions) {
    super(OverloadedError.code, message, options);
  }
}

/** A rate limit refused the call. `retryAfterMs` says when the next token comes; a server maps it to 429. */
export class RateLimitedError extends TesseraError {
  static override readonly code = "ERR_RATE_LIMITED";
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message = "rate limit exceeded", options?: TesseraErrorOptions) {
    super(RateLimitedError.code, message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/** The circuit breaker is open (or half-open with its trial calls taken); `retryAfterMs` until it half-opens. */
export class CircuitOpenError extends TesseraError {
  static override readonly code = "ERR_CIRCUIT_OPEN";
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message = "the circuit breaker is open", options?: TesseraErrorOptions) {
    super(CircuitOpenError.code, message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A retryable failure was not retried because the shared retry budget is empty (retries are already a large
 * share of the traffic). `cause` is the last attempt's error; `attempts` how many attempts were made.
 */
export class RetryBudgetExhaustedError extends TesseraError {
  static override readonly code = "ERR_RETRY_BUDGET_EXHAUSTED";
  readonly attempts: number;
  constructor(attempts: number, options?: TesseraErrorOptions) {
    super(
      RetryBudgetExhaustedError.code,
      `retry budget exhausted after ${attempts} attempt${attempts === 1 ? "" : "s"}`,
      options,
    );
    this.attempts = attempts;
  }
}
