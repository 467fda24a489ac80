import { InvalidAddressError, parseAuthority, parseHost } from "@tessera/net";
import { InvalidUriError, type UriErrorReason } from "./errors.js";

/**
 * The four forms of a request-target (RFC 9112 3.2): `/path?query` (origin), `http://host/path` (absolute,
 * to proxies), `host:port` (authority, CONNECT only) and `*` (asterisk, OPTIONS only).
 */
export type TargetForm = "origin" | "absolute" | "authority" | "asterisk";

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443 };

// Characters of a path: visible ASCII except "#" (a fragment is never sent), "?" (ends the path) and "\" (some
// servers treat it as "/", a path-normalization trick). The RFC 3986 grammar is stricter (no `"<>^{|}` either),
// but real clients send those, and they cannot change how the path splits.
const PATH = new Uint8Array(128);
// Characters of a query: visible ASCII except "#".
const QUERY = new Uint8Array(128);
for (let c = 0x21; c < 0x7f; c++) {
  QUERY[c] = c === 0x23 ? 0 : 1;
  PATH[c] = c === 0x23 || c === 0x3f || c === 0x5c ? 0 : 1;
}
// Fast-path tables: 1 for a character that needs no further thought in a path (resp. query); "%" and "?" are
// 0 there so they take the branch that handles them.
const PATH_PLAIN = PATH.slice();
const QUERY_PLAIN = QUERY.slice();
PATH_PLAIN[0x25] = 0;
QUERY_PLAIN[0x25] = 0;
const HEX = new Uint8Array(128);
for (const c of "0123456789abcdefABCDEF") HEX[c.charCodeAt(0)] = 1;
const SCHEME_START = /^[A-Za-z]/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const DIGITS = /^[0-9]+$/;

/**
 * A parsed request-target or URI. `path` and `query` are as sent (percent-encoding kept, not decoded).
 *
 * | form      | scheme    | authority     | host/port           | path        | query     |
 * |-----------|-----------|---------------|---------------------|-------------|-----------|
 * | origin    | undefined | undefined     | undefined           | `/a/b`      | `x=1`     |
 * | absolute  | `http`    | `example.com` | `example.com` / 80  | `/a` or `/` | or undef. |
 * | authority | undefined | `host:443`    | `host` / 443        | `""`        | undefined |
 * | asterisk  | undefined | undefined     | undefined           | `*`         | undefined |
 *
 * @example
 * ```ts
 * const uri = parseRequestTarget("http://Example.com:8080/a?b=1");
 * uri.form; // "absolute"
 * uri.host; // "example.com"
 * uri.port; // 8080
 * uri.path; // "/a"
 * uri.query; // "b=1"
 * ```
 */
export class Uri {
  readonly form: TargetForm;
  /** The scheme in lower case (absolute form only). */
  readonly scheme: string | undefined;
  /** The authority as written (`host`, `host:port`, `[::1]:80`), absolute and authority forms. */
  readonly authority: string | undefined;
  /** The host in lower case, without IPv6 brackets. */
  readonly host: string | undefined;
  /** The explicit port, else the scheme's default (80 for http/ws, 443 for https/wss), else undefined. */
  readonly port: number | undefined;
  /** The path (`/` for an absolute URI without one, `""` in authority form, `*` in asterisk form). */
  readonly path: string;
  /** The query without `?`, or undefined if there is no `?`. */
  readonly query: string | undefined;
  readonly #input: string;

  constructor(
    input: string,
    form: TargetForm,
    scheme: string | undefined,
    authority: string | undefined,
    host: string | undefined,
    port: number | undefined,
    path: string,
    query: string | undefined,
  ) {
    this.#input = input;
    this.form = form;
    this.scheme = scheme;
    this.authority = authority;
    this.host = host;
    this.port = port;
    this.path = path;
    this.query = query;
  }

  /** `path?query` (what an HTTP/1 client sends to an origin server, and HTTP/2's `:path`). */
  get pathAndQuery(): string {
    return this.query === undefined ? this.path : `${this.path}?${this.query}`;
  }

  /** The text that was parsed. */
  toString(): string {
    return this.#input;
  }
}

function fail(reason: UriErrorReason, input: string, detail: string, cause?: unknown): never {
  throw new InvalidUriError(reason, input, detail, cause === undefined ? undefined : { cause });
}

