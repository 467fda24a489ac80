import { type Extensible, Extensions } from "@tessera/core";
import { Body, type BodyInit } from "./body.js";
import { HeaderMap, type HeadersInit, trustedHeaderMap } from "./header-map.js";
import { assertHeaderValue } from "./header-validation.js";
import { Status } from "./status.js";
import type { Version } from "./version.js";

/** The request a response answers: its extensions are forked, its version reused. */
export interface RespondsTo {
  readonly extensions: Extensions;
  readonly version?: Version;
}

/** Options of {@link Response.create} and the shortcuts. */
export interface ResponseInit {
  /** Default 200 (204 for {@link Response.empty}). Validated: an integer in 100-999. */
  readonly status?: number;
  /** Validated unless a HeaderMap (used as is, and the shortcuts may add Content-Type to it). */
  readonly headers?: HeadersInit;
  /** A custom reason phrase (HTTP/1 only); default: the registered one. Validated like a header value. */
  readonly reason?: string;
  /**
   * The request this responds to: the response's extensions are a fork of the request's (what the handler
   * inserts stays off the request), and its version is the request's.
   */
  readonly request?: RespondsTo;
  /** Default: the request's version, else `"HTTP/1.1"`. */
  readonly version?: Version;
  /** Default: a fork of `request`'s extensions, else new ones. */
  readonly extensions?: Extensions;
}

/** What {@link Response.with} can change. */
export interface ResponseChanges {
  readonly status?: number;
  readonly reason?: string | undefined;
  readonly headers?: HeadersInit;
  readonly body?: BodyInit;
  readonly version?: Version;
  readonly extensions?: Extensions;
}

const TEXT_PLAIN = "text/plain; charset=utf-8";
const APPLICATION_JSON = "application/json";

function withContentType(init: ResponseInit | undefined, type: string): HeaderMap {
  // The common case, no headers given: a map of one constant field, with nothing to validate or look up.
  if (init?.headers === undefined) return trustedHeaderMap(["content-type"], [type]);
  const headers = HeaderMap.from(init.headers);
  if (!headers.has("content-type")) headers.append("content-type", type);
  return headers;
}

function extensionsFor(init: ResponseInit | undefined): Extensions {
  return init?.extensions ?? init?.request?.extensions.fork() ?? new Extensions();
}

/**
 * An HTTP response, the same for HTTP/1.1 and HTTP/2: status, optional reason phrase, headers, body, version and
 * extensions. One class with one fixed shape, like {@link Request}.
 *
 * Framing is not in the headers: a protocol sends Content-Length (or chunked, or HTTP/2 DATA frames) from
 * `body.length`, so `Response.text("hi")` carries only a Content-Type.
 *
 * A response forks its request's extensions (pass `request` in the init), so what a handler inserts on the
 * response is seen by the layers around it without leaking into the request.
 *
 * @example
 * ```ts
 * const handler = service((req: Request) =>
 *   req.path === "/health"
 *     ? Response.text("ok", { request: req })
 *     : Response.json({ error: "not found" }, { status: 404, request: req }),
 * );
 * ```
 */
export class Response implements Extensible {
  /** The status code, 100-999. */
  readonly status: number;
  /** A custom reason phrase, or undefined for the registered one (see {@link Response.reasonPhrase}). */
  readonly reason: string | undefined;
  readonly headers: HeaderMap;
  readonly body: Body;
  readonly version: Version;
  readonly extensions: Extensions;

  /**
   * A response from parts. Only the status is checked (cheap); headers come as a HeaderMap, which validated
   * them when they were set. Applications usually use {@link Response.create} or the shortcuts.
   *
   * @example
   * ```ts
   * new Response(204);
   * new Response(200, HeaderMap.fromPairs([["Content-Type", "text/csv"]]), Body.fromIterable(rows()));
   * ```
   */
  constructor(
    status: number,
    headers: HeaderMap = new HeaderMap(),
    body: Body = Body.empty(),
    extensions: Extensions = new Extensions(),
    version: Version = "HTTP/1.1",
    reason?: string,
  ) {
    Status.assert(status);
    this.status = status;
    this.reason = reason;
    this.headers = headers;
    this.body = body;
    this.version = version;
    this.extensions = extensions;
  }

