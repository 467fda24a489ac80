import { errorCode, isTesseraError, type Service } from "@tessera/core";
import { Body } from "../../body.js";
import { HeaderMap } from "../../header-map.js";
import type { Request } from "../../request.js";
import { Response } from "../../response.js";
import { Status } from "../../status.js";
import { type HttpLayer, httpLayer } from "../internal/http-layer.js";
import { discardBody } from "../internal/respond.js";

/** Options of {@link catchErrors}. */
export interface CatchErrorsOptions {
  /**
   * Called with every error turned into a response, and the status chosen (log it here: the client sees only
   * the status). A hook that throws is ignored.
   */
  readonly onError?: (error: unknown, req: Request, status: number) => void;
  /** Choose the status for an error; return undefined for the default ({@link statusOfError}). */
  readonly statusFor?: (error: unknown) => number | undefined;
  /**
   * Make the response for an error. Default: the status, its reason phrase as a plain-text body, and
   * `Retry-After` when the error says when to retry (`retryAfterMs`).
   */
  readonly render?: (status: number, error: unknown, req: Request) => Response;
}

// Errors of other packages, matched by their stable code (this package does not import @tessera/layers).
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  ERR_OVERLOADED: 503,
  ERR_SHUTDOWN: 503,
  ERR_CIRCUIT_OPEN: 503,
  ERR_RETRY_BUDGET_EXHAUSTED: 503,
  ERR_RATE_LIMITED: 429,
  ERR_TIMEOUT: 504,
};

/**
 * The status a server answers an error with: the `status` a Tessera error declares (every error of
 * `@tessera/http` has one: 413 for `BodyTooLargeError`, 400 for a bad URI), else by `code`: `ERR_OVERLOADED`,
 * `ERR_SHUTDOWN`, `ERR_CIRCUIT_OPEN` and `ERR_RETRY_BUDGET_EXHAUSTED` 503, `ERR_RATE_LIMITED` 429,
 * `ERR_TIMEOUT` 504; anything else 500.
 *
 * @example
 * ```ts
 * statusOfError(new BodyTooLargeError(1024)); // 413
 * statusOfError(Object.assign(new Error("busy"), { code: "ERR_OVERLOADED" })); // 503
 * statusOfError(new TypeError("bug")); // 500
 * ```
 */
export function statusOfError(error: unknown): number {
  if (isTesseraError(error)) {
    const status = (error as { status?: unknown }).status;
    if (typeof status === "number" && Number.isInteger(status) && status >= 400 && status <= 599)
      return status;
  }
  const code = errorCode(error);
  return (code !== undefined ? STATUS_BY_CODE[code] : undefined) ?? 500;
}

/**
 * Turn a failed call into an error response, so nothing inside the stack can make the server drop a
 * connection without an answer. The status comes from the error ({@link statusOfError}); the body is only the
 * reason phrase ("Internal Server Error"): messages, stacks and codes stay on the server, where `onError` can
 * log them. A rate limit or a circuit breaker that says when to come back (`retryAfterMs`) gives a
 * `Retry-After`. The request body, which the failed handler may not have read, is cancelled.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { catchErrors } from "@tessera/http/catch";
 * import { loadShed } from "@tessera/layers/load-shed";
 *
 * const app = stack(
 *   catchErrors({ onError: (error, req, status) => logger.error({ err: error, path: req.path, status }) }),
 *   loadShed(), // ERR_OVERLOADED: 503
 * ).into(handler);
 * ```
 */
export function catchErrors(options: CatchErrorsOptions = {}): HttpLayer {
  const { onError, statusFor, render = defaultRender } = options;
  const toResponse = (error: unknown, req: Request): Response => {
    let status = statusFor?.(error) ?? statusOfError(error);
    if (!Status.isValid(status)) status = 500;
    if (onError !== undefined) {
      try {
        onError(error, req, status);
      } catch {
        // Logging must not turn a handled error into an unhandled one.
      }
    }
    discardBody(req);
    return render(status, error, req);
  };
  return httpLayer((inner: Service<Request, Response>) => ({
    serve(req: Request): Promise<Response> {
      let result: Promise<Response>;
      try {
        result = inner.serve(req);
      } catch (error) {
        return Promise.resolve(toResponse(error, req));
      }
      return result.then(undefined, (error: unknown) => toResponse(error, req));
    },
  }));
}

function defaultRender(status: number, error: unknown, req: Request): Response {
  const headers = new HeaderMap([["Content-Type", "text/plain; charset=utf-8"]]);
  const retryAfterMs =
    typeof error === "object" && error !== null
      ? (error as { retryAfterMs?: unknown }).retryAfterMs
      : undefined;
  if (typeof retryAfterMs === "number" && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    headers.append("Retry-After", String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  }
  const text = Status.reasonPhrase(status) ?? "Error";
  return new Response(status, headers, Body.fromText(text), req.extensions.fork(), req.version);
}
