/**
 * Errors with a stable `code`. Tessera errors are branded with a global symbol so that `instanceof` and
 * {@link isTesseraError} agree even when two copies of a package are installed side by side.
 */

const BRAND: unique symbol = Symbol.for("tessera.error") as any;

export interface TesseraErrorOptions {
  cause?: unknown;
}

/**
 * The base of every Tessera error. Subclasses set a static `code`; `instanceof Subclass` matches any branded
 * error with that code, whichever copy of the package created it.
 *
 * @example
 * ```ts
 * class PoolClosedError extends TesseraError {
 *   static readonly code = "ERR_POOL_CLOSED";
 *   constructor() { super(PoolClosedError.code, "the pool is closed"); }
 * }
 * ```
 */
export class TesseraError extends Error {
  /** Subclasses that stand for one code set it here; `instanceof` uses it across package copies. */
  static readonly code: string | undefined = undefined;
  declare readonly [BRAND]: true;
  readonly code: string;

  constructor(code: string, message: string, options?: TesseraErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
    // `name` is the subclass name (e.g. "TimeoutError"), shown in stack traces.
    Object.defineProperty(this, "name", { value: new.target.name, configurable: true, writable: true });
  }

  // `this` is the class on the right of `instanceof` (a subclass, usually): that is the point here.
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: see above
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (!isTesseraError(value)) return false;
    // biome-ignore lint/complexity/noThisInStatic: see above
    if (this === TesseraError) return true;
    // biome-ignore lint/complexity/noThisInStatic: see above
    const code = (this as { code?: string }).code;
    return code !== undefined && value.code === code;
  }
}

/** True for any Tessera error (from any copy of the package), optionally with the given code. */
export function isTesseraError(value: unknown, code?: string): value is TesseraError {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [BRAND]?: unknown })[BRAND] === true &&
    (code === undefined || (value as TesseraError).code === code)
  );
}

/** The `code` of any error-like value (Tessera's or Node's `ERR_*`/`E*` codes), or undefined. */
export function errorCode(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const code = (value as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** A required extension was not present. */
export class MissingExtensionError extends TesseraError {
  static override readonly code = "ERR_EXTENSION_MISSING";
  readonly key: string;
  constructor(key: string) {
    super(MissingExtensionError.code, `required extension "${key}" is not present`);
    this.key = key;
  }
}

/** Work was cancelled because its caller's signal aborted; `cause` carries the signal's reason. */
export class AbortedError extends TesseraError {
  static override readonly code = "ERR_ABORTED";
  constructor(message = "the operation was aborted", options?: TesseraErrorOptions) {
    super(AbortedError.code, message, options);
  }
}

/** A deadline or timeout passed before the work finished. */
export class TimeoutError extends TesseraError {
  static override readonly code = "ERR_TIMEOUT";
  readonly timeoutMs: number | undefined;
  constructor(message = "the operation timed out", timeoutMs?: number, options?: TesseraErrorOptions) {
    super(TimeoutError.code, message, options);
    this.timeoutMs = timeoutMs;
  }
}

/** The component is shutting down and takes no new work. */
export class ShutdownError extends TesseraError {
  static override readonly code = "ERR_SHUTDOWN";
  constructor(message = "shutting down", options?: TesseraErrorOptions) {
    super(ShutdownError.code, message, options);
  }
}
