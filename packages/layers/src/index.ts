/**
 * `@tessera/layers`: transport-agnostic layers for any `Service<In, Out>` whose input carries extensions.
 * Each layer is also importable on its own, e.g. `@tessera/layers/timeout`.
 */

export { addExtension } from "./add-extension/index.js";
export { Capacity, type CapacityReporting, capacityProbe, forwardCapacity } from "./capacity.js";
export { type CatchErrorKind, catchError } from "./catch-error/index.js";
export {
  type CircuitBreakerOptions,
  type CircuitState,
  circuitBreaker,
  type FailureRatio,
} from "./circuit-breaker/index.js";
export { type ConcurrencyLimitOptions, concurrencyLimit } from "./concurrency-limit/index.js";
export { type ConsumeErrorsOptions, consumeErrors } from "./consume-errors/index.js";
export {
  CircuitOpenError,
  OverloadedError,
  RateLimitedError,
  RetryBudgetExhaustedError,
  TimeoutError,
} from "./errors/index.js";
export { type HedgeOptions, hedge } from "./hedge/index.js";
export { hijack } from "./hijack/index.js";
export { type InspectHooks, inspect } from "./inspect/index.js";
export { loadShed } from "./load-shed/index.js";
export { LoggerKey, LogId, type LogOptions, log, loggerOf } from "./log/index.js";
export {
  type AndThenKind,
  andThen,
  type MapInputKind,
  type MapOutputKind,
  mapError,
  mapInput,
  mapOutput,
} from "./map/index.js";
export { and, hasExtension, type Matcher, type MatcherInput, not, or } from "./matcher/index.js";
export { type RateLimitOptions, rateLimit } from "./rate-limit/index.js";
export {
  fullJitterBackoff,
  type RetryBudget,
  type RetryBudgetOptions,
  type RetryEvent,
  type RetryPolicy,
  retry,
  retryBudget,
} from "./retry/index.js";
export {
  either,
  type Route,
  type RouteKind,
  type RoutesInput,
  type RoutesOutput,
  route,
} from "./route/index.js";
export { timeout } from "./timeout/index.js";