  /**
   * A response from `init` and a body (default empty). The headers are used as given: no Content-Type is added.
   *
   * @example
   * ```ts
   * Response.create({ status: 201, headers: { location: "/items/7" }, request: req });
   * Response.create({ body: Body.fromIterable(stream, { length: size }), headers: { "content-type": "video/mp4" } });
   * ```
   */
  static create(init?: ResponseInit & { readonly body?: BodyInit }): Response {
    if (init?.reason !== undefined) assertHeaderValue("reason phrase", init.reason);
    return new Response(
      init?.status ?? 200,
      HeaderMap.from(init?.headers),
      Body.from(init?.body),
      extensionsFor(init),
      init?.version ?? init?.request?.version ?? "HTTP/1.1",
      init?.reason,
    );
  }

  /**
   * A text response, `Content-Type: text/plain; charset=utf-8` unless the init sets one.
   *
   * @example
   * ```ts
   * Response.text("hello", { request: req });
   * ```
   */
  static text(text: string, init?: ResponseInit): Response {
    return Response.#make(init, 200, withContentType(init, TEXT_PLAIN), Body.fromText(text));
  }

  /**
   * A JSON response, `Content-Type: application/json` unless the init sets one.
   *
   * @example
   * ```ts
   * Response.json({ id: 7 }, { status: 201 });
   * ```
   */
  static json(value: unknown, init?: ResponseInit): Response {
    return Response.#make(init, 200, withContentType(init, APPLICATION_JSON), Body.fromJson(value));
  }

  /**
   * A response without a body, status 204 by default.
   *
   * @example
   * ```ts
   * Response.empty(); // 204
   * Response.empty(404, { request: req });
   * ```
   */
  static empty(status = 204, init?: Omit<ResponseInit, "status">): Response {
    return Response.#make({ ...init, status }, status, HeaderMap.from(init?.headers), Body.empty());
  }

  /**
   * A redirect to `location` (validated as a header value), 302 by default.
   *
   * @example
   * ```ts
   * Response.redirect("/login", 303);
   * ```
   */
  static redirect(location: string, status = 302, init?: Omit<ResponseInit, "status">): Response {
    const headers = HeaderMap.from(init?.headers);
    headers.set("location", location);
    return Response.#make({ ...init, status }, status, headers, Body.empty());
  }

  static #make(init: ResponseInit | undefined, status: number, headers: HeaderMap, body: Body): Response {
    if (init?.reason !== undefined) assertHeaderValue("reason phrase", init.reason);
    return new Response(
      init?.status ?? status,
      headers,
      body,
      extensionsFor(init),
      init?.version ?? init?.request?.version ?? "HTTP/1.1",
      init?.reason,
    );
  }

  /** The reason phrase to send: the custom one, else the registered one, else `""`. */
  get reasonPhrase(): string {
    return this.reason ?? Status.reasonPhrase(this.status) ?? "";
  }

  /** A copy carrying `extensions`, sharing the body; headers are copied on write. */
  withExtensions(extensions: Extensions): this {
    return new Response(
      this.status,
      this.headers.clone(),
      this.body,
      extensions,
      this.version,
      this.reason,
    ) as this;
  }

  /**
   * A copy with some parts changed. Unchanged headers are copied on write; extensions are shared unless given.
   *
   * @example
   * ```ts
   * const gzipped = res.with({ body: compress(res.body), headers: newHeaders });
   * ```
   */
  with(changes: ResponseChanges): Response {
    if (changes.reason !== undefined) assertHeaderValue("reason phrase", changes.reason);
    return new Response(
      changes.status ?? this.status,
      changes.headers !== undefined ? HeaderMap.from(changes.headers) : this.headers.clone(),
      changes.body !== undefined ? Body.from(changes.body) : this.body,
      changes.extensions ?? this.extensions,
      changes.version ?? this.version,
      "reason" in changes ? changes.reason : this.reason,
    );
  }
}
