import { abortReason, forkInput, type Key, key, type Service, signalOf } from "@tessera/core";
import { Body } from "../../body.js";
import { Request } from "../../request.js";
import type { Response } from "../../response.js";
import { Status } from "../../status.js";
import { type RedirectHop, TooManyRedirectsError } from "../errors.js";
import { type HttpLayer, httpLayer } from "../internal/http-layer.js";

export { type RedirectHop, TooManyRedirectsError } from "../errors.js";

/**
 * The redirects followed to get a response, oldest first, on the final response's extensions. Absent when
 * the first response was not a followed redirect.
 */
export const RedirectChain: Key<readonly RedirectHop[]> = key<readonly RedirectHop[]>(
  "tessera.http.RedirectChain",
);

/** What {@link FollowRedirectOptions.shouldFollow} is asked about. */
export interface RedirectCandidate {
  /** The request that got the redirect. */
  readonly request: Request;
  /** The redirect response (3xx with a Location). */
  readonly response: Response;
  /** The absolute URL the Location resolves to (no fragment). */
  readonly location: string;
  /** True if `location` has another origin (scheme, host or port) than the request. */
  readonly crossOrigin: boolean;
}

/** Options of {@link followRedirect}. */
export interface FollowRedirectOptions {
  /** The most redirects followed for one call; one more fails with {@link TooManyRedirectsError}. Default 10. */
  readonly maxRedirects?: number;
  /**
   * Whether to follow one redirect (already known to be to http or https). Return false to get the 3xx
   * response instead. Default: follow.
   */
  readonly shouldFollow?: (candidate: RedirectCandidate) => boolean;
  /**
   * Request headers dropped when a redirect leads to another origin: credentials meant for the first origin
   * must not reach the next. Default `authorization`, `cookie`, `proxy-authorization`.
   */
  readonly sensitiveHeaders?: readonly string[];
}

const DEFAULT_SENSITIVE = ["authorization", "cookie", "proxy-authorization"];
// Headers that describe the body: they go when a redirect turns the request into a bodiless GET.
const CONTENT_HEADERS = [
  "content-length",
  "content-type",
  "content-encoding",
  "content-language",
  "content-location",
  "transfer-encoding",
];

/**
 * Client side: follow redirects (301, 302, 303, 307, 308 with a `Location`), up to `maxRedirects`.
 *
 * - 303 turns any method but HEAD into a GET without a body; 301 and 302 turn a POST into a GET without a body
 *   (what every browser does, RFC 9110 15.4); 307 and 308 keep the method and the body, which is sent again:
 *   only a body whose bytes are known (made from a string or bytes, or empty) can be, so a redirect of a
 *   streamed body is returned as it is rather than followed with a body already consumed.
 * - Each hop runs on a copy of the request with forked extensions (`forkInput`), so what a redirected attempt
 *   appended is not seen by the next. A redirect response's body is cancelled before the next hop.
 * - When the origin changes, `Authorization`, `Cookie` and `Proxy-Authorization` are dropped (see
 *   `sensitiveHeaders`), and a `Host` header is updated to the new authority.
 * - The hops are recorded on the final response as {@link RedirectChain}; past `maxRedirects` the call fails
 *   with {@link TooManyRedirectsError} (`ERR_HTTP_TOO_MANY_REDIRECTS`, with the chain).
 * - Only http and https locations are followed; a Location that does not parse or carries user:password@ is
 *   not followed (the 3xx is returned). A relative Location resolves against the request's absolute target,
 *   or `http://` + its Host header.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { followRedirect, RedirectChain } from "@tessera/http/follow-redirect";
 *
 * const client = stack(followRedirect({ maxRedirects: 5 })).into(httpClient);
 * const res = await client.serve(Request.get("http://example.com/old"));
 * res.extensions.get(RedirectChain); // [{ url: "http://example.com/old", status: 301, location: "..." }]
 * ```
 */
export function followRedirect(options: FollowRedirectOptions = {}): HttpLayer {
  const max = options.maxRedirects ?? 10;
  if (!(Number.isInteger(max) && max >= 0)) {
    throw new RangeError("followRedirect: maxRedirects must be an integer >= 0");
  }
  const sensitive = (options.sensitiveHeaders ?? DEFAULT_SENSITIVE).map((h) => h.toLowerCase());
  return httpLayer((inner) => new FollowRedirectService(inner, max, sensitive, options.shouldFollow));
}

