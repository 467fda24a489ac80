/**
 * Counts events of one kind (resets, empty frames) in fixed time windows: `hit()` is false once more than
 * `limit` happened in the current window. Fixed windows cost one comparison per event and no timers; an
 * attacker gets at most twice the limit across a window edge, which is still bounded.
 *
 * @example
 * ```ts
 * const resets = new FloodGuard(200, 1000);
 * if (!resets.hit()) throw new Http2EnhanceYourCalmError("rapid reset");
 * ```
 */
export class FloodGuard {
  readonly #limit: number;
  readonly #window: number;
  #start = 0;
  #count = 0;

  constructor(limit: number, windowMs: number) {
    this.#limit = limit;
    this.#window = windowMs;
  }

  /** Counts one event; false when the limit of the current window is exceeded. */
  hit(now: number = Date.now()): boolean {
    if (now - this.#start >= this.#window) {
      this.#start = now;
      this.#count = 0;
    }
    this.#count++;
    return this.#count <= this.#limit;
  }
}
