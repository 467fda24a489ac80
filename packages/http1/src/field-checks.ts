import { FIELD_VALUE, TCHAR } from "./char-tables.js";
import { InvalidOutgoingHeaderError } from "./errors.js";

// Checks for strings we are about to write on the wire. The parser validates bytes; these validate JavaScript
// strings, whose char codes can exceed 0xFF (not representable in latin1, so refused rather than mangled).

/** True if `s` is a non-empty token (RFC 9110 5.6.2), i.e. a valid method or field name. */
export function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || TCHAR[c] === 0) return false;
  }
  return true;
}

/**
 * True if `s` may be written as a field value: VCHAR, obs-text (0x80-0xFF), SP and HTAB only. Above all no CR or
 * LF, which would let a value inject header lines or a second message.
 */
export function isFieldValue(s: string): boolean {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] === 0) return false;
  }
  return true;
}

/** Throws {@link InvalidOutgoingHeaderError} unless `name`/`value` can be written as a field line. */
export function assertField(name: string, value: string): void {
  if (!isToken(name)) throw new InvalidOutgoingHeaderError(name, "the name is not a token");
  if (!isFieldValue(value)) {
    throw new InvalidOutgoingHeaderError(name, "the value holds CR, LF, NUL, a control or a char above 0xFF");
  }
}