class FollowRedirectService implements Service<Request, Response> {
  readonly #inner: Service<Request, Response>;
  readonly #max: number;
  readonly #sensitive: readonly string[];
  readonly #shouldFollow: ((candidate: RedirectCandidate) => boolean) | undefined;

  constructor(
    inner: Service<Request, Response>,
    max: number,
    sensitive: readonly string[],
    shouldFollow: ((candidate: RedirectCandidate) => boolean) | undefined,
  ) {
    this.#inner = inner;
    this.#max = max;
    this.#sensitive = sensitive;
    this.#shouldFollow = shouldFollow;
  }

  async serve(req: Request): Promise<Response> {
    // Taken before the first hop reads the body: the bytes to send again on a 307/308 (undefined if streamed).
    const replay = req.body.bytesIfBuffered();
    const signal = signalOf(req);
    // Each hop is built from the previous one as this layer made it, not as the layers below changed it (they
    // change their copy's headers in place, and would otherwise add a second X-Forwarded-For, say).
    let hop = req;
    let chain: RedirectHop[] | undefined;
    for (;;) {
      const res = await this.#inner.serve(
        hop === req ? forkInput(req) : hop.withExtensions(req.extensions.fork()),
      );
      const next = Status.isRedirect(res.status) ? this.#next(hop, res, replay) : undefined;
      if (next === undefined) {
        if (chain !== undefined) res.extensions.insert(RedirectChain, chain);
        return res;
      }
      chain ??= [];
      chain.push({ url: next.from, status: res.status, location: next.request.target });
      // The redirect's own body is not wanted; stop its producer (the connection is freed or closed).
      res.body.cancel();
      if (chain.length > this.#max) throw new TooManyRedirectsError(this.#max, chain);
      if (signal.aborted) throw abortReason(signal);
      hop = next.request;
    }
  }

  /** The request of the next hop after `hop` got `res`, or undefined when this redirect is not followed. */
  #next(
    hop: Request,
    res: Response,
    replay: Uint8Array | undefined,
  ): { request: Request; from: string } | undefined {
    const location = res.headers.get("location");
    if (location === undefined) return undefined;
    const from = absoluteUrl(hop);
    let url: URL;
    try {
      url = from === undefined ? new URL(location) : new URL(location, from);
    } catch {
      return undefined;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    if (url.username !== "" || url.password !== "") return undefined;
    url.hash = "";
    const target = url.href;
    const crossOrigin = from === undefined || new URL(from).origin !== url.origin;
    if (this.#shouldFollow?.({ request: hop, response: res, location: target, crossOrigin }) === false) {
      return undefined;
    }

    const status = res.status;
    let method = hop.method;
    let body: Body | undefined;
    if ((status === 303 && method !== "HEAD") || ((status === 301 || status === 302) && method === "POST")) {
      method = "GET";
    } else if (hop.body.length !== 0) {
      // The method (and so the body) stays: send the same bytes again, if they are known.
      if (replay === undefined) return undefined;
      body = Body.fromBytes(replay);
    }
    const headers = hop.headers.clone();
    if (body === undefined) for (const name of CONTENT_HEADERS) headers.delete(name);
    if (crossOrigin) for (const name of this.#sensitive) headers.delete(name);
    if (headers.has("host")) headers.set("Host", url.host);
    try {
      // Its extensions are never used: each call of the inner service gets a fork of the caller's.
      const request = Request.create({
        method,
        target,
        headers,
        body: body ?? Body.empty(),
        version: hop.version,
        extensions: hop.extensions,
      });
      return { request, from: from ?? target };
    } catch {
      // A Location our URI rules refuse (a character they do not allow): not followed.
      return undefined;
    }
  }
}

/** The request's URL: its absolute-form target, or http:// + its Host header and path. */
function absoluteUrl(req: Request): string | undefined {
  const uri = req.uri;
  if (uri.form === "absolute") return req.target;
  const host = req.headers.get("host");
  if (host === undefined || uri.form !== "origin") return undefined;
  return `http://${host}${req.target}`;
}
