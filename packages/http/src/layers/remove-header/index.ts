import type { Service } from "@tessera/core";
import { assertHeaderName } from "../../header-validation.js";
import type { Request } from "../../request.js";
import type { Response } from "../../response.js";
import { type HttpLayer, httpLayer } from "../internal/http-layer.js";

/**
 * Remove headers (every field of each name, any case) from requests before the inner service sees them, in
 * place. A proxy drops what must not go upstream; a server drops what it does not trust.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { removeRequestHeaders } from "@tessera/http/remove-header";
 *
 * const proxy = stack(removeRequestHeaders("x-internal-user", "x-debug")).into(upstream);
 * ```
 */
export function removeRequestHeaders(...names: string[]): HttpLayer {
  for (const name of names) assertHeaderName(name);
  return httpLayer((inner) => ({
    serve(req: Request): Promise<Response> {
      const headers = req.headers;
      for (const name of names) headers.delete(name);
      return inner.serve(req);
    },
  }));
}

/**
 * Remove headers from responses (`Server`, `X-Powered-By`, internal debugging fields). A response that has
 * none of them is passed on as it is; one that does is copied first (`res.with`), since a handler may return
 * one constant response to every request.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { removeResponseHeaders } from "@tessera/http/remove-header";
 *
 * const app = stack(removeResponseHeaders("server", "x-powered-by")).into(handler);
 * ```
 */
export function removeResponseHeaders(...names: string[]): HttpLayer {
  for (const name of names) assertHeaderName(name);
  const strip = (res: Response): Response => {
    let copy: Response | undefined;
    for (const name of names) {
      if (!(copy ?? res).headers.has(name)) continue;
      copy ??= res.with({});
      copy.headers.delete(name);
    }
    return copy ?? res;
  };
  return httpLayer((inner: Service<Request, Response>) => ({
    serve: (req: Request): Promise<Response> => inner.serve(req).then(strip),
  }));
}
