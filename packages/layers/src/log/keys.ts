import { type HasExtensions, key } from "@tessera/core";
import type { Logger } from "pino";

/** The id `log()` generated for an input (one per input per `log()` layer; the newest wins). */
export const LogId = key<string>("tessera.layers.LogId");

/** The child logger `log()` made for an input, carrying its id: log through it to correlate lines. */
export const LoggerKey = key<Logger>("tessera.layers.Logger");

/**
 * The input's logger from `log()`, or `fallback`.
 *
 * @example
 * ```ts
 * const handler = service((req: Req) => { loggerOf(req, rootLogger).info("handling"); return ok(); });
 * ```
 */
export function loggerOf(input: HasExtensions, fallback: Logger): Logger {
  return input.extensions.get(LoggerKey) ?? fallback;
}