/** Check every character: visible ASCII only, no fragment. */
function checkCharacters(input: string): void {
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c > 0x20 && c < 0x7f) {
      if (c === 0x23) fail("fragment", input, "a fragment (#) is never part of a request");
      continue;
    }
    if (c === 0x20) fail("whitespace", input, `a space at index ${i}`);
    if (c < 0x20 || c === 0x7f) fail("control-character", input, `a control character at index ${i}`);
    fail("non-ascii", input, `a non-ASCII character at index ${i} (percent-encode it)`);
  }
}

/** Validate `input[start, end)` as a path or query: allowed characters and well-formed %XX. */
function checkPart(input: string, start: number, end: number, table: Uint8Array, what: string): void {
  for (let i = start; i < end; i++) {
    const c = input.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= end || HEX[input.charCodeAt(i + 1)] !== 1 || HEX[input.charCodeAt(i + 2)] !== 1) {
        fail("bad-percent-encoding", input, `"%" at index ${i} is not followed by two hex digits`);
      }
      i += 2;
      continue;
    }
    if (table[c] !== 1)
      fail("invalid-character", input, `${JSON.stringify(input[i])} is not allowed in the ${what}`);
  }
}

/** `/path?query` in one pass; a doubtful character goes through the precise (slower) checks. */
function originForm(target: string): Uri {
  const n = target.length;
  let q = -1;
  let table = PATH_PLAIN;
  for (let i = 1; i < n; i++) {
    const c = target.charCodeAt(i);
    if (table[c] === 1) continue;
    if (c === 0x3f && q < 0) {
      q = i;
      table = QUERY_PLAIN;
      continue;
    }
    if (
      c === 0x25 &&
      i + 2 < n &&
      HEX[target.charCodeAt(i + 1)] === 1 &&
      HEX[target.charCodeAt(i + 2)] === 1
    ) {
      i += 2;
      continue;
    }
    // This character is not allowed here: the precise checks throw the error that says why.
    checkCharacters(target);
    pathAndQuery(target, 0);
    fail("invalid-character", target, `unexpected character at index ${i}`);
  }
  if (q < 0) return new Uri(target, "origin", undefined, undefined, undefined, undefined, target, undefined);
  const path = target.slice(0, q);
  return new Uri(target, "origin", undefined, undefined, undefined, undefined, path, target.slice(q + 1));
}

/** Parse `/path?query` from `start` (the path must start with "/"). */
function pathAndQuery(input: string, start: number): [string, string | undefined] {
  const q = input.indexOf("?", start);
  const pathEnd = q < 0 ? input.length : q;
  checkPart(input, start, pathEnd, PATH, "path");
  if (q < 0) return [start === 0 ? input : input.slice(start), undefined];
  checkPart(input, q + 1, input.length, QUERY, "query");
  return [input.slice(start, q), input.slice(q + 1)];
}

function hostAndPort(
  input: string,
  authority: string,
  defaultPort: number | undefined,
): [string, number | undefined] {
  if (authority.includes("@")) {
    // RFC 9110 4.2.4: userinfo is deprecated in http(s) URIs and a classic phishing and confusion vector
    // ("http://trusted.com@evil.com/"); credentials belong in the Authorization header.
    fail("userinfo", input, "userinfo (user:password@) is not allowed; use the Authorization header");
  }
  if (authority === "") fail("missing-authority", input, "the host is empty");
  try {
    if (defaultPort !== undefined) {
      const parsed = parseAuthority(authority, { defaultPort });
      return [parsed.host, parsed.port];
    }
    const close = authority.startsWith("[") ? authority.indexOf("]") : -1;
    const hasPort = authority.indexOf(":", close + 1) >= 0;
    if (hasPort) {
      const parsed = parseAuthority(authority);
      return [parsed.host, parsed.port];
    }
    return [parseHost(authority), undefined];
  } catch (error) {
    if (error instanceof InvalidAddressError) {
      fail("invalid-authority", input, `bad authority ${JSON.stringify(authority)}: ${error.reason}`, error);
    }
    throw error;
  }
}

