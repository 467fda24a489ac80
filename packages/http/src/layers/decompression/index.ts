import zlib from "node:zlib";
import type { Service } from "@tessera/core";
import type { Body } from "../../body.js";
import type { Request } from "../../request.js";
import type { Response } from "../../response.js";
import { Status } from "../../status.js";
import { DecompressionError, DecompressionLimitError } from "../errors.js";
import { type HttpLayer, httpLayer } from "../internal/http-layer.js";
import { transformBody } from "../internal/zlib-body.js";

export { DecompressionError, DecompressionLimitError } from "../errors.js";

/** A content coding this layer can decode. */
export type DecodableCoding = "gzip" | "deflate" | "br";

/** Options of {@link decompression}. */
export interface DecompressionOptions {
  /** The codings asked for (in this order in `Accept-Encoding`) and decoded. Default `["gzip", "deflate", "br"]`. */
  readonly encodings?: readonly DecodableCoding[];
  /**
   * The most bytes a decoded body may have; past it the body fails with {@link DecompressionLimitError} and
   * the compressed stream is cancelled. A gzip bomb turns a few kilobytes into gigabytes: this is the bound.
   * Default 64 MiB; `Infinity` for none.
   */
  readonly maxDecodedBytes?: number;
  /** Add `Accept-Encoding` to requests that have none. Default true. */
  readonly acceptEncoding?: boolean;
}

const DEFAULT_CODINGS: readonly DecodableCoding[] = ["gzip", "deflate", "br"];
// Each coding is a decoder with its own window (brotli's is up to 16 MiB): a response listing dozens would be a
// memory attack of its own, and real servers apply at most one.
const MAX_CODINGS = 3;

/**
 * Client side: ask for compressed responses and decode them. Requests without `Accept-Encoding` get one
 * (`gzip, deflate, br`); responses with a `Content-Encoding` of those codings (several, applied in order, are
 * undone in reverse) get a body decoded as it is read, and lose `Content-Encoding` and `Content-Length`
 * (the decoded length is unknown until the end). The request's headers are changed in place.
 *
 * Decoding is bounded: at most `maxDecodedBytes` come out (else {@link DecompressionLimitError}), and since the
 * decoder is pulled by the reader, no more than one 16 KiB buffer is decoded ahead of it. Corrupt data fails
 * the body with {@link DecompressionError}. Responses to HEAD, 204 and 304, and responses with a coding this
 * layer does not know, are returned as they are. `deflate` is accepted both zlib-wrapped (RFC 9110) and raw
 * (what some servers send).
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { decompression } from "@tessera/http/decompression";
 *
 * const client = stack(decompression({ maxDecodedBytes: 8 * 1024 * 1024 })).into(httpClient);
 * const res = await client.serve(Request.get("http://example.com/"));
 * await res.body.text(); // decoded; a bomb fails with ERR_HTTP_DECOMPRESSED_TOO_LARGE
 * ```
 */
export function decompression(options: DecompressionOptions = {}): HttpLayer {
  const encodings = options.encodings ?? DEFAULT_CODINGS;
  for (const e of encodings) {
    if (e !== "br" && e !== "gzip" && e !== "deflate") {
      throw new TypeError(`decompression: unknown encoding ${JSON.stringify(e)}`);
    }
  }
  const limit = options.maxDecodedBytes ?? 64 * 1024 * 1024;
  if (!(limit >= 0)) throw new RangeError("decompression: maxDecodedBytes must be >= 0");
  const accept =
    options.acceptEncoding === false || encodings.length === 0 ? undefined : encodings.join(", ");
  return httpLayer((inner) => new DecompressionService(inner, new Set(encodings), accept, limit));
}

class DecompressionService implements Service<Request, Response> {
  readonly #inner: Service<Request, Response>;
  readonly #codings: ReadonlySet<string>;
  readonly #accept: string | undefined;
  readonly #limit: number;

  constructor(
    inner: Service<Request, Response>,
    codings: ReadonlySet<string>,
    accept: string | undefined,
    limit: number,
  ) {
    this.#inner = inner;
    this.#codings = codings;
    this.#accept = accept;
    this.#limit = limit;
  }

  serve(req: Request): Promise<Response> {
    const accept = this.#accept;
    try {
      if (accept !== undefined && !req.headers.has("accept-encoding"))
        req.headers.set("Accept-Encoding", accept);
    } catch (error) {
      return Promise.reject(error);
    }
    const method = req.method;
    return this.#inner.serve(req).then((res) => this.#decode(method, res));
  }

  #decode(method: string, res: Response): Response {
    if (method === "HEAD" || !Status.allowsBody(res.status)) return res;
    const header = res.headers.get("content-encoding");
    if (header === undefined) return res;
    const codings: string[] = [];
    for (const part of header.split(",")) {
      let coding = part.trim().toLowerCase();
      if (coding === "" || coding === "identity") continue;
      if (coding === "x-gzip") coding = "gzip";
      if (!this.#codings.has(coding)) return res; // a coding we cannot undo: leave the body encoded
      codings.push(coding);
    }
    if (codings.length === 0) return res;
    if (codings.length > MAX_CODINGS) {
      res.body.cancel();
      throw new DecompressionError(header);
    }
    let body = res.body;
    // Codings are listed in the order they were applied: undo the last first.
    for (let i = codings.length - 1; i >= 0; i--) {
      body = decode(body, codings[i] as DecodableCoding, i === 0 ? this.#limit : undefined);
    }
    const headers = res.headers.clone();
    headers.delete("content-encoding");
    headers.delete("content-length");
    return res.with({ headers, body });
  }
}

function decode(body: Body, coding: DecodableCoding, limit: number | undefined): Body {
  return transformBody(body, {
    make: (first) => decoder(coding, first),
    // An empty body is empty whatever its declared coding (some servers send `Content-Encoding: gzip` on it).
    lazy: true,
    limit: limit === Number.POSITIVE_INFINITY ? undefined : limit,
    limitError: () => new DecompressionLimitError(limit!),
    mapError: (error) => new DecompressionError(coding, { cause: error }),
  });
}

function decoder(coding: DecodableCoding, first: Uint8Array | undefined) {
  if (coding === "gzip") return zlib.createGunzip();
  if (coding === "br") return zlib.createBrotliDecompress();
  return isZlibWrapped(first) ? zlib.createInflate() : zlib.createInflateRaw();
}

// RFC 1950: CMF (method 8 = deflate in the low nibble) and FLG such that CMF*256+FLG is a multiple of 31.
function isZlibWrapped(first: Uint8Array | undefined): boolean {
  if (first === undefined || first.byteLength === 0) return true;
  const cmf = first[0]!;
  if ((cmf & 0x0f) !== 8) return false;
  if (first.byteLength < 2) return true;
  return ((cmf << 8) | first[1]!) % 31 === 0;
}
