import { Body } from "../../body.js";
import { HeaderMap } from "../../header-map.js";
import { assertHeaderName } from "../../header-validation.js";
import type { Request } from "../../request.js";
import { Response } from "../../response.js";
import { type HttpLayer, httpLayer } from "../internal/http-layer.js";
import { discardBody } from "../internal/respond.js";

/** Options of {@link requiredHeader}. */
export interface RequiredHeaderOptions {
  /** Also refuse a present value this returns false for (a malformed API key, say). Default: any value. */
  readonly validate?: (value: string, req: Request) => boolean;
  /** The status of the refusal. Default 400. */
  readonly status?: number;
}

/**
 * Refuse requests without the header `name` (or with a value `validate` rejects): they get a 400 (or `status`)
 * with a short plain-text reason naming the header, and the inner service is not called. The request's body,
 * which nobody will read, is cancelled.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { requiredHeader } from "@tessera/http/required-header";
 *
 * const api = stack(requiredHeader("x-api-version", { validate: (v) => v === "2" })).into(handler);
 * // no X-Api-Version: 400 "missing required header x-api-version"
 * ```
 */
export function requiredHeader(name: string, options: RequiredHeaderOptions = {}): HttpLayer {
  assertHeaderName(name);
  const validate = options.validate;
  const status = options.status ?? 400;
  const missing = `missing required header ${name.toLowerCase()}`;
  const invalid = `invalid value for header ${name.toLowerCase()}`;
  return httpLayer((inner) => ({
    serve(req: Request): Promise<Response> {
      let problem: string | undefined;
      try {
        const value = req.headers.get(name);
        if (value === undefined) problem = missing;
        else if (validate !== undefined && !validate(value, req)) problem = invalid;
      } catch (error) {
        return Promise.reject(error);
      }
      if (problem === undefined) return inner.serve(req);
      discardBody(req);
      const headers = new HeaderMap([["Content-Type", "text/plain; charset=utf-8"]]);
      return Promise.resolve(
        new Response(status, headers, Body.fromText(problem), req.extensions.fork(), req.version),
      );
    },
  }));
}
