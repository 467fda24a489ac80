import type { HeaderMap, Response } from "@tessera/http";
import { httpDate } from "./date-cache.js";
import { InvalidOutgoingHeaderError } from "./errors.js";
import { REQUEST_HEAD_ONLY, unsendable } from "./field-rules.js";
import { type MessageSink, writeMessage } from "./message-writer.js";
import type { ServerStream } from "./stream.js";

/** What the response writer needs from the connection. */
export type ResponseSink = MessageSink<ServerStream>;

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
    if (REQUEST_HEAD_ONLY.has(name)) continue;
    if (name === "content-length") {
      if (skipLength) continue;
      seen |= HAS_LENGTH;
    } else if (name === "date") seen |= HAS_DATE;
    const value = headers.value(i);
    // Checked before encoding: the HPACK encoder adds fields to its table as it goes, so a field that fails
    // halfway through a block would leave our table out of step with the client's (a COMPRESSION_ERROR later).
    if (name.length === 0 || unsendable(name) || unsendable(value)) {
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

/**
 * Writes `response` on `stream`: HEADERS, then the body as DATA honouring flow control, then trailers if the
 * body has any (see {@link writeMessage}). Resolves when done or when the stream died; rejects if the body fails
 * (the caller resets).
 */
export async function writeResponse(
  sink: ResponseSink,
  stream: ServerStream,
  response: Response,
): Promise<void> {
  // async: a field HTTP/2 cannot carry (responseFields throws) must reject, not throw into the caller.
  const noContent = hasNoContent(stream.method, response.status);
  return writeMessage(sink, stream, responseFields(response, noContent), response.body, noContent);
}
