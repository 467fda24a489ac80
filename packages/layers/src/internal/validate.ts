/** Throw a `RangeError` naming `what` unless `value` is a finite number >= `min` (or Infinity when allowed). */
export function checkNumber(what: string, value: number, min: number, allowInfinity = false): number {
  const ok =
    allowInfinity && value === Number.POSITIVE_INFINITY ? true : Number.isFinite(value) && value >= min;
  if (!ok)
    throw new RangeError(`${what} must be a ${allowInfinity ? "" : "finite "}number >= ${min}, got ${value}`);
  return value;
}

/** Like {@link checkNumber}, and an integer. */
export function checkInteger(what: string, value: number, min: number, allowInfinity = false): number {
  checkNumber(what, value, min, allowInfinity);
  if (value !== Number.POSITIVE_INFINITY && !Number.isInteger(value)) {
    throw new RangeError(`${what} must be an integer, got ${value}`);
  }
  return value;
}
