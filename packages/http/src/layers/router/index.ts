import { type Key, type KindCheck, type KindResult, key, type Same, type Service } from "@tessera/core";
import { HeaderMap } from "../../header-map.js";
import { Method } from "../../method.js";
import type { Request } from "../../request.js";
import type { Response } from "../../response.js";
import { InvalidRouteError } from "../errors.js";
import { discardBody, respond } from "../internal/respond.js";

export { InvalidRouteError } from "../errors.js";

/** The route a request matched: its pattern and the values of its parameters (percent-decoded). */
export interface RouteMatch {
  /** The pattern as registered, e.g. `/users/:id`. */
  readonly pattern: string;
  /** `{ id: "42" }` for `/users/42`; a wildcard's value is under its name (`"*"` when unnamed). */
  readonly params: Readonly<Record<string, string>>;
}

/** The route a request matched, on its extensions (set by a {@link Router} before it calls the route). */
export const RouteMatch: Key<RouteMatch> = key<RouteMatch>("tessera.http.RouteMatch");

type Segments<P extends string> = P extends `${infer Head}/${infer Rest}` ? Head | Segments<Rest> : P;
type ParamName<S> = S extends `:${infer N}` ? N : S extends `*${infer N}` ? (N extends "" ? "*" : N) : never;

/**
 * The parameters of a pattern, as a type: `PathParams<"/users/:id/files/*path">` is
 * `{ readonly id: string; readonly path: string }`.
 */
export type PathParams<P extends string> = string extends P
  ? Readonly<Record<string, string>>
  : { readonly [K in ParamName<Segments<P>>]: string };

/**
 * The parameters of the route `req` matched (empty if none), typed by the pattern when it is given.
 *
 * @example
 * ```ts
 * const { id } = routeParams(req, "/users/:id"); // id: string
 * ```
 */
export function routeParams<P extends string = string>(req: Request, _pattern?: P): PathParams<P> {
  return (req.extensions.get(RouteMatch)?.params ?? EMPTY) as PathParams<P>;
}

/** What a route runs: a service, or a function given the request and its typed parameters. */
export type RouteHandler<P extends string> =
  | Service<Request, Response>
  | ((req: Request, params: PathParams<P>) => Response | PromiseLike<Response>);

/** Options of {@link router}. */
export interface RouterOptions {
  /** Answer HEAD with a route's GET service when it has no HEAD of its own (RFC 9110 9.3.2). Default true. */
  readonly autoHead?: boolean;
  /** Answer OPTIONS with 204 and `Allow` when a route has no OPTIONS of its own. Default true. */
  readonly autoOptions?: boolean;
  /** What serves a path no route matches, when the router is used as a service. Default: a bodiless 404. */
  readonly notFound?: Service<Request, Response>;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
const STANDARD_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** The routes of one path shape, by method. */
class Terminal {
  readonly pattern: string;
  readonly names: readonly string[];
  readonly byMethod = new Map<string, Service<Request, Response>>();
  any: Service<Request, Response> | undefined = undefined;
  allow = "";
  /** The match of a route without parameters: one object for every request. */
  readonly fixed: RouteMatch | undefined;

  constructor(pattern: string, names: readonly string[]) {
    this.pattern = pattern;
    this.names = names;
    this.fixed = names.length === 0 ? Object.freeze({ pattern, params: EMPTY }) : undefined;
  }
}

/** A node of the segment trie. Static children are tried first, then a parameter, then a wildcard. */
class Node {
  statics: Map<string, Node> | undefined = undefined;
  param: Node | undefined = undefined;
  wildcard: Terminal | undefined = undefined;
  terminal: Terminal | undefined = undefined;
}

/**
 * A request router, and both a service and a layer:
 *
 * - as a **service** (`router.serve(req)`), a path no route matches gets a 404 (or `notFound`);
 * - as a **layer** (`stack(router).into(fallback)`), such requests go to the inner service instead.
 *
 * Patterns are paths whose segments are literals, `:name` parameters (one non-empty segment) or, as the last
 * segment, a wildcard `*` / `*name` (the rest of the path, possibly empty: `/static/*` matches `/static/` and
 * `/static/a/b.css`, not `/static`). Matching is on the raw path, segment by segment, through a trie built at
 * registration: a lookup costs one map probe per segment (a single probe for paths of routes without
 * parameters), not a scan of every route. When several routes fit, literals win over parameters and
 * parameters over wildcards, segment by segment; the method is checked once the path has matched (so with
 * `GET /users/me` and `DELETE /users/:id`, `DELETE /users/me` is a 405). Parameter values, wildcards included,
 * are percent-decoded (a malformed encoding is a 400): `%2F` becomes `/`, so sanitize a wildcard used as a
 * file path.
 *
 * The matched route goes on the request's extensions as {@link RouteMatch} (read it with {@link routeParams}).
 * A path that matches with a method no route has gets 405 with `Allow`. HEAD runs the GET route when the
 * route has no HEAD (the protocol server sends no body to HEAD), and OPTIONS gets 204 with `Allow`.
 *
 * @example
 * ```ts
 * import { router } from "@tessera/http/router";
 *
 * const app = router()
 *   .get("/users/:id", (req, { id }) => Response.json({ id }, { request: req }))
 *   .post("/users", createUser)
 *   .get("/static/*path", files);
 * await app.serve(Request.get("http://x.test/users/42")); // 200 {"id":"42"}
 * await app.serve(Request.delete("http://x.test/users/42")); // 405, Allow: GET, HEAD, OPTIONS
 * ```
 */
export class Router implements Service<Request, Response> {
  /** Type-only: the layer kind (it keeps `Service<Request, Response>`). */
  declare readonly "~kind": Same<Request, Response>;
  readonly #root = new Node();
  readonly #exact = new Map<string, Terminal>();
  readonly #autoHead: boolean;
  readonly #autoOptions: boolean;
  readonly #notFound: Service<Request, Response> | undefined;

