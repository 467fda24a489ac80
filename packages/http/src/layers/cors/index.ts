import type { Service } from "@tessera/core";
import { HeaderMap } from "../../header-map.js";
import { isToken } from "../../header-validation.js";
import type { Request } from "../../request.js";
import type { Response } from "../../response.js";
import { addVary } from "../internal/headers.js";
import { type HttpLayer, httpLayer } from "../internal/http-layer.js";
import { discardBody, respond } from "../internal/respond.js";

/** Options of {@link cors}. */
export interface CorsOptions {
  /**
   * The origins allowed to read responses: `"*"` for any (without credentials), a list of exact origins
   * (`"https://app.example.com"`), or a predicate.
   */
  readonly origin: "*" | readonly string[] | ((origin: string, req: Request) => boolean);
  /** The methods a preflight allows. Default `GET, HEAD, PUT, PATCH, POST, DELETE`. */
  readonly methods?: readonly string[];
  /**
   * The request headers a preflight allows: a list, or `"mirror"` to allow whatever the preflight asks for
   * (`Access-Control-Request-Headers`). Default `"mirror"`.
   */
  readonly allowHeaders?: readonly string[] | "mirror";
  /** Response headers the page may read beyond the CORS-safelisted ones. Default none. */
  readonly exposeHeaders?: readonly string[];
  /** Allow cookies and HTTP authentication (`Access-Control-Allow-Credentials: true`). Default false. */
  readonly credentials?: boolean;
  /** How long (seconds) a browser may cache a preflight answer. Default: not sent (the browser's 5 s). */
  readonly maxAge?: number;
}

const DEFAULT_METHODS = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"];

/**
 * Cross-origin resource sharing (the Fetch standard's CORS protocol) for a server called from browsers.
 *
 * - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered here with 204 and
 *   never reaches the inner service: for an allowed origin with `Access-Control-Allow-Origin`, `-Methods`,
 *   `-Headers`, `-Max-Age` and `-Credentials`; for another origin without them (the browser then refuses).
 * - Other requests go to the inner service; if their `Origin` is allowed the response gets
 *   `Access-Control-Allow-Origin` (the origin itself, or `*` when any origin is allowed without credentials),
 *   `-Credentials` and `-Expose-Headers`.
 * - Unless every origin gets the same answer (`"*"`), responses carry `Vary: Origin` so a cache does not hand
 *   one origin's answer to another; preflight answers vary on the request method and headers too.
 *
 * Credentials cannot be combined with `"*"` (browsers refuse it): list the origins or pass a predicate.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { cors } from "@tessera/http/cors";
 *
 * const api = stack(
 *   cors({ origin: ["https://app.example.com"], credentials: true, exposeHeaders: ["x-request-id"], maxAge: 600 }),
 * ).into(handler);
 * ```
 */
export function cors(options: CorsOptions): HttpLayer {
  const config = new CorsConfig(options);
  return httpLayer((inner) => new CorsService(inner, config));
}

class CorsConfig {
  readonly any: boolean;
  readonly allowed: (origin: string, req: Request) => boolean;
  readonly methods: string;
  readonly allowHeaders: string | undefined;
  readonly exposeHeaders: string | undefined;
  readonly credentials: boolean;
  readonly maxAge: string | undefined;

  constructor(options: CorsOptions) {
    const origin = options.origin;
    this.credentials = options.credentials === true;
    this.any = origin === "*";
    if (origin === "*") this.allowed = () => true;
    else if (typeof origin === "function") this.allowed = origin;
    else if (Array.isArray(origin)) {
      const set = new Set<string>(origin);
      this.allowed = (o) => set.has(o);
    } else throw new TypeError('cors: `origin` must be "*", a list of origins or a predicate');
    if (this.any && this.credentials) {
      throw new TypeError('cors: credentials cannot be allowed for any origin ("*"); list the origins');
    }
    const methods = options.methods ?? DEFAULT_METHODS;
    this.methods = tokenList("methods", methods);
    const allow = options.allowHeaders ?? "mirror";
    this.allowHeaders = allow === "mirror" ? undefined : tokenList("allowHeaders", allow, this.credentials);
    const expose = options.exposeHeaders ?? [];
    this.exposeHeaders =
      expose.length === 0 ? undefined : tokenList("exposeHeaders", expose, this.credentials);
    if (options.maxAge !== undefined) {
      if (!(Number.isSafeInteger(options.maxAge) && options.maxAge >= 0)) {
        throw new RangeError("cors: maxAge must be a whole number of seconds >= 0");
      }
      this.maxAge = String(options.maxAge);
    }
  }
}

