import type { Service } from "@tessera/core";
import { Body, type BodySource } from "../../body.js";
import { BodyTooLargeError } from "../../errors.js";
import { HeaderMap } from "../../header-map.js";
import type { Request } from "../../request.js";
import { Response } from "../../response.js";
import { type HttpLayer, httpLayer } from "../internal/http-layer.js";
import { discardBody } from "../internal/respond.js";

export { BodyTooLargeError } from "../../errors.js";

/**
 * Bound request bodies to `maxBytes`, the server's guard against uploads it cannot hold.
 *
 * - A request that declares a larger length (`Content-Length`, or its body's `length`) is answered 413 at once,
 *   without calling the inner service, and its body is cancelled (the protocol discards it or closes).
 * - A body of unknown length (chunked, HTTP/2 without content-length) is counted as it is read: past
 *   `maxBytes` the read fails with `BodyTooLargeError` (`ERR_HTTP_BODY_TOO_LARGE`, status 413) and the
 *   producer is cancelled. If the handler lets that error propagate, this layer answers 413 instead.
 * - A body whose known length is within the limit passes untouched: nothing is allocated for it (its own
 *   length check stops a peer that sends more than it declared).
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { bodyLimit } from "@tessera/http/body-limit";
 *
 * const app = stack(bodyLimit(1024 * 1024)).into(
 *   service(async (req: Request) => Response.text(`got ${(await req.body.bytes({ limit: Infinity })).length} bytes`)),
 * ); // a 2 MiB chunked upload: 413
 * ```
 */
export function bodyLimit(maxBytes: number): HttpLayer {
  if (!(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
    throw new RangeError("bodyLimit: maxBytes must be a non-negative integer");
  }
  return httpLayer((inner) => new BodyLimitService(inner, maxBytes));
}

class BodyLimitService implements Service<Request, Response> {
  readonly #inner: Service<Request, Response>;
  readonly #max: number;

  constructor(inner: Service<Request, Response>, max: number) {
    this.#inner = inner;
    this.#max = max;
  }

  serve(req: Request): Promise<Response> {
    const max = this.#max;
    const body = req.body;
    const length = body.length ?? declaredLength(req.headers.get("content-length"));
    if (length !== undefined) {
      if (length <= max) return this.#inner.serve(req);
      discardBody(req, new BodyTooLargeError(max));
      return Promise.resolve(tooLarge(req));
    }
    const source = new LimitedSource(body, max);
    let limited: Request;
    try {
      limited = req.with({ body: Body.fromSource(source) });
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#inner.serve(limited).then(undefined, (error: unknown) => {
      // Only our own limit becomes a 413: the same error from reading something else (an upstream's
      // response) is not the client's fault.
      if (error instanceof BodyTooLargeError && source.tripped) return tooLarge(req);
      throw error;
    });
  }
}

function declaredLength(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d{1,15}$/.test(header)) return undefined;
  return Number(header);
}

function tooLarge(req: Request): Response {
  const headers = new HeaderMap([["Content-Type", "text/plain; charset=utf-8"]]);
  return new Response(413, headers, Body.fromText("Content Too Large"), req.extensions.fork(), req.version);
}

/** Counts the bytes of `body` and fails past `max`, cancelling the producer. */
class LimitedSource implements BodySource {
  readonly #body: Body;
  readonly #max: number;
  #iterator: AsyncIterator<Uint8Array> | undefined = undefined;
  #count = 0;
  tripped = false;

  constructor(body: Body, max: number) {
    this.#body = body;
    this.#max = max;
  }

  get trailers(): HeaderMap | undefined {
    return this.#body.trailers;
  }

  read(): Promise<Uint8Array | undefined> {
    let iterator = this.#iterator;
    if (iterator === undefined) {
      try {
        iterator = this.#body[Symbol.asyncIterator]();
      } catch (error) {
        return Promise.reject(error);
      }
      this.#iterator = iterator;
    }
    return iterator.next().then(this.#onChunk);
  }

  readonly #onChunk = (result: IteratorResult<Uint8Array>): Uint8Array | undefined => {
    if (result.done === true) return undefined;
    this.#count += result.value.byteLength;
    if (this.#count > this.#max) {
      this.tripped = true;
      const error = new BodyTooLargeError(this.#max);
      this.#body.cancel(error);
      throw error;
    }
    return result.value;
  };

  cancel(reason: unknown): void {
    this.#body.cancel(reason);
  }
}
