/**
 * Byte classification tables (one `Uint8Array` of 256 per class). The parser validates every byte it reads, so a
 * table lookup per byte is what keeps full validation affordable: one load and one compare, no branches on
 * ranges. Grammar references are RFC 9110 section 5.6 and RFC 9112.
 */

function table(fill: (byte: number) => number): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = fill(b);
  return t;
}

function isAlpha(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** `tchar` (RFC 9110 5.6.2): the characters of a token, used for methods, field names and transfer codings. */
export const TCHAR: Uint8Array = table((b) =>
  isAlpha(b) || isDigit(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b)) ? 1 : 0,
);

/** Field-value class: visible (VCHAR or obs-text). */
export const FV_VISIBLE = 1;
/** Field-value class: whitespace allowed inside a value (SP, HTAB). */
export const FV_SPACE = 2;

/**
 * Field values and reason phrases: 1 for VCHAR (0x21-0x7E) and obs-text (0x80-0xFF), 2 for SP and HTAB, 0 for
 * everything else (NUL, CR, LF, other controls, DEL). obs-text is accepted because real servers send Latin-1
 * and UTF-8 in values; it cannot end a line, so it cannot smuggle.
 */
export const FIELD_VALUE: Uint8Array = table((b) => {
  if (b === 0x20 || b === 0x09) return FV_SPACE;
  if ((b >= 0x21 && b <= 0x7e) || b >= 0x80) return FV_VISIBLE;
  return 0;
});

/**
 * Request-target bytes: visible ASCII (0x21-0x7E). The target's form (origin, absolute, authority, asterisk) is
 * decided later by whoever routes it; here we only guarantee that it cannot contain whitespace, controls or
 * non-ASCII bytes, the characters that make two parsers split a request line differently.
 */
export const TARGET: Uint8Array = table((b) => (b >= 0x21 && b <= 0x7e ? 1 : 0));

/**
 * Host header value bytes (RFC 9110 7.2: `uri-host [ ":" port ]`, with uri-host from RFC 3986): unreserved,
 * pct-encoded, sub-delims, ":" and the brackets of an IP literal. No "@" (no userinfo), no "/" or whitespace.
 */
export const HOST: Uint8Array = table((b) =>
  isAlpha(b) || isDigit(b) || "-._~%!$&'()*+,;=:[]".includes(String.fromCharCode(b)) ? 1 : 0,
);

/** Hex digit values, -1 for non-hex bytes (chunk sizes). */
export const HEX: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let b = 0x30; b <= 0x39; b++) t[b] = b - 0x30;
  for (let b = 0x41; b <= 0x46; b++) t[b] = b - 0x41 + 10;
  for (let b = 0x61; b <= 0x66; b++) t[b] = b - 0x61 + 10;
  return t;
})();

/**
 * ASCII lower-casing of a byte (A-Z only). Field names are compared through this table; `| 0x20` is not enough
 * because it would also fold tchar such as `^` (0x5E) onto `~` (0x7E).
 */
export const LOWER: Uint8Array = table((b) => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b));

/** Whitespace inside header lines (OWS/BWS): SP and HTAB. */
export function isOws(b: number): boolean {
  return b === 0x20 || b === 0x09;
}
