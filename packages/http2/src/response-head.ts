import { HeaderMap } from "@tessera/http";
import { Http2MalformedResponseError } from "./client-errors.js";
import { parseContentLength, regularFieldProblem } from "./field-rules.js";
import { HeaderList } from "./header-list.js";

/** What a response's HEADERS carry once checked (RFC 9113 8.3.2). */
export interface ResponseHead {
  readonly status: number;
  /** The regular fields, in wire order, without `:status`. */
  readonly headers: HeaderMap;
  /** The content-length field, or -1. */
  readonly contentLength: number;
}

function checkRegular(name: string, value: string, streamId: number): void {
  const problem = regularFieldProblem(name, value);
  if (problem !== undefined) throw new Http2MalformedResponseError(problem, streamId);
}

/**
 * Checks a response's decoded header list against RFC 9113 8.2 and 8.3.2: exactly one `:status` of three digits,
 * first; no other pseudo-header; the regular field rules. Throws {@link Http2MalformedResponseError} (a stream
 * PROTOCOL_ERROR).
 *
 * @example
 * ```ts
 * const head = parseResponseHead(decoder.decode(block, 1), 1);
 * head.status; // 200
 * ```
 */
export function parseResponseHead(list: HeaderList, streamId: number): ResponseHead {
  const fields = list.fields;
  if (fields[0] !== ":status") throw new Http2MalformedResponseError("no :status first", streamId);
  const text = fields[1]!;
  if (text.length !== 3 || !/^[1-5][0-9][0-9]$/.test(text)) {
    throw new Http2MalformedResponseError(`:status "${text}"`, streamId);
  }
  let contentLength = -1;
  for (let i = 2; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) {
      throw new Http2MalformedResponseError(`pseudo-header ${name} in a response`, streamId);
    }
    checkRegular(name, value, streamId);
    if (name === "content-length") {
      const n = parseContentLength(value);
      if (n < 0 || (contentLength !== -1 && contentLength !== n)) {
        throw new Http2MalformedResponseError("content-length", streamId);
      }
      contentLength = n;
    }
  }
  const regular = new HeaderList(
    fields.slice(2),
    list.size,
    list.neverIndexed.filter((i) => i >= 1).map((i) => i - 1),
  );
  return { status: Number(text), headers: HeaderMap.fromSource(regular), contentLength };
}

/** Checks a response trailer section: no pseudo-headers, the regular field rules. */
export function parseResponseTrailers(list: HeaderList, streamId: number): HeaderMap {
  const fields = list.fields;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) === 0x3a) {
      throw new Http2MalformedResponseError(`pseudo-header ${name} in trailers`, streamId);
    }
    checkRegular(name, fields[i + 1]!, streamId);
  }
  return HeaderMap.fromSource(list);
}
