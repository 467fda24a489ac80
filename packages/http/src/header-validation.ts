import { InvalidHeaderNameError, InvalidHeaderValueError } from "./errors.js";

// Lookup tables (one byte per char code below 256): one load and one compare per character keeps full
// validation affordable on every mutation. Grammar: RFC 9110 5.1 (field-name = token), 5.5 (field-value) and
// 5.6.2 (tchar).

function table(accept: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = accept(c) ? 1 : 0;
  return t;
}

/** `tchar`: ALPHA / DIGIT / one of ``!#$%&'*+-.^_`|~``. */
export const TCHAR: Uint8Array = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)),
);

/**
 * Field value characters: VCHAR (0x21-0x7E), obs-text (0x80-0xFF), SP and HTAB. Not NUL, CR, LF, the other
 * controls or DEL. obs-text is allowed because real peers send Latin-1 and UTF-8 bytes in values; it cannot end
 * a line, so it cannot smuggle.
 */
export const FIELD_VALUE: Uint8Array = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f));

/**
 * True if `s` is a token (RFC 9110 5.6.2): a valid header name or method.
 *
 * @example
 * ```ts
 * isToken("Content-Type"); // true
 * isToken("Bad Name"); // false
 * ```
 */
export function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TCHAR[c] === 0) return false;
  }
  return true;
}

/**
 * True if `s` may be sent as a header value: VCHAR, obs-text (U+0080-U+00FF), SP and HTAB only. Above all no CR
 * or LF, which would inject header lines or a second message. The empty value is valid.
 *
 * @example
 * ```ts
 * isFieldValue("text/html; charset=utf-8"); // true
 * isFieldValue("a\r\nSet-Cookie: x=1"); // false
 * ```
 */
export function isFieldValue(s: string): boolean {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] === 0) return false;
  }
  return true;
}

/**
 * Throw {@link InvalidHeaderNameError} unless `name` is a token.
 *
 * @example
 * ```ts
 * assertHeaderName("X-Id"); // ok
 * assertHeaderName("X Id"); // throws InvalidHeaderNameError
 * ```
 */
export function assertHeaderName(name: string): void {
  if (typeof name !== "string" || !isToken(name)) throw new InvalidHeaderNameError(String(name));
}

/**
 * Throw {@link InvalidHeaderValueError} unless `value` is a valid field value (see {@link isFieldValue}).
 *
 * @example
 * ```ts
 * assertHeaderValue("X-Id", "7"); // ok
 * assertHeaderValue("X-Id", "7\r\nX-Evil: 1"); // throws InvalidHeaderValueError
 * ```
 */
export function assertHeaderValue(name: string, value: string): void {
  if (typeof value !== "string" || !isFieldValue(value)) throw new InvalidHeaderValueError(name);
}

/**
 * True if `a` and `b` are equal ignoring ASCII case (header names). The length is compared first, then the
 * characters from the first: most names differ in length or in their first character, so most non-matches cost
 * one or two compares.
 */
export function namesEqual(a: string, b: string): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  if (a === b) return true;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Fold A-Z only: `| 0x20` alone would also fold tchar such as `^` onto `~`.
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return false;
  }
  return true;
}
