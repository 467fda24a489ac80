import { getEventListeners } from "node:events";
import { abortReason, type Extensible, Extensions, type Service, SignalKey, signalOf } from "@tessera/core";

/** A request-like input that implements `Extensible` (what retry and hedge need). */
export class Req implements Extensible {
  readonly path: string;
  readonly extensions: Extensions;
  constructor(path = "/", extensions = new Extensions()) {
    this.path = path;
    this.extensions = extensions;
  }
  withExtensions(extensions: Extensions): this {
    return new Req(this.path, extensions) as this;
  }
}

/** A request whose cancellation signal is `signal`, optionally on `parent` (its extensions are forked). */
export function req(path = "/", signal?: AbortSignal, parent?: { readonly extensions: Extensions }): Req {
  const ext = parent === undefined ? new Extensions() : parent.extensions.fork();
  if (signal !== undefined) ext.insert(SignalKey, signal);
  return new Req(path, ext);
}

export interface Call<I, O> {
  readonly input: I;
  readonly signal: AbortSignal;
  resolve(output: O): void;
  reject(error: unknown): void;
}

/** A service whose calls stay pending until the test settles them through `calls`. */
export function manual<I extends { readonly extensions: Extensions }, O>(): {
  service: Service<I, O>;
  calls: Call<I, O>[];
} {
  const calls: Call<I, O>[] = [];
  const service: Service<I, O> = {
    serve: (input) =>
      new Promise<O>((resolve, reject) => {
        calls.push({ input, signal: signalOf(input), resolve, reject });
      }),
  };
  return { service, calls };
}

/**
 * A service that takes `ms` (fake) milliseconds and stops when its input's signal aborts: the timer is
 * cleared and it rejects with the abort reason. `seen` collects the signal each call saw.
 */
export function slow<I extends { readonly extensions: Extensions }>(
  ms: number,
  seen: AbortSignal[] = [],
  output = "done",
): Service<I, string> {
  return {
    serve(input) {
      const signal = signalOf(input);
      seen.push(signal);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => resolve(output), ms);
        signal.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            reject(abortReason(signal));
          },
          { once: true },
        );
      });
    },
  };
}

/** How many "abort" listeners `signal` has now. */
export function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, "abort").length;
}

/** The settled state of a promise without awaiting it forever: flushes microtasks first. */
export async function state<T>(promise: Promise<T>): Promise<"pending" | "fulfilled" | "rejected"> {
  let result: "pending" | "fulfilled" | "rejected" = "pending";
  promise.then(
    () => {
      result = "fulfilled";
    },
    () => {
      result = "rejected";
    },
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return result;
}

/** Attach a no-op rejection handler so a promise rejected on purpose is not reported as unhandled. */
export function settle<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
