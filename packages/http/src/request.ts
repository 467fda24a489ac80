import { type Extensible, Extensions, signalOf } from "@tessera/core";
import { Body, type BodyInit } from "./body.js";
import { HeaderMap, type HeadersInit } from "./header-map.js";
import { Method } from "./method.js";
import { parseRequestTarget, type Uri } from "./uri.js";
import type { Version } from "./version.js";

/** The fields of {@link Request.create}. Everything but `target` has a default. */
export interface RequestInit {
  /** Default `"GET"`. Validated (a token). */
  readonly method?: string;
  /** The request-target: `/path?query`, an absolute URI (what a client is given), `host:port` or `*`. */
  readonly target: string;
  /** Validated unless a HeaderMap (used as is). Default: none. */
  readonly headers?: HeadersInit;
  /** Default: {@link Body.empty}. */
  readonly body?: BodyInit;
  /** Default `"HTTP/1.1"`. */
  readonly version?: Version;
  /** Default: new, empty extensions. */
  readonly extensions?: Extensions;
}

/** Options of the method shortcuts ({@link Request.get} and friends). */
export type RequestOptions = Omit<RequestInit, "method" | "target" | "body">;

/** What {@link Request.with} can change. */
export interface RequestChanges {
  readonly method?: string;
  readonly target?: string;
  readonly headers?: HeadersInit;
  readonly body?: BodyInit;
  readonly version?: Version;
  readonly extensions?: Extensions;
}

/**
 * An HTTP request, the same for HTTP/1.1 and HTTP/2: method, request-target, headers, body, version and
 * extensions. One class with one fixed shape (a single hidden class for every request, methods on the
 * prototype), rather than object literals or factories returning closures.
 *
 * The target is kept as received and parsed only when `uri`, `path` or `query` is first read (and then
 * cached): most handlers route on the path, some never look, and no WHATWG `URL` is made. The cancellation
 * signal is the one in the extensions ({@link signalOf}): nothing is allocated for it per request.
 *
 * The constructor trusts its arguments (a protocol server passes what its parser validated); applications use
 * {@link Request.create}, {@link Request.get}, {@link Request.post}, ..., which validate.
 *
 * @example
 * ```ts
 * const req = Request.get("http://example.com/items?page=2", { headers: { accept: "application/json" } });
 * req.method; // "GET"
 * req.uri.host; // "example.com"
 * req.path; // "/items"
 * req.query; // "page=2"
 *
 * const post = Request.post("http://example.com/items", JSON.stringify({ name: "a" }), {
 *   headers: { "content-type": "application/json" },
 * });
 * await post.body.json(); // { name: "a" }
 * ```
 */
export class Request implements Extensible {
  /** The method, case-sensitive (`"GET"`). */
  readonly method: string;
  /** The request-target exactly as received or given. */
  readonly target: string;
  readonly headers: HeaderMap;
  readonly body: Body;
  readonly version: Version;
  readonly extensions: Extensions;
  #uri: Uri | undefined = undefined;

  /**
   * A request from trusted parts (not validated; see the class notes).
   *
   * @example
   * ```ts
   * // In a protocol server:
   * new Request(head.method, head.target, HeaderMap.fromSource(head.headers), body, "HTTP/1.1", conn.extensions.fork());
   * ```
   */
  constructor(
    method: string,
    target: string,
    headers: HeaderMap,
    body: Body,
    version: Version = "HTTP/1.1",
    extensions: Extensions = new Extensions(),
  ) {
    this.method = method;
    this.target = target;
    this.headers = headers;
    this.body = body;
    this.version = version;
    this.extensions = extensions;
  }

  /**
   * A request from `init`, validated: the method is a token, the target parses for that method (see
   * {@link parseRequestTarget}), and headers are checked.
   *
   * @example
   * ```ts
   * Request.create({ method: "OPTIONS", target: "*" });
   * Request.create({ method: "CONNECT", target: "example.com:443" });
   * ```
   */
  static create(init: RequestInit): Request {
    const method = init.method ?? "GET";
    Method.assert(method);
    const uri = parseRequestTarget(init.target, method);
    const req = new Request(
      method,
      init.target,
      HeaderMap.from(init.headers),
      Body.from(init.body),
      init.version ?? "HTTP/1.1",
      init.extensions ?? new Extensions(),
    );
    req.#uri = uri;
    return req;
  }

  /** A GET request. @example `Request.get("http://example.com/")` */
  static get(target: string, options?: RequestOptions): Request {
    return Request.create({ ...options, method: "GET", target });
  }

  /** A HEAD request. */
  static head(target: string, options?: RequestOptions): Request {
    return Request.create({ ...options, method: "HEAD", target });
  }

  /** A POST request with `body`. @example `Request.post("http://example.com/items", "hello")` */
  static post(target: string, body?: BodyInit, options?: RequestOptions): Request {
    return Request.create({ ...options, method: "POST", target, body });
  }

  /** A PUT request with `body`. */
  static put(target: string, body?: BodyInit, options?: RequestOptions): Request {
    return Request.create({ ...options, method: "PUT", target, body });
  }

  /** A PATCH request with `body`. */
  static patch(target: string, body?: BodyInit, options?: RequestOptions): Request {
    return Request.create({ ...options, method: "PATCH", target, body });
  }

  /** A DELETE request. */
  static delete(target: string, options?: RequestOptions): Request {
    return Request.create({ ...options, method: "DELETE", target });
  }

  /**
   * The parsed target, made on first access and cached. Throws {@link InvalidUriError} if the target does not
   * parse (a server answers 400).
   */
  get uri(): Uri {
    let uri = this.#uri;
    if (uri === undefined) {
      uri = parseRequestTarget(this.target, this.method);
      this.#uri = uri;
    }
    return uri;
  }

  /** The path of the target, as sent (not percent-decoded). See {@link Request.uri}. */
  get path(): string {
    return this.uri.path;
  }

  /** The query of the target without `?`, or undefined. See {@link Request.uri}. */
  get query(): string | undefined {
    return this.uri.query;
  }

  /** The request's cancellation signal: `signalOf(this)`. Aborts when the client goes away or a deadline passes. */
  get signal(): AbortSignal {
    return signalOf(this);
  }

  /**
   * A copy carrying `extensions`, sharing the body (headers are copied on write, so a layer changing the copy's
   * headers leaves this request's alone). The contract generic layers (retry, redirects) fork through.
   */
  withExtensions(extensions: Extensions): this {
    const copy = new Request(
      this.method,
      this.target,
      this.headers.clone(),
      this.body,
      this.version,
      extensions,
    );
    copy.#uri = this.#uri;
    return copy as this;
  }

  /**
   * A copy with some parts changed (a layer rewriting the target, replacing the body). Unchanged headers are
   * copied on write; extensions are shared unless given.
   *
   * @example
   * ```ts
   * const rewritten = req.with({ target: req.target.replace(/^\/api/, "") });
   * ```
   */
  with(changes: RequestChanges): Request {
    const method = changes.method ?? this.method;
    if (changes.method !== undefined) Method.assert(method);
    const copy = new Request(
      method,
      changes.target ?? this.target,
      changes.headers !== undefined ? HeaderMap.from(changes.headers) : this.headers.clone(),
      changes.body !== undefined ? Body.from(changes.body) : this.body,
      changes.version ?? this.version,
      changes.extensions ?? this.extensions,
    );
    if (changes.target === undefined && changes.method === undefined) copy.#uri = this.#uri;
    else if (changes.target !== undefined) copy.#uri = parseRequestTarget(copy.target, copy.method);
    return copy;
  }
}
