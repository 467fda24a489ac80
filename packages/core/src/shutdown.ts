import { ShutdownError } from "./errors.js";
import { type GenericLayer, type Same, sameLayer } from "./layer.js";
import type { Service } from "./service.js";

export interface ShutdownResult {
  /** True when the grace period ran out and the remaining work was told to stop (`forced` aborted). */
  readonly forced: boolean;
  /** How much work was still in flight when the grace period ran out. */
  readonly abandoned: number;
}

export interface CloseOptions {
  /** Grace period in milliseconds for in-flight work; then `forced` aborts. Default: wait forever. */
  readonly timeout?: number;
}

/**
 * Graceful shutdown: listeners and servers watch `signal` to stop taking new work, count their in-flight
 * work with `enter()`/`track()`, and watch `forced` to drop what is left when the grace period ends.
 *
 * @example
 * ```ts
 * const shutdown = createShutdown();
 * const listener = await listen({ port: 0 }, server, { shutdown });
 * process.once("SIGTERM", () => shutdown.close({ timeout: 10_000 }));
 * ```
 */
export interface Shutdown {
  /** Aborts when `close()` is first called: stop accepting. */
  readonly signal: AbortSignal;
  /** Aborts when the grace period ends: destroy what is still open. */
  readonly forced: AbortSignal;
  readonly closing: boolean;
  readonly inFlight: number;
  /** Count one unit of work; call the returned function (idempotent) when it is done. */
  enter(): () => void;
  /** Count `work` until it settles; returns it. */
  track<T>(work: Promise<T>): Promise<T>;
  /** Start shutting down and wait for in-flight work (at most `timeout` ms). Idempotent. */
  close(options?: CloseOptions): Promise<ShutdownResult>;
}

export function createShutdown(): Shutdown {
  const stop = new AbortController();
  const force = new AbortController();
  let inFlight = 0;
  let closed: Promise<ShutdownResult> | undefined;
  let onIdle: (() => void) | undefined;

  const enter = (): (() => void) => {
    inFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      inFlight--;
      if (inFlight === 0) onIdle?.();
    };
  };

  return {
    signal: stop.signal,
    forced: force.signal,
    get closing() {
      return stop.signal.aborted;
    },
    get inFlight() {
      return inFlight;
    },
    enter,
    track<T>(work: Promise<T>): Promise<T> {
      const leave = enter();
      work.then(leave, leave);
      return work;
    },
    close(options?: CloseOptions): Promise<ShutdownResult> {
      closed ??= new Promise<ShutdownResult>((resolve) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const finish = (forced: boolean): void => {
          if (timer !== undefined) clearTimeout(timer);
          onIdle = undefined;
          const abandoned = inFlight;
          if (forced) force.abort(new ShutdownError("grace period ended"));
          resolve({ forced, abandoned });
        };
        onIdle = () => finish(false);
        stop.abort(new ShutdownError());
        if (inFlight === 0) return finish(false);
        if (options?.timeout !== undefined) timer = setTimeout(() => finish(true), options.timeout);
      });
      return closed;
    },
  };
}

/**
 * A layer that counts each call as in-flight work of `shutdown` and refuses new calls with a
 * {@link ShutdownError} once it is closing.
 */
export function trackInFlight(shutdown: Shutdown): GenericLayer<Same> {
  return sameLayer(
    <I, O>(inner: Service<I, O>): Service<I, O> => ({
      serve(input: I): Promise<O> {
        if (shutdown.closing) return Promise.reject(new ShutdownError());
        const leave = shutdown.enter();
        let result: Promise<O>;
        try {
          result = inner.serve(input);
        } catch (error) {
          leave();
          return Promise.reject(error);
        }
        result.then(leave, leave);
        return result;
      },
    }),
  );
}
