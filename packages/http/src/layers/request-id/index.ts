import { randomUUID } from "node:crypto";
import { type Key, key, type Service } from "@tessera/core";
import { assertHeaderName } from "../../header-validation.js";
import type { Request } from "../../request.js";
import type { Response } from "../../response.js";
import { type HttpLayer, httpLayer } from "../internal/http-layer.js";

/** The id of the request, on its extensions (set by {@link requestId}). */
export const RequestId: Key<string> = key<string>("tessera.http.RequestId");

/** Options of {@link requestId}. */
export interface RequestIdOptions {
  /** The header carrying the id. Default `x-request-id`. */
  readonly header?: string;
  /** Make a new id. Default `crypto.randomUUID()`. */
  readonly generate?: () => string;
  /**
   * Keep an id the request came with (a load balancer or the calling service set it). Default true; set false
   * where the peer is not trusted to choose ids that end up in your logs.
   */
  readonly propagate?: boolean;
  /**
   * Whether an incoming id is kept. Default {@link isReasonableRequestId}: 1-128 visible ASCII characters, so an id
   * cannot flood logs or smuggle control characters into them.
   */
  readonly validate?: (id: string) => boolean;
  /** Put the id on the response (unless it has the header already). Default true. */
  readonly response?: boolean;
}

/**
 * The default check of an incoming id: 1 to 128 visible ASCII characters (0x21-0x7E).
 *
 * @example
 * ```ts
 * isReasonableRequestId("7f9c0a1e-..."); // true
 * isReasonableRequestId("a b"); // false
 * ```
 */
export function isReasonableRequestId(id: string): boolean {
  const n = id.length;
  if (n === 0 || n > 128) return false;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/**
 * Give every request an id: the one it came with in `x-request-id` (if `propagate` and valid), else a new UUID.
 * The id goes on the request's extensions as {@link RequestId}, on the request header (so inner services and
 * upstream calls carry it; the request's headers are changed in place) and on the response header. On a
 * client stack the same layer tags outgoing requests.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { RequestId, requestId } from "@tessera/http/request-id";
 *
 * const app = stack(requestId()).into(
 *   service((req: Request) => Response.text(`your id: ${req.extensions.get(RequestId)}`, { request: req })),
 * );
 * ```
 */
export function requestId(options: RequestIdOptions = {}): HttpLayer {
  const header = options.header ?? "x-request-id";
  assertHeaderName(header);
  const config: Config = {
    header,
    generate: options.generate ?? randomUUID,
    propagate: options.propagate ?? true,
    validate: options.validate ?? isReasonableRequestId,
    response: options.response ?? true,
  };
  return httpLayer((inner) => new RequestIdService(inner, config));
}

interface Config {
  readonly header: string;
  readonly generate: () => string;
  readonly propagate: boolean;
  readonly validate: (id: string) => boolean;
  readonly response: boolean;
}

class RequestIdService implements Service<Request, Response> {
  readonly #inner: Service<Request, Response>;
  readonly #config: Config;

  constructor(inner: Service<Request, Response>, config: Config) {
    this.#inner = inner;
    this.#config = config;
  }

  serve(req: Request): Promise<Response> {
    const config = this.#config;
    const header = config.header;
    let id: string;
    try {
      const incoming = config.propagate ? req.headers.get(header) : undefined;
      if (incoming !== undefined && config.validate(incoming)) id = incoming;
      else {
        id = config.generate();
        req.headers.set(header, id);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    req.extensions.insert(RequestId, id);
    const result = this.#inner.serve(req);
    if (!config.response) return result;
    return result.then((res) => {
      if (res.headers.has(header)) return res;
      // A copy: the handler may return one constant response to every request.
      const copy = res.with({});
      copy.headers.set(header, id);
      return copy;
    });
  }
}