  constructor(options: RouterOptions = {}) {
    this.#autoHead = options.autoHead ?? true;
    this.#autoOptions = options.autoOptions ?? true;
    this.#notFound = options.notFound;
  }

  /**
   * Add a route for `methods` (one, several, or `"*"` for any method) at `pattern`. Throws
   * {@link InvalidRouteError} for a malformed pattern, a method already routed at this path, or parameter names
   * that differ from another route of the same shape.
   */
  route<P extends string>(methods: string | readonly string[], pattern: P, handler: RouteHandler<P>): this {
    const list = typeof methods === "string" ? [methods] : methods;
    const terminal = this.#terminal(pattern);
    const svc = toService(handler);
    for (const method of list) {
      if (method === "*") {
        if (terminal.any !== undefined) throw new InvalidRouteError(pattern, "already routed for any method");
        terminal.any = svc;
        continue;
      }
      Method.assert(method);
      if (terminal.byMethod.has(method)) {
        throw new InvalidRouteError(pattern, `${method} is already routed (as ${terminal.pattern})`);
      }
      terminal.byMethod.set(method, svc);
    }
    this.#refreshAllow(terminal);
    return this;
  }

  /** A GET route (HEAD too, unless the route has its own HEAD). */
  get<P extends string>(pattern: P, handler: RouteHandler<P>): this {
    return this.route("GET", pattern, handler);
  }
  head<P extends string>(pattern: P, handler: RouteHandler<P>): this {
    return this.route("HEAD", pattern, handler);
  }
  post<P extends string>(pattern: P, handler: RouteHandler<P>): this {
    return this.route("POST", pattern, handler);
  }
  put<P extends string>(pattern: P, handler: RouteHandler<P>): this {
    return this.route("PUT", pattern, handler);
  }
  patch<P extends string>(pattern: P, handler: RouteHandler<P>): this {
    return this.route("PATCH", pattern, handler);
  }
  delete<P extends string>(pattern: P, handler: RouteHandler<P>): this {
    return this.route("DELETE", pattern, handler);
  }
  options<P extends string>(pattern: P, handler: RouteHandler<P>): this {
    return this.route("OPTIONS", pattern, handler);
  }
  /** A route for every method. */
  all<P extends string>(pattern: P, handler: RouteHandler<P>): this {
    return this.route("*", pattern, handler);
  }

  /** Route `req`; a path no route matches gets `notFound` or a 404. */
  serve(req: Request): Promise<Response> {
    return this.#dispatch(req, this.#notFound);
  }

