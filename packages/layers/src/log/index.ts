import {
  AbortedError,
  type GenericLayer,
  type HasExtensions,
  isTesseraError,
  type Same,
  type Service,
  sameLayer,
  signalOf,
} from "@tessera/core";
import type { Level, Logger } from "pino";
import { forwardCapacity } from "../capacity.js";
import { defaultLogger } from "./default-logger.js";
import { LoggerKey, LogId } from "./keys.js";

export { LoggerKey, LogId, loggerOf } from "./keys.js";

export interface LogOptions<I, O> {
  /**
   * The logger. When the input already carries a logger from an outer `log()` (a connection's, say), the
   * child is made from that one, so a request's lines also carry its connection's id. Default: a pino
   * logger to stdout.
   */
  readonly logger?: Logger;
  /** The level of the line that ends a successful call (with `durationMs`). Default "info". */
  readonly level?: Level;
  /** The level of the line that starts a call. Default "debug". */
  readonly startLevel?: Level;
  /** The level of the line for a failed call (with `err` and `durationMs`). Default "error". */
  readonly errorLevel?: Level;
  /** The level for a call the caller gave up on (`ERR_ABORTED`, or the input's signal aborted). Default "info". */
  readonly cancelLevel?: Level;
  /** The binding that holds the id in every line of the child logger. Default "id". */
  readonly idField?: string;
  /** Make the id of an input (e.g. reuse a request id). Default: a short id unique in this process. */
  readonly id?: (input: I) => string;
  /** More bindings for the input's child logger (e.g. the peer address). */
  readonly bindings?: (input: I) => Record<string, unknown>;
  /** Fields for the end line, from the output (e.g. the status). */
  readonly result?: (output: O) => Record<string, unknown>;
}

/**
 * Structured logging with pino. Per input, while the end level is enabled: a generated id (`LogId`) and a
 * child logger bound to it (`LoggerKey`) are appended to the input's extensions, so inner services log
 * through the same child (`loggerOf(input, fallback)`); a "call started" line at `startLevel`, then "call
 * finished" with `durationMs` at `level`, or "call failed" with `err` at `errorLevel` ("call cancelled" at
 * `cancelLevel` when the caller gave up).
 *
 * Cost when levels are off: the level is checked on each call (pino levels can change at run time). With the
 * end level off but errors on, a call costs one `then` and logs only if it fails (with an id made then);
 * with everything off the layer calls the inner service and does nothing else.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { log } from "@tessera/layers/log";
 * import { pino } from "pino";
 *
 * const svc = stack(log({ logger: pino(), bindings: (req: Req) => ({ path: req.path }) })).into(handler);
 * ```
 */
export function log<I extends HasExtensions = HasExtensions, O = unknown>(
  options: LogOptions<I, O> = {},
): GenericLayer<Same<I, O>> {
  return sameLayer(
    <II extends I, OO extends O>(inner: Service<II, OO>): Service<II, OO> =>
      forwardCapacity(new LogService<II, OO>(inner, options as LogOptions<II, OO>), inner),
  );
}

let prefixCounter = 0;

class LogService<I extends HasExtensions, O> implements Service<I, O> {
  readonly #inner: Service<I, O>;
  readonly #logger: Logger;
  readonly #level: Level;
  readonly #startLevel: Level;
  readonly #errorLevel: Level;
  readonly #cancelLevel: Level;
  readonly #levelValue: number;
  readonly #startValue: number;
  readonly #errorValue: number;
  readonly #idField: string;
  readonly #makeId: ((input: I) => string) | undefined;
  readonly #bindings: ((input: I) => Record<string, unknown>) | undefined;
  readonly #result: ((output: O) => Record<string, unknown>) | undefined;
  readonly #prefix: string;
  #counter = 0;

  constructor(inner: Service<I, O>, options: LogOptions<I, O>) {
    this.#inner = inner;
    const logger = options.logger ?? defaultLogger();
    this.#logger = logger;
    this.#level = options.level ?? "info";
    this.#startLevel = options.startLevel ?? "debug";
    this.#errorLevel = options.errorLevel ?? "error";
    this.#cancelLevel = options.cancelLevel ?? "info";
    const values = logger.levels.values;
    this.#levelValue = levelValue(values, this.#level);
    this.#startValue = levelValue(values, this.#startLevel);
    // The layer can skip a call entirely only if neither a failure nor a cancellation would be logged.
    this.#errorValue = Math.max(levelValue(values, this.#errorLevel), levelValue(values, this.#cancelLevel));
    this.#idField = options.idField ?? "id";
    this.#makeId = options.id;
    this.#bindings = options.bindings;
    this.#result = options.result;
    // A short prefix unique to this layer instance, then a counter: cheap ids, unique within the process.
    this.#prefix = `${(Math.random() * 36 ** 4).toString(36).slice(0, 4).padStart(4, "0")}${(prefixCounter++).toString(36)}-`;
  }

  serve(input: I): Promise<O> {
    const current = this.#logger.levelVal;
    if (current > this.#levelValue) {
      // The start and end lines are off: no id, no child logger, no extension.
      if (current > this.#errorValue) return this.#inner.serve(input);
      const start = performance.now();
      return this.#inner.serve(input).then(undefined, (error: unknown) => {
        this.#failed(this.#child(input, false), input, error, start);
        throw error;
      });
    }
    const child = this.#child(input, true);
    if (current <= this.#startValue) child[this.#startLevel]("call started");
    const start = performance.now();
    return this.#inner.serve(input).then(
      (output) => {
        const durationMs = elapsed(start);
        const result = this.#result;
        child[this.#level](
          result === undefined ? { durationMs } : { ...result(output), durationMs },
          "call finished",
        );
        return output;
      },
      (error: unknown) => {
        this.#failed(child, input, error, start);
        throw error;
      },
    );
  }

  #child(input: I, record: boolean): Logger {
    const id =
      this.#makeId === undefined ? this.#prefix + (++this.#counter).toString(36) : this.#makeId(input);
    const extensions = input.extensions;
    const parent = extensions.get(LoggerKey) ?? this.#logger;
    // A new object: the user's bindings() may return a shared one.
    const bindings = this.#bindings === undefined ? {} : { ...this.#bindings(input) };
    bindings[this.#idField] = id;
    const child = parent.child(bindings);
    if (record) extensions.insert(LogId, id).insert(LoggerKey, child);
    return child;
  }

  #failed(child: Logger, input: I, error: unknown, start: number): void {
    const cancelled = isTesseraError(error, AbortedError.code) || signalOf(input).aborted;
    const level = cancelled ? this.#cancelLevel : this.#errorLevel;
    if (child.isLevelEnabled(level)) {
      child[level]({ err: error, durationMs: elapsed(start) }, cancelled ? "call cancelled" : "call failed");
    }
  }
}

function levelValue(values: Record<string, number>, level: Level): number {
  const value = values[level];
  if (value === undefined) throw new RangeError(`log: unknown level "${level}"`);
  return value;
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}
