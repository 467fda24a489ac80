import type { TesseraErrorOptions } from "@tessera/core";
import { HttpError } from "../errors.js";

// Errors of the HTTP layers. Each has a stable `code` and, like every error of this package, the `status` a
// server answers with when it reaches `catchErrors()`: a client-side failure that a proxy passes on (a bomb
// from upstream, a redirect loop) is the upstream's fault, so 502.

/** A response body could not be decoded: corrupt gzip, deflate or brotli data. `cause` is the zlib error. */
export class DecompressionError extends HttpError {
  static override readonly code = "ERR_HTTP_DECOMPRESSION_FAILED";
  /** The content coding that failed (`"gzip"`, `"deflate"`, `"br"`). */
  readonly encoding: string;
  constructor(encoding: string, options?: TesseraErrorOptions) {
    super(DecompressionError.code, 502, `the ${encoding} response body could not be decoded`, options);
    this.encoding = encoding;
  }
}

/**
 * A decoded body grew past the layer's `maxDecodedBytes`: a decompression bomb, or simply a body bigger than the
 * client wants in memory. Decoding stopped at the limit; the compressed stream was cancelled.
 */
export class DecompressionLimitError extends HttpError {
  static override readonly code = "ERR_HTTP_DECOMPRESSED_TOO_LARGE";
  readonly limit: number;
  constructor(limit: number) {
    super(DecompressionLimitError.code, 502, `the decoded body is larger than the limit of ${limit} bytes`);
    this.limit = limit;
  }
}

/** A body could not be compressed (a zlib failure). `cause` is the zlib error. */
export class CompressionError extends HttpError {
  static override readonly code = "ERR_HTTP_COMPRESSION_FAILED";
  constructor(encoding: string, options?: TesseraErrorOptions) {
    super(CompressionError.code, 500, `the body could not be ${encoding}-encoded`, options);
  }
}

/** One followed redirect: the URL asked for, the 3xx status it answered with, and where it pointed. */
export interface RedirectHop {
  readonly url: string;
  readonly status: number;
  readonly location: string;
}

/**
 * `followRedirect()` gave up after `maxRedirects` redirects (a loop, most likely). `chain` lists the hops that
 * were followed; the last 3xx response's body was cancelled.
 */
export class TooManyRedirectsError extends HttpError {
  static override readonly code = "ERR_HTTP_TOO_MANY_REDIRECTS";
  readonly chain: readonly RedirectHop[];
  constructor(max: number, chain: readonly RedirectHop[]) {
    super(TooManyRedirectsError.code, 502, `more than ${max} redirect${max === 1 ? "" : "s"}`);
    this.chain = chain;
  }
}

/** A route pattern that cannot be used: bad syntax, a wildcard not at the end, or the same route twice. */
export class InvalidRouteError extends HttpError {
  static override readonly code = "ERR_HTTP_INVALID_ROUTE";
  readonly pattern: string;
  constructor(pattern: string, detail: string) {
    super(InvalidRouteError.code, 500, `invalid route ${JSON.stringify(pattern)}: ${detail}`);
    this.pattern = pattern;
  }
}
