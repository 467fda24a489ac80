/**
 * Exponential backoff with full jitter: a uniformly random delay in `[0, min(max, base * 2^(retry - 1)))`,
 * where `retry` counts from 1 (the delay before the second attempt). Full jitter spreads the retries of many
 * clients that failed together, so they do not come back in waves.
 *
 * @example
 * ```ts
 * fullJitterBackoff(3, 100, 10_000, Math.random); // somewhere in [0, 400) ms
 * ```
 */
export function fullJitterBackoff(retry: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}
