import {
  abortReason,
  type GenericLayer,
  type HasExtensions,
  type Same,
  type Service,
  sameLayer,
  signalOf,
} from "@tessera/core";
import { Capacity } from "../capacity.js";
import { RateLimitedError } from "../errors/index.js";
import { sleep } from "../internal/sleep.js";
import { checkInteger, checkNumber } from "../internal/validate.js";

export { RateLimitedError } from "../errors/index.js";

export interface RateLimitOptions<I> {
  /** Tokens added per second: the sustained calls per second allowed (per key, when keyed). */
  readonly rate: number;
  /** The bucket size: how many calls may come at once after a quiet spell. Default `max(1, rate)`. */
  readonly burst?: number;
  /**
   * Give each key its own bucket, e.g. the peer IP from the input's extensions. Keys are compared like
   * `Map` keys (use strings or numbers). Without it, all calls share one bucket.
   */
  readonly key?: (input: I) => unknown;
  /**
   * The most keys remembered; when a new key comes, a key not used recently is forgotten (approximately the
   * least recently used; it starts again with a full bucket if it returns). Bounds memory when keys come
   * from peers. Default 10_000.
   */
  readonly maxKeys?: number;
  /**
   * How long a call may wait for its token, in ms. Default 0: a call that finds the bucket empty is rejected
   * at once with a {@link RateLimitedError} (a server answers 429). With a wait, the call reserves the next
   * token and sleeps until it comes (a client pacing itself); a call that would wait longer is rejected,
   * which bounds the queue. A waiting call whose signal aborts gives its token back.
   */
  readonly wait?: number;
  /** The clock, in milliseconds. Default `performance.now`. */
  readonly now?: () => number;
}

/**
 * Token-bucket rate limit: `burst` calls at once, then `rate` per second, optionally per key.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { rateLimit } from "@tessera/layers/rate-limit";
 *
 * // 10 calls per second per peer, bursts of 20; the rest get ERR_RATE_LIMITED.
 * const svc = stack(
 *   rateLimit({ rate: 10, burst: 20, key: (conn: Conn) => conn.extensions.get(PeerAddr)?.ip }),
 * ).into(server);
 * ```
 */
export function rateLimit<I extends HasExtensions = HasExtensions>(
  options: RateLimitOptions<I>,
): GenericLayer<Same<I>> {
  const config: RateConfig<I> = {
    perMs: checkNumber("rateLimit rate", options.rate, Number.MIN_VALUE) / 1000,
    burst: checkNumber("rateLimit burst", options.burst ?? Math.max(1, options.rate), 1),
    key: options.key,
    maxKeys: checkInteger("rateLimit maxKeys", options.maxKeys ?? 10_000, 1),
    wait: checkNumber("rateLimit wait", options.wait ?? 0, 0),
    now: options.now ?? (() => performance.now()),
  };
  return sameLayer(
    <II extends I, O>(inner: Service<II, O>) =>
      new RateLimitService<II, O>(inner, config as unknown as RateConfig<II>),
  );
}

interface RateConfig<I> {
  readonly perMs: number;
  readonly burst: number;
  readonly key: ((input: I) => unknown) | undefined;
  readonly maxKeys: number;
  readonly wait: number;
  readonly now: () => number;
}

interface Bucket {
  tokens: number;
  last: number;
  /** Used since it was (re)inserted: spares it once from eviction (second-chance / CLOCK). */
  used: boolean;
}

class RateLimitService<I extends HasExtensions, O> implements Service<I, O> {
  readonly #inner: Service<I, O>;
  readonly #config: RateConfig<I>;
  readonly #shared: Bucket;
  // Keys in insertion order, evicted second-chance style (an approximate LRU): a hit only sets `used`, so the
  // hot path does no Map mutation; eviction walks from the oldest, re-queueing used keys once.
  readonly #keyed = new Map<unknown, Bucket>();

  constructor(inner: Service<I, O>, config: RateConfig<I>) {
    this.#inner = inner;
    this.#config = config;
    this.#shared = { tokens: config.burst, last: config.now(), used: false };
  }

  serve(input: I): Promise<O> {
    const config = this.#config;
    const bucket = config.key === undefined ? this.#shared : this.#bucket(config.key(input));
    const now = config.now();
    const tokens = this.#refill(bucket, now);
    if (tokens >= 1) {
      bucket.tokens = tokens - 1;
      return this.#inner.serve(input);
    }
    const waitMs = (1 - tokens) / config.perMs;
    if (waitMs > config.wait) return Promise.reject(new RateLimitedError(Math.ceil(waitMs)));
    const signal = signalOf(input);
    if (signal.aborted) return Promise.reject(abortReason(signal));
    // Reserve the next token now (the balance goes below zero), so later callers queue behind this one.
    bucket.tokens = tokens - 1;
    return sleep(waitMs, signal).then(
      () => this.#inner.serve(input),
      (error: unknown) => {
        bucket.tokens += 1; // give the reservation back
        throw error;
      },
    );
  }

  /** True when a call with this input now would get a token at once. */
  [Capacity](input: I): boolean {
    const config = this.#config;
    const bucket = config.key === undefined ? this.#shared : this.#keyed.get(config.key(input));
    return bucket === undefined || this.#refill(bucket, config.now()) >= 1;
  }

  /** How many keys are remembered now (for metrics and tests). */
  get keys(): number {
    return this.#keyed.size;
  }

  /** Add the tokens earned since the bucket was last looked at; returns the balance. */
  #refill(bucket: Bucket, now: number): number {
    const tokens = bucket.tokens + (now - bucket.last) * this.#config.perMs;
    bucket.last = now;
    bucket.tokens = Math.min(tokens, this.#config.burst);
    return bucket.tokens;
  }

  #bucket(key: unknown): Bucket {
    const keyed = this.#keyed;
    let bucket = keyed.get(key);
    if (bucket !== undefined) {
      bucket.used = true;
      return bucket;
    }
    if (keyed.size >= this.#config.maxKeys) this.#evict();
    bucket = { tokens: this.#config.burst, last: this.#config.now(), used: false };
    keyed.set(key, bucket);
    return bucket;
  }

  /** Forget the oldest key not used since it was queued; used ones go to the back once. Amortized O(1). */
  #evict(): void {
    const keyed = this.#keyed;
    for (const [key, bucket] of keyed) {
      keyed.delete(key);
      if (!bucket.used) return;
      bucket.used = false;
      keyed.set(key, bucket);
    }
  }
}
