import { abortReason } from "@tessera/core";

/**
 * Resolve after `ms` milliseconds, or reject with {@link abortReason} as soon as `signal` aborts (the timer is
 * cleared then, so an abandoned wait keeps nothing alive).
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
