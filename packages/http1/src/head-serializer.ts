import { TARGET } from "./char-tables.js";
import { InvalidOutgoingStartLineError } from "./errors.js";
import { assertField, isFieldValue, isToken } from "./field-checks.js";
import { latin1Write } from "./latin1.js";
import { RawHeaders } from "./raw-headers.js";
import { STATUS_REASONS } from "./status-codes.js";

/**
 * Header fields to write, in order and with the casing given: a flat `[name, value, name, value, ...]` list
 * (cheapest), any iterable of `[name, value]` pairs, or a {@link RawHeaders} (e.g. forwarded by a proxy).
 */
export type HeaderFields = readonly string[] | Iterable<readonly [string, string]> | RawHeaders;

/** Options of {@link serializeResponseHead}. */
export interface ResponseHeadOptions {
  /** Reason phrase; defaults to the registered one for the status (empty for unregistered codes). */
  readonly reason?: string;
  /** 1 (default) for HTTP/1.1, 0 for HTTP/1.0. */
  readonly versionMinor?: 0 | 1;
}

/** Options of {@link serializeRequestHead}. */
export interface RequestHeadOptions {
  /** 1 (default) for HTTP/1.1, 0 for HTTP/1.0. */
  readonly versionMinor?: 0 | 1;
}

// Precomputed "HTTP/1.1 200 OK\r\n" lines for every registered status: the common case is one array load.
const STATUS_LINES: string[] = [];
for (const [code, reason] of Object.entries(STATUS_REASONS)) {
  STATUS_LINES[Number(code)] = `HTTP/1.1 ${code} ${reason}\r\n`;
}

/**
 * The head of a response as a latin1 string: status line, one line per field in the given order and casing,
 * and the empty line. Names must be tokens and values free of CR, LF and other controls, otherwise it throws
 * {@link InvalidOutgoingHeaderError} (so a value can never inject a header or a second response). Nothing is
 * added: Date, Content-Length and friends are the caller's choice.
 *
 * @example
 * ```ts
 * serializeResponseHead(200, ["Content-Type", "text/plain", "Content-Length", "2"]);
 * // "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n"
 * ```
 */
export function serializeResponseHead(
  status: number,
  headers?: HeaderFields,
  options?: ResponseHeadOptions,
): string {
  let line: string | undefined;
  const minor = options?.versionMinor ?? 1;
  const reason = options?.reason;
  if (reason === undefined && minor === 1) line = STATUS_LINES[status];
  if (line === undefined) {
    if (!Number.isInteger(status) || status < 100 || status > 999) {
      throw new InvalidOutgoingStartLineError(`status ${String(status)} is not an integer in 100-999`);
    }
    const text = reason ?? STATUS_REASONS[status] ?? "";
    if (!isFieldValue(text))
      throw new InvalidOutgoingStartLineError("the reason phrase holds CR, LF or controls");
    line = `HTTP/1.${minor} ${status} ${text}\r\n`;
  }
  return line + fieldLines(headers) + "\r\n";
}

/**
 * The head of a request as a latin1 string: request line, fields in the given order and casing, empty line.
 * The method must be a token and the target visible ASCII without spaces; fields are validated as for
 * {@link serializeResponseHead}.
 *
 * @example
 * ```ts
 * serializeRequestHead("GET", "/search?q=1", [["Host", "example.com"], ["Accept", "text/html"]]);
 * // "GET /search?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: text/html\r\n\r\n"
 * ```
 */
export function serializeRequestHead(
  method: string,
  target: string,
  headers?: HeaderFields,
  options?: RequestHeadOptions,
): string {
  if (!isToken(method))
    throw new InvalidOutgoingStartLineError(`method ${JSON.stringify(method)} is not a token`);
  if (!isTarget(target)) {
    throw new InvalidOutgoingStartLineError(
      `request target ${JSON.stringify(target)} is empty or not visible ASCII`,
    );
  }
  return `${method} ${target} HTTP/1.${options?.versionMinor ?? 1}\r\n${fieldLines(headers)}\r\n`;
}

/**
 * One Buffer holding a serialized head and, optionally, a small body right after it, for a single socket
 * write (one write per response is what makes small responses fast). A string body is written as UTF-8.
 *
 * @example
 * ```ts
 * const body = Buffer.from("hi");
 * socket.write(encodeHead(serializeResponseHead(200, ["Content-Length", String(body.length)]), body));
 * ```
 */
export function encodeHead(head: string, body?: Uint8Array | string): Buffer {
  const headLength = head.length;
  if (body === undefined) {
    const out = Buffer.allocUnsafe(headLength);
    latin1Write(out, head, 0);
    return out;
  }
  const bodyLength = typeof body === "string" ? Buffer.byteLength(body) : body.length;
  const out = Buffer.allocUnsafe(headLength + bodyLength);
  latin1Write(out, head, 0);
  if (typeof body === "string") out.write(body, headLength, "utf8");
  else out.set(body, headLength);
  return out;
}

/** `name: value\r\n` for every field, validated. Exported for the chunked encoder's trailers. */
export function fieldLines(headers: HeaderFields | undefined): string {
  if (headers === undefined) return "";
  let out = "";
  if (headers instanceof RawHeaders) {
    for (let i = 0; i < headers.count; i++) out += line(headers.name(i), headers.value(i));
  } else if (isFlat(headers)) {
    const n = headers.length;
    if (n % 2 !== 0) throw new TypeError("a flat header list needs an even number of strings");
    for (let i = 0; i < n; i += 2) out += line(headers[i]!, headers[i + 1]!);
  } else {
    for (const [name, value] of headers) out += line(name, value);
  }
  return out;
}

function line(name: string, value: string): string {
  assertField(name, value);
  return name + ": " + value + "\r\n";
}

function isFlat(
  headers: Iterable<readonly [string, string]> | readonly string[],
): headers is readonly string[] {
  return Array.isArray(headers) && (headers.length === 0 || typeof headers[0] === "string");
}

function isTarget(target: string): boolean {
  const n = target.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = target.charCodeAt(i);
    if (c > 0x7f || TARGET[c] === 0) return false;
  }
  return true;
}
