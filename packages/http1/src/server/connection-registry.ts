import type { Shutdown } from "@tessera/core";

/** What the registry needs from a connection. */
export interface Tracked {
  /** Epoch ms at which the connection's current timer (header or idle) fires; 0 when none runs. */
  deadline: number;
  /** The listener's Draining signal of this connection, if any. */
  readonly drainSignal: AbortSignal | undefined;
  onDeadline(): void;
  /** The server is shutting down: finish what is in flight and close. */
  drain(): void;
}

/**
 * The live connections of one server, for timeouts and graceful shutdown. Rather than a timer per connection
 * (an object per connection, and a clearTimeout/setTimeout pair per request), each connection keeps a deadline
 * number and one unref'd interval per server sweeps them: a timer fires between its deadline and one tick
 * later. The tick is a quarter of the shortest timeout, clamped to 10 ms..1 s.
 *
 * Draining works the same way: one listener per distinct Draining signal (all connections of a listener share
 * one) and one on the shared Shutdown, instead of a listener per connection.
 */
export class ConnectionRegistry {
  readonly #connections = new Set<Tracked>();
  readonly #tick: number;
  #interval: ReturnType<typeof setInterval> | undefined;
  readonly #watched = new WeakSet<AbortSignal>();
  #draining = false;

  constructor(shortestTimeout: number, shutdown: Shutdown | undefined) {
    this.#tick = Number.isFinite(shortestTimeout)
      ? Math.min(1000, Math.max(10, Math.floor(shortestTimeout / 4)))
      : 1000;
    if (shutdown !== undefined) {
      if (shutdown.closing) this.#draining = true;
      else shutdown.signal.addEventListener("abort", this.#onShutdown, { once: true });
    }
  }

  /** True once the shared Shutdown began closing. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Start tracking; returns true if the connection must drain at once (shutdown already under way). */
  add(connection: Tracked): boolean {
    this.#connections.add(connection);
    if (this.#interval === undefined) {
      this.#interval = setInterval(this.#sweep, this.#tick);
      this.#interval.unref?.();
    }
    const signal = connection.drainSignal;
    if (signal !== undefined && !this.#watched.has(signal)) {
      this.#watched.add(signal);
      signal.addEventListener("abort", () => this.#drainSignal(signal), { once: true });
    }
    return this.#draining || signal?.aborted === true;
  }

  delete(connection: Tracked): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0 && this.#interval !== undefined) {
      clearInterval(this.#interval);
      this.#interval = undefined;
    }
  }

  readonly #sweep = (): void => {
    const now = Date.now();
    for (const connection of this.#connections) {
      const deadline = connection.deadline;
      if (deadline !== 0 && deadline <= now) {
        connection.deadline = 0;
        connection.onDeadline();
      }
    }
  };

  readonly #onShutdown = (): void => {
    this.#draining = true;
    for (const connection of [...this.#connections]) connection.drain();
  };

  #drainSignal(signal: AbortSignal): void {
    for (const connection of [...this.#connections])
      if (connection.drainSignal === signal) connection.drain();
  }
}