  /** This router in front of `inner`: paths no route matches go to `inner`. */
  layer<I, O>(
    inner: Service<I, O> & KindCheck<Same<Request, Response>, I, O>,
  ): KindResult<Same<Request, Response>, I, O> {
    const fallback = inner as unknown as Service<Request, Response>;
    const routed: Service<Request, Response> = { serve: (req) => this.#dispatch(req, fallback) };
    return routed as unknown as KindResult<Same<Request, Response>, I, O>;
  }

  #dispatch(req: Request, fallback: Service<Request, Response> | undefined): Promise<Response> {
    let path: string;
    try {
      path = req.path;
    } catch (error) {
      return Promise.reject(error);
    }
    let terminal = this.#exact.get(path);
    let values: string[] | undefined;
    if (terminal === undefined && path.charCodeAt(0) === 0x2f) {
      values = [];
      terminal = find(this.#root, path, 1, values);
    }
    if (terminal === undefined)
      return fallback !== undefined ? fallback.serve(req) : Promise.resolve(respond(req, 404));

    const method = req.method;
    let svc = terminal.byMethod.get(method);
    if (svc === undefined && method === "HEAD" && this.#autoHead) svc = terminal.byMethod.get("GET");
    svc ??= terminal.any;
    if (svc === undefined) {
      discardBody(req);
      const status = method === "OPTIONS" && this.#autoOptions ? 204 : 405;
      return Promise.resolve(respond(req, status, new HeaderMap([["Allow", terminal.allow]])));
    }

    let match = terminal.fixed;
    if (match === undefined) {
      const params: Record<string, string> = {};
      const names = terminal.names;
      for (let i = 0; i < names.length; i++) {
        const raw = values![i]!;
        let value = raw;
        if (raw.includes("%")) {
          try {
            value = decodeURIComponent(raw);
          } catch {
            // %XX that is not UTF-8: the client's path is broken.
            discardBody(req);
            return Promise.resolve(respond(req, 400));
          }
        }
        params[names[i]!] = value;
      }
      match = { pattern: terminal.pattern, params };
    }
    req.extensions.insert(RouteMatch, match);
    return svc.serve(req);
  }

  #terminal(pattern: string): Terminal {
    if (typeof pattern !== "string" || pattern.charCodeAt(0) !== 0x2f) {
      throw new InvalidRouteError(String(pattern), 'a pattern starts with "/"');
    }
    const segments = pattern.slice(1).split("/");
    const names: string[] = [];
    let node = this.#root;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      if (segment.startsWith("*")) {
        if (i !== segments.length - 1)
          throw new InvalidRouteError(pattern, "a wildcard must be the last segment");
        const name = segment.length === 1 ? "*" : segment.slice(1);
        checkName(pattern, name, names);
        names.push(name);
        node.wildcard ??= new Terminal(pattern, names.slice());
        return this.#check(node.wildcard, pattern, names);
      }
      if (segment.startsWith(":")) {
        const name = segment.slice(1);
        checkName(pattern, name, names);
        names.push(name);
        node.param ??= new Node();
        node = node.param;
        continue;
      }
      if (segment.includes("*") || segment.includes(":")) {
        throw new InvalidRouteError(
          pattern,
          `":" and "*" start a whole segment (in ${JSON.stringify(segment)})`,
        );
      }
      node.statics ??= new Map();
      let next = node.statics.get(segment);
      if (next === undefined) {
        next = new Node();
        node.statics.set(segment, next);
      }
      node = next;
    }
    if (node.terminal === undefined) {
      node.terminal = new Terminal(pattern, names.slice());
      if (names.length === 0) this.#exact.set(pattern, node.terminal);
    }
    return this.#check(node.terminal, pattern, names);
  }

  #check(terminal: Terminal, pattern: string, names: readonly string[]): Terminal {
    if (terminal.names.length !== names.length || terminal.names.some((n, i) => n !== names[i])) {
      throw new InvalidRouteError(
        pattern,
        `its parameters (${names.join(", ")}) differ from those of ${terminal.pattern} at the same path`,
      );
    }
    return terminal;
  }

  #refreshAllow(terminal: Terminal): void {
    const methods = new Set(terminal.byMethod.keys());
    if (this.#autoHead && methods.has("GET")) methods.add("HEAD");
    if (this.#autoOptions) methods.add("OPTIONS");
    // Standard methods in a stable order, then any others as registered.
    const ordered: string[] = STANDARD_METHODS.filter((m) => methods.has(m));
    for (const m of methods) if (!ordered.includes(m)) ordered.push(m);
    terminal.allow = ordered.join(", ");
  }
}

function checkName(pattern: string, name: string, seen: readonly string[]): void {
  if (!/^[A-Za-z_$][\w$]*$/.test(name) && name !== "*") {
    throw new InvalidRouteError(pattern, `${JSON.stringify(name)} is not a parameter name`);
  }
  if (seen.includes(name))
    throw new InvalidRouteError(pattern, `parameter ${JSON.stringify(name)} appears twice`);
}

/** The terminal `path` leads to from `node` (`start` is the index after a "/"), collecting parameter values. */
function find(node: Node, path: string, start: number, values: string[]): Terminal | undefined {
  const slash = path.indexOf("/", start);
  const last = slash < 0;
  const end = last ? path.length : slash;
  const segment = path.slice(start, end);
  const child = node.statics?.get(segment);
  if (child !== undefined) {
    const t = last ? child.terminal : find(child, path, end + 1, values);
    if (t !== undefined) return t;
  }
  const param = node.param;
  if (param !== undefined && end > start) {
    const depth = values.length;
    values.push(segment);
    const t = last ? param.terminal : find(param, path, end + 1, values);
    if (t !== undefined) return t;
    values.length = depth;
  }
  const wildcard = node.wildcard;
  if (wildcard !== undefined) {
    values.push(path.slice(start));
    return wildcard;
  }
  return undefined;
}

function toService<P extends string>(handler: RouteHandler<P>): Service<Request, Response> {
  if (typeof handler !== "function") return handler;
  return {
    serve(req: Request): Promise<Response> {
      try {
        return Promise.resolve(handler(req, routeParams<P>(req)));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}

/**
 * A new, empty {@link Router}. Add routes with `.get`, `.post`, ..., `.route(methods, pattern, handler)`.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { router } from "@tessera/http/router";
 *
 * const api = router().get("/health", () => Response.text("ok"));
 * const app = stack(cors({ origin: "*" }), api).into(staticFiles); // unmatched paths: staticFiles
 * ```
 */
export function router(options?: RouterOptions): Router {
  return new Router(options);
}
