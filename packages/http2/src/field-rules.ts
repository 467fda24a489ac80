// The field rules of RFC 9113 8.2 that requests and responses share. Each check returns what is wrong (a stable
// reason for logs and tests) or undefined, so the request and the response parsers raise their own errors.

// tchar of RFC 9110 5.6.2 without upper-case letters: an HTTP/2 field name must be lower case (RFC 9113 8.2.1).
const NAME_CHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") NAME_CHAR[c.charCodeAt(0)] = 1;

/** Fields that only mean something to one HTTP/1.1 hop (RFC 9113 8.2.2): malformed in HTTP/2. */
export const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

/**
 * What a response or any trailer section never carries: the connection-specific fields, and TE, which only a
 * request's header section may hold (RFC 9113 8.2.2). Outgoing fields with these names are dropped.
 */
export const REQUEST_HEAD_ONLY: ReadonlySet<string> = new Set([...CONNECTION_SPECIFIC, "te"]);

/** A non-empty lower-case token. */
export function validName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || NAME_CHAR[c] === 0) return false;
  }
  return true;
}

/** RFC 9113 8.2.1: no NUL, CR or LF anywhere; no leading or trailing space or tab. */
export function validValue(value: string): boolean {
  const n = value.length;
  if (n === 0) return true;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
  }
  return true;
}

/** What is wrong with a regular (not pseudo) field, or undefined when it is fine. */
export function regularFieldProblem(name: string, value: string): string | undefined {
  if (!validName(name)) return name.length === 0 ? "empty field name" : `field name "${name}"`;
  if (!validValue(value)) return `value of "${name}"`;
  if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field "${name}"`;
  if (name === "te" && value.toLowerCase() !== "trailers") return 'te other than "trailers"';
  return undefined;
}

const DIGITS = /^[0-9]{1,15}$/;

/** A content-length value as a number, or -1 when it is not one (RFC 9110 8.6: digits only). */
export function parseContentLength(value: string): number {
  return DIGITS.test(value) ? Number(value) : -1;
}

/** What no outgoing field may carry: NUL, CR, LF (RFC 9113 8.2.1), or a char HPACK cannot (above U+00FF). */
const UNSENDABLE = /[\0\r\n\u0100-\uffff]/;

/** Whether a name or value we were asked to send cannot go out as an HTTP/2 field. */
export function unsendable(text: string): boolean {
  return UNSENDABLE.test(text);
}
