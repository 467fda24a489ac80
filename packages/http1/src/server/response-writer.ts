import type { HeaderMap } from "@tessera/http";
import { InvalidOutgoingStartLineError } from "../errors.js";
import { isFieldValue } from "../field-checks.js";
import { STATUS_REASONS } from "../status-codes.js";
import { dateLine } from "./date-cache.js";

// Serializing a response head. The handler's fields are written in their order and casing; framing and
// connection management are the server's: Content-Length / Transfer-Encoding / Connection / Keep-Alive fields the
// handler set are dropped and replaced by what the server actually does (a wrong Content-Length from a handler
// would desync the client). HeaderMap validated every field when it was set, so values are not checked again.

/** How the body of a response is delimited on the wire. */
export const Framing = {
  /** No body bytes at all (HEAD, 1xx, 204, 304, 2xx to CONNECT). */
  None: 0,
  Length: 1,
  Chunked: 2,
  /** The body runs until the connection closes (HTTP/1.0 client, unknown length). */
  Close: 3,
} as const;
export type Framing = (typeof Framing)[keyof typeof Framing];

/** What the head says about the connection. */
export const ConnectionField = {
  /** Nothing: HTTP/1.1 keeps the connection by default. */
  None: 0,
  Close: 1,
  /** `Connection: keep-alive`, which an HTTP/1.0 client needs to keep the connection. */
  KeepAlive: 2,
  /** The handler's own Connection and Upgrade fields go out unchanged (a 101). */
  Passthrough: 3,
} as const;
export type ConnectionField = (typeof ConnectionField)[keyof typeof ConnectionField];

// "HTTP/1.1 200 OK\r\n" for every registered status: the common case is one array load. A server answers with
// its own version whatever the client's (RFC 9110 6.2), so HTTP/1.0 clients get HTTP/1.1 status lines too.
const STATUS_LINES: string[] = [];
for (const [code, reason] of Object.entries(STATUS_REASONS)) {
  STATUS_LINES[Number(code)] = `HTTP/1.1 ${code} ${reason}\r\n`;
}

/** The status line for `status`, with a custom reason phrase if given (validated: no CR/LF injection). */
export function statusLine(status: number, reason: string | undefined): string {
  if (reason === undefined) {
    const line = STATUS_LINES[status];
    if (line !== undefined) return line;
    return `HTTP/1.1 ${status} \r\n`;
  }
  if (!isFieldValue(reason))
    throw new InvalidOutgoingStartLineError("the reason phrase holds CR, LF or controls");
  return `HTTP/1.1 ${status} ${reason}\r\n`;
}

/**
 * What {@link scanFields} found in the handler's fields. One shared object (filled by each call, read right
 * after): the scan runs for every response, and a result object per call would be garbage per request.
 */
export const scanned = {
  /** The fields to write, as field lines. */
  lines: "",
  hasDate: false,
  /** The handler's Connection field lists `close`. */
  wantsClose: false,
  /** The handler's Content-Length value (kept only for responses without body bytes: HEAD, 304). */
  contentLength: undefined as string | undefined,
};

// Lower-case ASCII compare of a header name (a token) with a lower-case word of letters and dashes: `| 0x20`
// folds letters, and no other token character folds onto a letter or a dash.
function nameIs(name: string, word: string): boolean {
  const n = word.length;
  if (name.length !== n) return false;
  for (let i = 0; i < n; i++) if ((name.charCodeAt(i) | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

function listsClose(value: string): boolean {
  const tokens = value.toLowerCase().split(",");
  for (const token of tokens) if (token.trim() === "close") return true;
  return false;
}

/**
 * Turn the handler's fields into field lines, dropping the ones the server owns (Content-Length,
 * Transfer-Encoding, Connection, Keep-Alive; Connection passes through when `passthrough`), and note what the
 * server needs to know in {@link scanned}.
 */
export function scanFields(headers: HeaderMap, passthrough: boolean): void {
  let lines = "";
  let hasDate = false;
  let wantsClose = false;
  let contentLength: string | undefined;
  const n = headers.size;
  for (let i = 0; i < n; i++) {
    const name = headers.name(i);
    switch (name.length) {
      case 4:
        if (nameIs(name, "date")) hasDate = true;
        break;
      case 10:
        if (nameIs(name, "connection")) {
          const value = headers.value(i);
          if (listsClose(value)) wantsClose = true;
          if (passthrough) break;
          continue;
        }
        if (nameIs(name, "keep-alive")) continue;
        break;
      case 14:
        if (nameIs(name, "content-length")) {
          contentLength ??= headers.value(i);
          continue;
        }
        break;
      case 17:
        if (nameIs(name, "transfer-encoding")) continue;
        break;
    }
    lines += name + ": " + headers.value(i) + "\r\n";
  }
  scanned.lines = lines;
  scanned.hasDate = hasDate;
  scanned.wantsClose = wantsClose;
  scanned.contentLength = contentLength;
}

/**
 * The complete head: status line, the scanned field lines, Date (unless the handler set one), the framing field
 * and the connection field, and the empty line.
 */
export function buildHead(
  status: number,
  reason: string | undefined,
  framing: Framing,
  length: number | string | undefined,
  connection: ConnectionField,
): string {
  let head = statusLine(status, reason) + scanned.lines;
  if (!scanned.hasDate) head += dateLine();
  if (length !== undefined) head += "Content-Length: " + length + "\r\n";
  else if (framing === Framing.Chunked) head += "Transfer-Encoding: chunked\r\n";
  if (connection === ConnectionField.Close) head += "Connection: close\r\n";
  else if (connection === ConnectionField.KeepAlive) head += "Connection: keep-alive\r\n";
  return head + "\r\n";
}

/** `HTTP/1.1 100 Continue` and the empty line. */
export const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";

/**
 * A complete response the server makes itself (parse errors, timeouts, handler failures): the status, its
 * reason phrase as a short text body, and `Connection: close` when asked.
 */
export function simpleResponse(status: number, close: boolean): string {
  const text = STATUS_REASONS[status] ?? "Error";
  const head =
    statusLine(status, undefined) +
    dateLine() +
    "Content-Type: text/plain; charset=utf-8\r\n" +
    `Content-Length: ${text.length + 1}\r\n` +
    (close ? "Connection: close\r\n" : "") +
    "\r\n";
  return head + text + "\n";
}
