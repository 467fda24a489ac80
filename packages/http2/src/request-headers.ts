import { HeaderMap, isFieldValue } from "@tessera/http";
import { Http2MalformedRequestError } from "./errors.js";
import { HeaderList } from "./header-list.js";

/** What a request's HEADERS carry once checked (RFC 9113 8.3.1). */
export interface RequestHead {
  readonly method: string;
  /** `:scheme` ("" for CONNECT). */
  readonly scheme: string;
  /** `:authority` ("" when absent). */
  readonly authority: string;
  /** `:path` for most methods; the authority for CONNECT (the target as HTTP/1.1 would carry it). */
  readonly target: string;
  /** The regular fields, in wire order, without pseudo-headers; `host` added from `:authority` when absent. */
  readonly headers: HeaderMap;
  /** The content-length field, or -1. */
  readonly contentLength: number;
}

// tchar of RFC 9110 5.6.2 without upper-case letters: an HTTP/2 field name must be lower case (RFC 9113 8.2.1).
const NAME_CHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") NAME_CHAR[c.charCodeAt(0)] = 1;

/** Fields that only mean something to one HTTP/1.1 hop (RFC 9113 8.2.2): malformed in HTTP/2. */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

function validName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || NAME_CHAR[c] === 0) return false;
  }
  return true;
}

/** RFC 9113 8.2.1: no NUL, CR or LF anywhere; no leading or trailing space or tab. */
function validValue(value: string): boolean {
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

function checkRegular(name: string, value: string, streamId: number): void {
  if (!validName(name)) {
    throw new Http2MalformedRequestError(
      name.length === 0 ? "empty field name" : `field name "${name}"`,
      streamId,
    );
  }
  if (!validValue(value)) throw new Http2MalformedRequestError(`value of "${name}"`, streamId);
  if (CONNECTION_SPECIFIC.has(name)) {
    throw new Http2MalformedRequestError(`connection-specific field "${name}"`, streamId);
  }
  if (name === "te" && value.toLowerCase() !== "trailers") {
    throw new Http2MalformedRequestError('te other than "trailers"', streamId);
  }
}

const DIGITS = /^[0-9]{1,15}$/;

/**
 * Checks a request's decoded header list against RFC 9113 8.2 and 8.3 and maps it to a {@link RequestHead}.
 * Throws {@link Http2MalformedRequestError} (a stream PROTOCOL_ERROR) for a malformed request.
 *
 * @example
 * ```ts
 * const head = parseRequestHead(decoder.decode(block, 1), 1);
 * head.method; // "GET"
 * head.headers.get("host"); // from :authority
 * ```
 */
export function parseRequestHead(list: HeaderList, streamId: number): RequestHead {
  const fields = list.fields;
  let method: string | undefined;
  let scheme: string | undefined;
  let authority: string | undefined;
  let path: string | undefined;
  let pseudo = 0;
  let hasHost = false;
  let contentLength = -1;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) {
      if (i !== pseudo * 2)
        throw new Http2MalformedRequestError(`pseudo-header ${name} after a field`, streamId);
      pseudo++;
      if (name === ":method") {
        if (method !== undefined) throw new Http2MalformedRequestError("repeated :method", streamId);
        method = value;
      } else if (name === ":scheme") {
        if (scheme !== undefined) throw new Http2MalformedRequestError("repeated :scheme", streamId);
        scheme = value;
      } else if (name === ":authority") {
        if (authority !== undefined) throw new Http2MalformedRequestError("repeated :authority", streamId);
        authority = value;
      } else if (name === ":path") {
        if (path !== undefined) throw new Http2MalformedRequestError("repeated :path", streamId);
        path = value;
      } else {
        throw new Http2MalformedRequestError(`pseudo-header ${name} in a request`, streamId);
      }
      if (!validValue(value)) throw new Http2MalformedRequestError(`value of ${name}`, streamId);
      continue;
    }
    checkRegular(name, value, streamId);
    if (name === "host") hasHost = true;
    else if (name === "content-length") {
      if (!DIGITS.test(value)) throw new Http2MalformedRequestError("content-length", streamId);
      const n = Number(value);
      if (contentLength !== -1 && contentLength !== n) {
        throw new Http2MalformedRequestError("conflicting content-length", streamId);
      }
      contentLength = n;
    }
  }
  if (method === undefined || method.length === 0 || !validName(method.toLowerCase())) {
    throw new Http2MalformedRequestError("missing or invalid :method", streamId);
  }
  let target: string;
  if (method === "CONNECT") {
    // RFC 9113 8.5: :authority only (extended CONNECT of RFC 8441 is not offered).
    if (scheme !== undefined || path !== undefined || authority === undefined || authority.length === 0) {
      throw new Http2MalformedRequestError("CONNECT needs :authority and no :scheme or :path", streamId);
    }
    target = authority;
  } else {
    if (scheme === undefined || scheme.length === 0)
      throw new Http2MalformedRequestError("missing :scheme", streamId);
    if (path === undefined || path.length === 0)
      throw new Http2MalformedRequestError("missing :path", streamId);
    if (path.charCodeAt(0) !== 0x2f && !(path === "*" && method === "OPTIONS")) {
      throw new Http2MalformedRequestError(":path not in origin form", streamId);
    }
    target = path;
  }
  const regular =
    pseudo === 0
      ? list
      : new HeaderList(
          fields.slice(pseudo * 2),
          list.size,
          list.neverIndexed.filter((i) => i >= pseudo).map((i) => i - pseudo),
        );
  const headers = HeaderMap.fromSource(regular);
  if (!hasHost && authority !== undefined && authority.length > 0) {
    // HeaderMap.append validates; a control char in :authority must be a malformed request, not a throw.
    if (!isFieldValue(authority)) throw new Http2MalformedRequestError("value of :authority", streamId);
    headers.append("host", authority);
  }
  return { method, scheme: scheme ?? "", authority: authority ?? "", target, headers, contentLength };
}

/**
 * Checks a trailer section (HEADERS after DATA, with END_STREAM): no pseudo-headers, and the same field rules as
 * the head. Throws {@link Http2MalformedRequestError}.
 */
export function parseTrailers(list: HeaderList, streamId: number): HeaderMap {
  const fields = list.fields;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) === 0x3a)
      throw new Http2MalformedRequestError(`pseudo-header ${name} in trailers`, streamId);
    checkRegular(name, fields[i + 1]!, streamId);
  }
  return HeaderMap.fromSource(list);
}
