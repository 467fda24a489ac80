import type { Body, HeaderMap } from "@tessera/http";
import { InvalidOutgoingHeaderError } from "./errors.js";
import { REQUEST_HEAD_ONLY, unsendable } from "./field-rules.js";

/** Where a message goes: one stream of a connection (server or client side). */
export interface MessageSink<S> {
  /** Frames HEADERS (HPACK-encoded) on `stream`; false when the stream is gone. */
  sendHeaders(stream: S, fields: string[], endStream: boolean): boolean;
  /** Frames `chunk` as DATA as flow control allows; resolves true when all of it is framed, false if the stream died. */
  sendData(stream: S, chunk: Uint8Array, endStream: boolean): Promise<boolean>;
}

const EMPTY = new Uint8Array(0);

/**
 * Appends `headers` to `fields` lower-cased, dropping the connection-specific ones HTTP/2 cannot carry (and TE). Checked
 * before encoding: the HPACK encoder adds fields to its table as it goes, so a field that failed halfway through a
 * block would leave our table out of step with the peer's (a COMPRESSION_ERROR later).
 */
export function appendTrailerFields(fields: string[], headers: HeaderMap): void {
  const n = headers.count;
  for (let i = 0; i < n; i++) {
    const name = headers.name(i).toLowerCase();
    if (REQUEST_HEAD_ONLY.has(name) || name === "content-length") continue;
    const value = headers.value(i);
    if (name.length === 0 || unsendable(name) || unsendable(value)) {
      throw new InvalidOutgoingHeaderError(name, "HTTP/2 cannot carry this field");
    }
    fields.push(name, value);
  }
}

function cancel(body: Body): void {
  // A buffered body may be a constant served again: only stop producers.
  if (body.bytesIfBuffered() === undefined) body.cancel();
}

/**
 * Writes one message on `stream`: HEADERS `fields`, then `body` as DATA honouring flow control (each chunk is
 * pulled only once the previous one is framed, so a slow peer back-pressures the producer), then trailers if the
 * body has any. With `noContent` the body is dropped and HEADERS carries END_STREAM. Resolves when done or when
 * the stream died; rejects if the body fails (the caller resets the stream).
 */
export async function writeMessage<S>(
  sink: MessageSink<S>,
  stream: S,
  fields: string[],
  body: Body,
  noContent: boolean,
): Promise<void> {
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
    appendTrailerFields(trailerFields, trailers);
    // Trailers go after every DATA frame: wait for the queue to empty, then send them with END_STREAM.
    if (!(await sink.sendData(stream, EMPTY, false))) return;
    sink.sendHeaders(stream, trailerFields, true);
    return;
  }
  await sink.sendData(stream, EMPTY, true);
}