function tokenList(what: string, items: readonly string[], credentials = false): string {
  for (const item of items) {
    if (item === "*" && credentials)
      throw new TypeError(`cors: "*" in ${what} means nothing with credentials`);
    if (item !== "*" && !isToken(item))
      throw new TypeError(`cors: ${JSON.stringify(item)} in ${what} is not a token`);
  }
  return items.join(", ");
}

class CorsService implements Service<Request, Response> {
  readonly #inner: Service<Request, Response>;
  readonly #config: CorsConfig;

  constructor(inner: Service<Request, Response>, config: CorsConfig) {
    this.#inner = inner;
    this.#config = config;
  }

  serve(req: Request): Promise<Response> {
    const config = this.#config;
    const origin = req.headers.get("origin");
    if (origin === undefined) {
      if (config.any) return this.#inner.serve(req);
      return this.#inner.serve(req).then(varyOnOrigin);
    }
    let allowed: boolean;
    try {
      allowed = config.allowed(origin, req);
    } catch (error) {
      return Promise.reject(error);
    }
    if (req.method === "OPTIONS" && req.headers.has("access-control-request-method")) {
      return Promise.resolve(this.#preflight(req, origin, allowed));
    }
    if (!allowed) return this.#inner.serve(req).then(varyOnOrigin);
    return this.#inner.serve(req).then((res) => {
      const copy = res.with({});
      const headers = copy.headers;
      headers.set("Access-Control-Allow-Origin", config.any ? "*" : origin);
      if (config.credentials) headers.set("Access-Control-Allow-Credentials", "true");
      if (config.exposeHeaders !== undefined)
        headers.set("Access-Control-Expose-Headers", config.exposeHeaders);
      if (!config.any) addVary(headers, "Origin");
      return copy;
    });
  }

  #preflight(req: Request, origin: string, allowed: boolean): Response {
    const config = this.#config;
    discardBody(req);
    const headers = new HeaderMap();
    if (!config.any) headers.append("Vary", "Origin");
    headers.append("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers");
    if (!allowed) return respond(req, 204, headers);
    headers.append("Access-Control-Allow-Origin", config.any ? "*" : origin);
    if (config.credentials) headers.append("Access-Control-Allow-Credentials", "true");
    headers.append("Access-Control-Allow-Methods", config.methods);
    const allowHeaders = config.allowHeaders ?? mirrored(req.headers.get("access-control-request-headers"));
    if (allowHeaders !== undefined) headers.append("Access-Control-Allow-Headers", allowHeaders);
    if (config.maxAge !== undefined) headers.append("Access-Control-Max-Age", config.maxAge);
    return respond(req, 204, headers);
  }
}

// What a preflight asked for, if it is a clean list of header names (else nothing is allowed).
function mirrored(requested: string | undefined): string | undefined {
  if (requested === undefined) return undefined;
  const names: string[] = [];
  for (const part of requested.split(",")) {
    const name = part.trim();
    if (name === "") continue;
    if (!isToken(name)) return undefined;
    names.push(name.toLowerCase());
  }
  return names.length === 0 ? undefined : names.join(", ");
}

function varyOnOrigin(res: Response): Response {
  const vary = res.headers.get("vary");
  if (vary !== undefined && /(?:^|,)\s*(?:origin|\*)\s*(?:,|$)/i.test(vary)) return res;
  const copy = res.with({});
  addVary(copy.headers, "Origin");
  return copy;
}
