import type { Body, HeaderMap, Response } from "@tessera/http";
import { httpDate } from "./date-cache.js";
import { InvalidOutgoingHeaderError } from "./errors.js";
import type { ServerStream } from "./stream.js";

/** What the response writer needs from the connection. */
export interface ResponseSink {
  /** Frames HEADERS (HPACK-encoded) on `stream`; false when the stream is gone. */
  sendHeaders(stream: ServerStream, fields: string[], endStream: boolean): boolean;
  /** Frames `chunk` as DATA as flow control allows; resolves true when all of it is framed, false if the stream died. */
  sendData(stream: ServerStream, chunk: Uint8Array, endStream: boolean): Promise<boolean>;
}

/** Response fields HTTP/2 cannot carry (RFC 9113 8.2.2); the server drops them rather than failing. */
const DROPPED: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

const EMPTY = new Uint8Array(0);
/** What no field may carry: NUL, CR, LF (RFC 9113 8.2.1), or a char HPACK cannot (above U+00FF). */
const BAD_VALUE = /[\0\r\n\u0100-\uffff]/;

/** Whether a response to `method` with `status` has no content (RFC 9110 6.4.1). */
export function hasNoContent(method: string, status: number): boolean {
  return method === "HEAD" || status === 204 || status === 304 || status < 200;
}

/** Bit flags of what {@link appendFields} saw. */
const HAS_LENGTH = 1;
const HAS_DATE = 2;

function appendFields(fields: string[], headers: HeaderMap, skipLength: boolean): number {
  let seen = 0;
  const n = headers.count;
  for (let i = 0; i < n; i++) {
    // HTTP/2 field names are lower case on the wire; HeaderMap keeps the handler's casing.
    const name = headers.name(i).toLowerCase();
    if (DROPPED.has(name)) continue;
    if (name === "content-length") {
      if (skipLength) continue;
      seen |= HAS_LENGTH;
    } else if (name === "date") seen |= HAS_DATE;
    const value = headers.value(i);
    // Checked before encoding: the HPACK encoder adds fields to its table as it goes, so a field that fails
    // halfway through a block would leave our table out of step with the client's (a COMPRESSION_ERROR later).
    if (name.length === 0 || BAD_VALUE.test(name) || BAD_VALUE.test(value)) {
      throw new InvalidOutgoingHeaderError(name, "HTTP/2 cannot carry this field");
    }
    fields.push(name, value);
  }
  return seen;
}

/** The response HEADERS fields: `:status` first, then the handler's fields, lower-cased, connection fields dropped. */
export function responseFields(response: Response, noContent: boolean): string[] {
  const fields = [":status", String(response.status)];
  const seen = appendFields(fields, response.headers, response.status === 204 || response.status < 200);
  const hasLength = (seen & HAS_LENGTH) !== 0;
  // An origin server with a clock sends date (RFC 9110 6.6.1) unless the handler set its own.
  if ((seen & HAS_DATE) === 0) fields.push("date", httpDate());
  const length = response.body.length;
  const status = response.status;
  // HEAD gets the length GET would have (RFC 9110 9.3.2); 1xx, 204 and 304 none.
  const lengthAllowed = !noContent || (status >= 200 && status !== 204 && status !== 304);
  if (!hasLength && lengthAllowed && length !== undefined) fields.push("content-length", String(length));
  return fields;
}

function cancel(body: Body): void {
  // A buffered body may be a constant served again: only stop producers.
  if (body.bytesIfBuffered() === undefined) body.cancel();
}

/**
 * Writes `response` on `stream`: HEADERS, then the body as DATA honouring flow control (each chunk is pulled from
 * the body only once the previous one is framed, so a slow client back-pressures the handler), then trailers
 * if the body has any. Resolves when done or when the stream died; rejects if the body fails (the caller resets).
 */
export async function writeResponse(
  sink: ResponseSink,
  stream: ServerStream,
  response: Response,
): Promise<void> {
  const body = response.body;
  const noContent = hasNoContent(stream.method, response.status);
  const fields = responseFields(response, noContent);
  if (noContent) {
    cancel(body);
    sink.sendHeaders(stream, fields, true);
    return;
  }
  const buffered = body.bytesIfBuffered();
  if (buffered !== undefined && body.trailers === undefined) {
    if (buffered.byteLength === 0) {
      sink.sendHeaders(stream, fields, true);
      return;
    }
    if (!sink.sendHeaders(stream, fields, false)) return;
    await sink.sendData(stream, buffered, true);
    return;
  }
  if (!sink.sendHeaders(stream, fields, false)) {
    cancel(body);
    return;
  }
  for await (const chunk of body) {
    if (chunk.byteLength === 0) continue;
    if (!(await sink.sendData(stream, chunk, false))) {
      cancel(body);
      return;
    }
  }
  const trailers = body.trailers;
  if (trailers !== undefined && trailers.count > 0) {
    const trailerFields: string[] = [];
    appendFields(trailerFields, trailers, true);
    // Trailers go after every DATA frame: wait for the queue to empty, then send them with END_STREAM.
    if (!(await sink.sendData(stream, EMPTY, false))) return;
    sink.sendHeaders(stream, trailerFields, true);
    return;
  }
  await sink.sendData(stream, EMPTY, true);
}
