import { type Logger, pino } from "pino";

let fallback: Logger | undefined;

/** A pino logger to stdout at level "info", made on first use (for layers given no logger). */
export function defaultLogger(): Logger {
  fallback ??= pino();
  return fallback;
}
