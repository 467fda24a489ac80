import { Extensions, neverAborts, type Service, SignalKey, signalOf } from "@tessera/core";
import { Body } from "./body.js";
import { InvalidUriError } from "./errors.js";
import { HeaderMap } from "./header-map.js";
import { Request } from "./request.js";
import { Response } from "./response.js";
import { Status } from "./status.js";

// Conversions between Tessera's Request/Response and the WHATWG fetch ones (Node's global Request, Response,
// Headers, ReadableStream). They sit at the edge of an application, not on the hot path of a server, but still
// avoid copies: buffered bodies pass as bytes, streaming bodies as pull-based streams that read one chunk per
// read request (highWaterMark 0) and cancel the other side when cancelled. Trailers have no place in fetch and
// are dropped; fetch also lower-cases header names.

/** A WHATWG fetch handler, e.g. Hono's `app.fetch`. */
export type FetchHandler = (
  request: globalThis.Request,
) => globalThis.Response | Promise<globalThis.Response>;

/** Options of {@link fromFetchHandler} and {@link toFetchRequest}. */
export interface FetchInteropOptions {
  /**
   * The scheme of the URL given to the fetch handler when the request-target is not absolute (a server
   * receives `/path`). Default `"http"`.
   */
  readonly scheme?: string;
  /** The host of that URL when the request has no Host header. Default `"localhost"`. */
  readonly defaultHost?: string;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

function contentLength(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || !/^[0-9]{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/**
 * A pull-based web stream over a body: each read of the stream reads one chunk of the body; cancelling the
 * stream cancels the body.
 */
function toReadableStream(body: Body): ReadableStream<Uint8Array> {
  let iterator: AsyncIterator<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        iterator ??= body[Symbol.asyncIterator]();
        const result = await iterator.next();
        if (result.done === true) controller.close();
        else controller.enqueue(result.value);
      },
      cancel(reason) {
        if (iterator !== undefined) void iterator.return?.();
        else body.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Body init for fetch: bytes for a buffered body, null for an empty one, else a stream. */
function fetchBody(body: Body): Uint8Array | ReadableStream<Uint8Array> | null {
  if (body.length === 0) return null;
  return body.bytesIfBuffered() ?? toReadableStream(body);
}

function fetchHeaders(headers: HeaderMap): Headers {
  const result = new Headers();
  for (let i = 0; i < headers.size; i++) result.append(headers.name(i), headers.value(i));
  return result;
}

function headerMapOf(headers: Headers): HeaderMap {
  const map = new HeaderMap();
  // Fetch Headers iterate in sorted order, combined, except Set-Cookie, which comes one entry per cookie.
  for (const [name, value] of headers) map.append(name, value);
  return map;
}

function bodyOf(stream: ReadableStream<Uint8Array> | null, length: number | undefined): Body {
  if (stream === null) return Body.empty();
  return Body.fromIterable(stream, { length });
}

/**
 * A fetch `Request` for a Tessera request. The URL is the target if absolute, else
 * `scheme://host/target` with the Host header (or `defaultHost`). The body streams (fetch's `duplex: "half"`),
 * and the request's signal ({@link signalOf}) is passed on.
 *
 * @example
 * ```ts
 * const fetchReq = toFetchRequest(Request.post("/items", "x", { headers: { host: "api.local" } }));
 * fetchReq.url; // "http://api.local/items"
 * ```
 */
export function toFetchRequest(req: Request, options?: FetchInteropOptions): globalThis.Request {
  const uri = req.uri;
  let url: string;
  if (uri.form === "absolute") url = req.target;
  else if (uri.form === "origin") {
    const host = req.headers.get("host") ?? options?.defaultHost ?? "localhost";
    url = `${options?.scheme ?? "http"}://${host}${req.target}`;
  } else {
    throw new InvalidUriError(
      "wrong-form",
      req.target,
      `a fetch request cannot have an ${uri.form}-form target`,
    );
  }
  const method = req.method;
  const noBody = method === "GET" || method === "HEAD";
  if (noBody && req.body.length !== 0) req.body.cancel();
  const signal = signalOf(req);
  const init: RequestInit & { duplex?: "half" } = {
    method,
    headers: fetchHeaders(req.headers),
    body: noBody ? null : fetchBody(req.body),
    signal: signal === neverAborts() ? null : signal,
  };
  if (init.body instanceof ReadableStream) init.duplex = "half";
  return new globalThis.Request(url, init);
}

/**
 * A Tessera request for a fetch `Request`: origin-form target (`/path?query`) with a Host header from the URL
 * when absent, a streaming body, and the request's `signal` as the cancellation signal.
 *
 * @example
 * ```ts
 * const req = fromFetchRequest(new globalThis.Request("http://example.com/a?b=1"));
 * req.target; // "/a?b=1"
 * ```
 */
export function fromFetchRequest(request: globalThis.Request): Request {
  const url = new URL(request.url);
  const headers = headerMapOf(request.headers);
  if (!headers.has("host")) headers.append("host", url.host);
  const extensions = new Extensions().insert(SignalKey, request.signal);
  return new Request(
    request.method,
    `${url.pathname}${url.search}`,
    headers,
    bodyOf(request.body, contentLength(request.headers.get("content-length"))),
    "HTTP/1.1",
    extensions,
  );
}

/**
 * A fetch `Response` for a Tessera response. Buffered bodies pass as bytes; streaming ones as a pull-based
 * stream. Statuses fetch forbids a body for (204, 205, 304, 1xx) get none.
 *
 * @example
 * ```ts
 * await toFetchResponse(Response.text("hi")).text(); // "hi"
 * ```
 */
export function toFetchResponse(res: Response): globalThis.Response {
  let body: Uint8Array | ReadableStream<Uint8Array> | null = null;
  if (NULL_BODY_STATUS.has(res.status)) {
    if (res.body.length !== 0) res.body.cancel();
  } else {
    body = fetchBody(res.body);
  }
  return new globalThis.Response(body, {
    status: res.status,
    statusText: res.reason ?? Status.reasonPhrase(res.status) ?? "",
    headers: fetchHeaders(res.headers),
  });
}

/**
 * A Tessera response for a fetch `Response`, optionally answering `request` (its extensions are forked and its
 * version reused). The body streams; a valid Content-Length becomes the body's length.
 *
 * @example
 * ```ts
 * const res = fromFetchResponse(new globalThis.Response("hi", { status: 201 }));
 * res.status; // 201
 * ```
 */
export function fromFetchResponse(response: globalThis.Response, request?: Request): Response {
  const status = response.status;
  const reason =
    response.statusText !== "" && response.statusText !== Status.reasonPhrase(status)
      ? response.statusText
      : undefined;
  const body = NULL_BODY_STATUS.has(status)
    ? Body.empty()
    : bodyOf(response.body, contentLength(response.headers.get("content-length")));
  if (body === Body.empty() && response.body !== null) void response.body.cancel().catch(() => {});
  return new Response(
    status,
    headerMapOf(response.headers),
    body,
    request?.extensions.fork() ?? new Extensions(),
    request?.version ?? "HTTP/1.1",
    reason,
  );
}

/**
 * Wrap a fetch handler (Hono's `app.fetch`, itty-router, a Deno-style handler) as a Tessera service. Bodies
 * stream both ways; the request's cancellation signal becomes the fetch request's `signal`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * const app = new Hono().get("/hello", (c) => c.text("hi"));
 * const svc = fromFetchHandler(app.fetch);
 * const res = await svc.serve(Request.get("/hello", { headers: { host: "example.com" } }));
 * await res.body.text(); // "hi"
 * ```
 */
export function fromFetchHandler(
  handler: FetchHandler,
  options?: FetchInteropOptions,
): Service<Request, Response> {
  return {
    async serve(req: Request): Promise<Response> {
      const response = await handler(toFetchRequest(req, options));
      return fromFetchResponse(response, req);
    },
  };
}

/**
 * Expose a Tessera service as a fetch handler (for Bun, Deno, Cloudflare-style runtimes or any code that speaks
 * fetch).
 *
 * @example
 * ```ts
 * const fetchHandler = toFetchHandler(service((req: Request) => Response.text(`you asked for ${req.path}`)));
 * const res = await fetchHandler(new globalThis.Request("http://x/abc"));
 * await res.text(); // "you asked for /abc"
 * ```
 */
export function toFetchHandler(
  svc: Service<Request, Response>,
): (request: globalThis.Request) => Promise<globalThis.Response> {
  return async (request) => toFetchResponse(await svc.serve(fromFetchRequest(request)));
}
