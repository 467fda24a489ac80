import { HeaderMap, isFieldValue } from "@tessera/http";
import { Http2MalformedRequestError } from "./errors.js";
import { parseContentLength, regularFieldProblem, validName, validValue } from "./field-rules.js";
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

function checkRegular(name: string, value: string, streamId: number): void {
  const problem = regularFieldProblem(name, value);
  if (problem !== undefined) throw new Http2MalformedRequestError(problem, streamId);
}

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
    if (name === "host") {
      // RFC 9113 8.3.1 (SHOULD): two different targets in one request would let a proxy and an origin disagree.
      // Pseudo-headers come first (checked above), so :authority is known by now.
      if (authority !== undefined && !sameAuthority(value, authority, scheme)) {
        throw new Http2MalformedRequestError("host differs from :authority", streamId);
      }
      hasHost = true;
    } else if (name === "content-length") {
      const n = parseContentLength(value);
      if (n < 0) throw new Http2MalformedRequestError("content-length", streamId);
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

/** Whether a host field names the same authority as `:authority`: equal up to case and the scheme's default port. */
function sameAuthority(host: string, authority: string, scheme: string | undefined): boolean {
  if (host === authority) return true;
  const a = withoutDefaultPort(host.toLowerCase(), scheme);
  const b = withoutDefaultPort(authority.toLowerCase(), scheme);
  return a === b;
}

function withoutDefaultPort(authority: string, scheme: string | undefined): string {
  const port = scheme === "https" ? ":443" : scheme === "http" ? ":80" : undefined;
  return port !== undefined && authority.endsWith(port) ? authority.slice(0, -port.length) : authority;
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
