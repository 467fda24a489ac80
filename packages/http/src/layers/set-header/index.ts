import type { Service } from "@tessera/core";
import { assertHeaderName, assertHeaderValue } from "../../header-validation.js";
import type { Request } from "../../request.js";
import type { Response } from "../../response.js";
import { type HttpLayer, httpLayer } from "../internal/http-layer.js";

/**
 * How a header is set: `override` replaces any fields of that name, `if-absent` leaves a present one alone,
 * `append` adds a field after any present ones.
 */
export type SetHeaderMode = "override" | "if-absent" | "append";

/** Options of {@link setRequestHeader} and {@link setResponseHeader}. */
export interface SetHeaderOptions {
  /** Default `override`. */
  readonly mode?: SetHeaderMode;
}

/**
 * Set a header on every request before the inner service sees it: a fixed value, or one computed from the
 * request (return undefined to leave the request as it is). The request's headers are changed in place.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { setRequestHeader } from "@tessera/http/set-header";
 *
 * const client = stack(
 *   setRequestHeader("user-agent", "tessera/1.0", { mode: "if-absent" }),
 *   setRequestHeader("x-tenant", (req) => req.extensions.get(Tenant)),
 * ).into(httpClient);
 * ```
 */
export function setRequestHeader(
  name: string,
  value: string | ((req: Request) => string | undefined),
  options: SetHeaderOptions = {},
): HttpLayer {
  assertHeaderName(name);
  if (typeof value === "string") assertHeaderValue(name, value);
  const mode = checkMode(options.mode);
  return httpLayer((inner) => ({
    serve(req: Request): Promise<Response> {
      try {
        const v = typeof value === "string" ? value : value(req);
        if (v !== undefined) apply(req.headers, name, v, mode);
      } catch (error) {
        return Promise.reject(error);
      }
      return inner.serve(req);
    },
  }));
}

/**
 * Set a header on every response: a fixed value, or one computed from the response and its request (return
 * undefined to leave the response as it is). A changed response is a copy (`res.with`): a handler may return
 * one constant response to every request, and it must not be changed under the others.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { setResponseHeader } from "@tessera/http/set-header";
 *
 * const app = stack(
 *   setResponseHeader("x-content-type-options", "nosniff"),
 *   setResponseHeader("cache-control", "no-store", { mode: "if-absent" }),
 * ).into(handler);
 * ```
 */
export function setResponseHeader(
  name: string,
  value: string | ((res: Response, req: Request) => string | undefined),
  options: SetHeaderOptions = {},
): HttpLayer {
  assertHeaderName(name);
  if (typeof value === "string") assertHeaderValue(name, value);
  const mode = checkMode(options.mode);
  return httpLayer((inner) => new SetResponseHeaderService(inner, name, value, mode));
}

class SetResponseHeaderService implements Service<Request, Response> {
  readonly #inner: Service<Request, Response>;
  readonly #name: string;
  readonly #value: string | ((res: Response, req: Request) => string | undefined);
  readonly #mode: SetHeaderMode;

  constructor(
    inner: Service<Request, Response>,
    name: string,
    value: string | ((res: Response, req: Request) => string | undefined),
    mode: SetHeaderMode,
  ) {
    this.#inner = inner;
    this.#name = name;
    this.#value = value;
    this.#mode = mode;
  }

  serve(req: Request): Promise<Response> {
    const value = this.#value;
    if (typeof value === "string") {
      return this.#inner.serve(req).then((res) => this.#set(res, value));
    }
    return this.#inner.serve(req).then((res) => {
      const v = value(res, req);
      return v === undefined ? res : this.#set(res, v);
    });
  }

  #set(res: Response, value: string): Response {
    if (this.#mode === "if-absent" && res.headers.has(this.#name)) return res;
    const copy = res.with({});
    apply(copy.headers, this.#name, value, this.#mode);
    return copy;
  }
}

function apply(headers: Request["headers"], name: string, value: string, mode: SetHeaderMode): void {
  if (mode === "append") headers.append(name, value);
  else if (mode === "override" || !headers.has(name)) headers.set(name, value);
}

function checkMode(mode: SetHeaderMode | undefined): SetHeaderMode {
  const m = mode ?? "override";
  if (m !== "override" && m !== "if-absent" && m !== "append") {
    throw new TypeError(`set header: unknown mode ${JSON.stringify(m)}`);
  }
  return m;
}
