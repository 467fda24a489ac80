import {
  AbortedError,
  type GenericLayer,
  isTesseraError,
  type Same,
  type Service,
  sameLayer,
} from "@tessera/core";
import { CircuitOpenError } from "../errors/index.js";
import { checkInteger, checkNumber } from "../internal/validate.js";

export { CircuitOpenError } from "../errors/index.js";

/** `closed`: calls pass; `open`: calls fail fast; `half-open`: a few trial calls decide which comes next. */
export type CircuitState = "closed" | "open" | "half-open";

export interface FailureRatio {
  /** Open when at least this share of the calls in the window failed (0 < ratio <= 1). */
  readonly ratio: number;
  /** How many of the most recent calls to look at. */
  readonly window: number;
  /** The fewest calls in the window before the ratio counts. Default `window`. */
  readonly minCalls?: number;
}

export interface CircuitBreakerOptions<O = unknown> {
  /** Open after this many failures in a row. Default 5; `Infinity` to use only `failureRatio`. */
  readonly consecutiveFailures?: number;
  /** Also open when the share of failures among the recent calls reaches a ratio. Default: off. */
  readonly failureRatio?: FailureRatio;
  /** How long the circuit stays open before it lets trial calls through, in ms. Default 10_000. */
  readonly openFor?: number;
  /**
   * How many trial calls half-open lets through at once; that many successes close the circuit, one
   * failure opens it again. Other calls meanwhile get a {@link CircuitOpenError}. Default 1.
   */
  readonly halfOpenCalls?: number;
  /**
   * Whether an error counts as a failure. Default: every error except `AbortedError` (`ERR_ABORTED`), since
   * a caller giving up says nothing about the service. Errors that do not count are ignored, not successes.
   */
  readonly isFailure?: (error: unknown) => boolean;
  /** Whether an output counts as a failure (e.g. an HTTP 5xx). Default: never. */
  readonly isFailureOutput?: (output: O) => boolean;
  /** Told of every state change. */
  readonly onStateChange?: (state: CircuitState, previous: CircuitState) => void;
  /** The clock, in milliseconds. Default `performance.now`. */
  readonly now?: () => number;
}

const countsAsFailure = (error: unknown): boolean => !isTesseraError(error, AbortedError.code);

/**
 * Stop calling a service that keeps failing. Closed, the breaker counts failures; after
 * `consecutiveFailures` in a row (or a `failureRatio` of the recent calls) it opens and every call fails at
 * once with a {@link CircuitOpenError} (`ERR_CIRCUIT_OPEN`, with `retryAfterMs`). After `openFor` ms it is
 * half-open: `halfOpenCalls` trial calls go through; if they succeed it closes, if one fails it opens again.
 *
 * Each service this layer wraps has its own breaker. Calls that started before a state change do not count
 * after it. A call in the closed state allocates nothing beyond one `then` on the inner promise.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { circuitBreaker } from "@tessera/layers/circuit-breaker";
 *
 * const client = stack(
 *   circuitBreaker({ consecutiveFailures: 5, openFor: 30_000, failureRatio: { ratio: 0.5, window: 100 } }),
 * ).into(backend);
 * ```
 */
export function circuitBreaker<O = unknown>(
  options: CircuitBreakerOptions<O> = {},
): GenericLayer<Same<unknown, O>> {
  const ratio = options.failureRatio;
  const config: BreakerConfig<O> = {
    consecutive: checkInteger(
      "circuitBreaker consecutiveFailures",
      options.consecutiveFailures ?? 5,
      1,
      true,
    ),
    ratio:
      ratio === undefined
        ? 2
        : checkNumber("circuitBreaker failureRatio.ratio", ratio.ratio, Number.MIN_VALUE),
    window: ratio === undefined ? 0 : checkInteger("circuitBreaker failureRatio.window", ratio.window, 1),
    minCalls:
      ratio === undefined ? 0 : checkInteger("circuitBreaker minCalls", ratio.minCalls ?? ratio.window, 1),
    openFor: checkNumber("circuitBreaker openFor", options.openFor ?? 10_000, 0),
    halfOpenCalls: checkInteger("circuitBreaker halfOpenCalls", options.halfOpenCalls ?? 1, 1),
    isFailure: options.isFailure ?? countsAsFailure,
    isFailureOutput: options.isFailureOutput,
    onStateChange: options.onStateChange,
    now: options.now ?? (() => performance.now()),
  };
  if (ratio !== undefined && ratio.ratio > 1)
    throw new RangeError("circuitBreaker failureRatio.ratio must be <= 1");
  return sameLayer(
    <I, OO extends O>(inner: Service<I, OO>) =>
      new CircuitBreakerService<I, OO>(inner, config as unknown as BreakerConfig<OO>),
  );
}