function absolute(input: string): Uri {
  const colon = input.indexOf(":");
  const scheme = input.slice(0, colon);
  if (!SCHEME.test(scheme)) fail("invalid-scheme", input, `${JSON.stringify(scheme)} is not a valid scheme`);
  if (input.charCodeAt(colon + 1) !== 0x2f || input.charCodeAt(colon + 2) !== 0x2f) {
    fail("missing-authority", input, "an absolute request-target needs //authority");
  }
  const start = colon + 3;
  let end = start;
  while (end < input.length) {
    const c = input.charCodeAt(end);
    if (c === 0x2f || c === 0x3f) break;
    end++;
  }
  const lower = scheme.toLowerCase();
  const authority = input.slice(start, end);
  const [host, port] = hostAndPort(input, authority, DEFAULT_PORTS[lower]);
  let path = "/";
  let query: string | undefined;
  if (end < input.length) {
    if (input.charCodeAt(end) === 0x2f) [path, query] = pathAndQuery(input, end);
    else {
      checkPart(input, end + 1, input.length, QUERY, "query");
      query = input.slice(end + 1);
    }
  }
  return new Uri(input, "absolute", lower, authority, host, port, path, query);
}

function authorityForm(input: string): Uri {
  // CONNECT names a host and a port, nothing else (RFC 9110 9.3.6): the port is required.
  if (input.includes("/") || input.includes("?")) {
    fail("invalid-authority", input, "an authority-form target is host:port only");
  }
  const close = input.startsWith("[") ? input.indexOf("]") : -1;
  if (input.indexOf(":", close + 1) < 0) fail("invalid-authority", input, "CONNECT needs host:port");
  const [host, port] = hostAndPort(input, input, undefined);
  return new Uri(input, "authority", undefined, input, host, port, "", undefined);
}

/**
 * Parse a request-target. With `method`, the form must be one that method allows: authority-form only for
 * CONNECT (which also accepts absolute-form, as HTTP/2 extended CONNECT does), asterisk-form only for OPTIONS.
 * Without `method` the form is inferred (`host:port` is authority-form).
 *
 * Policy: visible ASCII only (no spaces, controls or raw UTF-8); no fragment; `%` followed by two hex digits;
 * no `\` in the path; in absolute form a scheme per RFC 3986, a non-empty `//authority` with a valid host and
 * port (via `@tessera/net`) and no userinfo (RFC 9110 4.2.4). Throws {@link InvalidUriError} with a `reason`.
 *
 * @example
 * ```ts
 * parseRequestTarget("/search?q=a%20b").query; // "q=a%20b"
 * parseRequestTarget("example.com:443", "CONNECT").port; // 443
 * parseRequestTarget("*", "OPTIONS").form; // "asterisk"
 * parseRequestTarget("/a b"); // throws InvalidUriError (reason "whitespace")
 * ```
 */
export function parseRequestTarget(target: string, method?: string): Uri {
  if (target === "") fail("empty", target, "the request-target is empty");
  const first = target.charCodeAt(0);
  // The origin form is nearly all traffic: one pass over it, the precise checks only on a character that fails.
  if (first === 0x2f && method !== "CONNECT") return originForm(target);
  checkCharacters(target);
  if (first === 0x2f) {
    // CONNECT (the fast path above takes every other method).
    fail("wrong-form", target, "CONNECT needs an authority-form target (host:port)");
  }
  if (target === "*") {
    if (method !== undefined && method !== "OPTIONS") {
      fail("wrong-form", target, "the asterisk form is only for OPTIONS");
    }
    return new Uri(target, "asterisk", undefined, undefined, undefined, undefined, "*", undefined);
  }
  if (method === "CONNECT") {
    return target.includes("://") ? absolute(target) : authorityForm(target);
  }
  const colon = target.indexOf(":");
  if (colon > 0 && target.startsWith("//", colon + 1)) return absolute(target);
  if (method === undefined && colon >= 0) return authorityForm(target);
  if (colon > 0 && SCHEME_START.test(target)) {
    if (DIGITS.test(target.slice(colon + 1))) {
      fail("wrong-form", target, "the authority form (host:port) is only for CONNECT");
    }
    return absolute(target); // reports a missing //authority
  }
  return fail("wrong-form", target, "not an origin (/path), absolute (scheme://host/path) or valid target");
}

/**
 * Parse an absolute URI such as a client is given (`http://host:port/path?query`): absolute form only, same
 * policy as {@link parseRequestTarget}.
 *
 * @example
 * ```ts
 * parseAbsoluteUri("https://api.example.com/v1/items").port; // 443
 * parseAbsoluteUri("/relative"); // throws InvalidUriError (reason "wrong-form")
 * ```
 */
export function parseAbsoluteUri(url: string): Uri {
  if (url === "") fail("empty", url, "the URI is empty");
  checkCharacters(url);
  const colon = url.indexOf(":");
  if (colon <= 0 || !SCHEME_START.test(url))
    fail("wrong-form", url, "not an absolute URI (scheme://host/...)");
  return absolute(url);
}
