import {
  AbortedError,
  type GenericLayer,
  type HasExtensions,
  isTesseraError,
  type Same,
  type Service,
  ShutdownError,
  sameLayer,
  signalOf,
} from "@tessera/core";
import type { Level, Logger } from "pino";
import { forwardCapacity } from "../capacity.js";
import { defaultLogger } from "../log/default-logger.js";
import { LoggerKey } from "../log/keys.js";

export interface ConsumeErrorsOptions<I> {
  /**
   * Where errors are logged when the input carries no logger from `log()` (which is preferred, so the line
   * has the input's id). Default: a pino logger to stdout.
   */
  readonly logger?: Logger;
  /** The level for errors. Default "warn". Cancellations and shutdown are logged at "debug". */
  readonly level?: Level;
  /** Handle the error yourself instead of logging it. A throw from it is swallowed too. */
  readonly onError?: (error: unknown, input: I) => void;
}

/**
 * Log and drop errors, for services whose caller has nobody to tell: a listener's acceptor
 * (`Service<Conn, void>`), where a failed connection must not become an unhandled rejection or stop the
 * accept loop. The outer service always resolves.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { consumeErrors } from "@tessera/layers/consume-errors";
 * import { log } from "@tessera/layers/log";
 *
 * const acceptor = stack(log({ logger }), consumeErrors()).into(http1.server(app)); // Service<Conn, void>
 * ```
 */
export function consumeErrors<I = unknown>(
  options: ConsumeErrorsOptions<I> = {},
): GenericLayer<Same<I, void>> {
  const level = options.level ?? "warn";
  const handle =
    options.onError ??
    ((error: unknown, input: I): void => {
      const logger = loggerFrom(input) ?? options.logger ?? defaultLogger();
      const quiet =
        isTesseraError(error, AbortedError.code) ||
        isTesseraError(error, ShutdownError.code) ||
        (hasExtensions(input) && signalOf(input).aborted);
      logger[quiet ? "debug" : level]({ err: error }, quiet ? "call cancelled" : "call failed");
    });
  const onRejected = (input: I) => (error: unknown) => {
    try {
      handle(error, input);
    } catch {
      // Dropping errors is the point; a broken handler must not bring them back.
    }
  };
  return sameLayer(
    <II extends I, O extends void>(inner: Service<II, O>): Service<II, O> =>
      forwardCapacity(
        {
          serve(input: II): Promise<O> {
            let result: Promise<O>;
            try {
              result = inner.serve(input);
            } catch (error) {
              result = Promise.reject(error);
            }
            return result.then(undefined, onRejected(input)) as Promise<O>;
          },
        },
        inner,
      ),
  );
}

function hasExtensions(input: unknown): input is HasExtensions {
  return typeof input === "object" && input !== null && "extensions" in input;
}

function loggerFrom(input: unknown): Logger | undefined {
  return hasExtensions(input) ? input.extensions.get(LoggerKey) : undefined;
}