interface BreakerConfig<O> {
  readonly consecutive: number;
  readonly ratio: number;
  /** 0 when no failureRatio was given: the ratio rule is off. */
  readonly window: number;
  readonly minCalls: number;
  readonly openFor: number;
  readonly halfOpenCalls: number;
  readonly isFailure: (error: unknown) => boolean;
  readonly isFailureOutput: ((output: O) => boolean) | undefined;
  readonly onStateChange: ((state: CircuitState, previous: CircuitState) => void) | undefined;
  readonly now: () => number;
}

/** A call's verdict: a failure, a success, or (undefined) neither, e.g. the caller gave up. */
type Verdict = boolean | undefined;

class CircuitBreakerService<I, O> implements Service<I, O> {
  readonly #inner: Service<I, O>;
  readonly #config: BreakerConfig<O>;
  #state: CircuitState = "closed";
  /** Bumped on every state change: results of calls started under an older generation are ignored. */
  #generation = 0;
  #consecutive = 0;
  readonly #ring: Uint8Array;
  #ringNext = 0;
  #ringCalls = 0;
  #ringFailures = 0;
  #openUntil = 0;
  #trials = 0;
  #trialSuccesses = 0;
  // The result handlers of closed-state calls, made once per generation so a call allocates no closure.
  #onOutput!: (output: O) => void;
  #onError!: (error: unknown) => void;

  constructor(inner: Service<I, O>, config: BreakerConfig<O>) {
    this.#inner = inner;
    this.#config = config;
    this.#ring = new Uint8Array(config.window);
    this.#makeHandlers();
  }

  /** The current state (for metrics and tests); reading it moves `open` to `half-open` when it is due. */
  get state(): CircuitState {
    if (this.#state === "open" && this.#config.now() >= this.#openUntil) this.#transition("half-open");
    return this.#state;
  }

  serve(input: I): Promise<O> {
    if (this.#state !== "closed") {
      if (this.#state === "open") {
        const wait = this.#openUntil - this.#config.now();
        if (wait > 0) return Promise.reject(new CircuitOpenError(Math.ceil(wait)));
        this.#transition("half-open");
      }
      if (this.#trials >= this.#config.halfOpenCalls) {
        return Promise.reject(
          new CircuitOpenError(0, "the circuit breaker is half-open and its trial calls are taken"),
        );
      }
      return this.#trial(input);
    }
    const result = this.#call(input);
    result.then(this.#onOutput, this.#onError);
    return result;
  }

  #call(input: I): Promise<O> {
    try {
      return this.#inner.serve(input);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #trial(input: I): Promise<O> {
    this.#trials++;
    const generation = this.#generation;
    const result = this.#call(input);
    result.then(
      (output) => this.#trialResult(generation, this.#outputVerdict(output)),
      (error: unknown) => this.#trialResult(generation, this.#config.isFailure(error) ? true : undefined),
    );
    return result;
  }

  #outputVerdict(output: O): boolean {
    const isFailureOutput = this.#config.isFailureOutput;
    return isFailureOutput?.(output) === true;
  }

  #makeHandlers(): void {
    const generation = this.#generation;
    this.#onOutput = (output) => this.#closedResult(generation, this.#outputVerdict(output));
    this.#onError = (error) =>
      this.#closedResult(generation, this.#config.isFailure(error) ? true : undefined);
  }

  #closedResult(generation: number, failed: Verdict): void {
    if (generation !== this.#generation || failed === undefined) return;
    const config = this.#config;
    this.#consecutive = failed ? this.#consecutive + 1 : 0;
    if (config.window > 0) {
      const ring = this.#ring;
      const slot = this.#ringNext;
      if (this.#ringCalls === config.window) this.#ringFailures -= ring[slot]!;
      else this.#ringCalls++;
      ring[slot] = failed ? 1 : 0;
      if (failed) this.#ringFailures++;
      this.#ringNext = slot + 1 === config.window ? 0 : slot + 1;
    }
    if (!failed) return;
    if (
      this.#consecutive >= config.consecutive ||
      (config.window > 0 &&
        this.#ringCalls >= config.minCalls &&
        this.#ringFailures >= config.ratio * this.#ringCalls)
    ) {
      this.#transition("open");
    }
  }

  #trialResult(generation: number, failed: Verdict): void {
    if (generation !== this.#generation) return;
    this.#trials--;
    if (failed === undefined) return; // the trial slot is free again
    if (failed) this.#transition("open");
    else if (++this.#trialSuccesses >= this.#config.halfOpenCalls) this.#transition("closed");
  }

  #transition(state: CircuitState): void {
    const previous = this.#state;
    this.#state = state;
    this.#generation++;
    this.#trials = 0;
    this.#trialSuccesses = 0;
    if (state === "open") this.#openUntil = this.#config.now() + this.#config.openFor;
    if (state === "closed") {
      this.#consecutive = 0;
      this.#ring.fill(0);
      this.#ringNext = this.#ringCalls = this.#ringFailures = 0;
      this.#makeHandlers();
    }
    this.#config.onStateChange?.(state, previous);
  }
}
