import { isFieldValue, isToken } from "@tessera/http";
import { InvalidOutgoingHeaderError } from "./errors.js";

// Checks for strings we are about to write on the wire. The parser validates bytes; these validate JavaScript
// strings, whose char codes can exceed 0xFF (not representable in latin1, so refused rather than mangled).
// The rules are @tessera/http's (one definition of a token and a field value); the error is ours.

export { isFieldValue, isToken };

/** Throws {@link InvalidOutgoingHeaderError} unless `name`/`value` can be written as a field line. */
export function assertField(name: string, value: string): void {
  if (!isToken(name)) throw new InvalidOutgoingHeaderError(name, "the name is not a token");
  if (!isFieldValue(value)) {
    throw new InvalidOutgoingHeaderError(name, "the value holds CR, LF, NUL, a control or a char above 0xFF");
  }
}
