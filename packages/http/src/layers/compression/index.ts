import { promisify } from "node:util";
import zlib from "node:zlib";
import { neverAborts, type Service, signalOf } from "@tessera/core";
import { Body } from "../../body.js";
import type { Request } from "../../request.js";
import type { Response } from "../../response.js";
import { Status } from "../../status.js";
import { CompressionError } from "../errors.js";
import { addVary, listHas } from "../internal/headers.js";
import { type HttpLayer, httpLayer } from "../internal/http-layer.js";
import { transformBody } from "../internal/zlib-body.js";

export { CompressionError } from "../errors.js";

/** A content coding this layer can produce. */
export type ContentCoding = "br" | "gzip" | "deflate";

/** Options of {@link compression}. */
export interface CompressionOptions {
  /**
   * The codings offered, in the server's order of preference (used when the client's q-values tie). Default
   * `["br", "gzip", "deflate"]`.
   */
  readonly encodings?: readonly ContentCoding[];
  /** A body whose length is known and below this many bytes is sent as it is. Default 1024. */
  readonly threshold?: number;
  /**
   * Whether a response of this `Content-Type` (undefined when absent) is worth compressing. Default:
   * {@link isCompressible} (not images other than SVG, audio, video, archives, fonts, gRPC or event streams).
   */
  readonly compressible?: (contentType: string | undefined) => boolean;
  /** gzip and deflate level, 0-9. Default 6 (zlib's default). */
  readonly level?: number;
  /**
   * Brotli quality, 0-11. Default 4: brotli's own default (11) is meant for static assets and is tens of times
   * slower, too slow for responses made per request.
   */
  readonly brotliQuality?: number;
  /**
   * Flush the encoder after each chunk of a streamed body (a body without a buffered form), so what the handler
   * produced reaches the client without waiting for the next 16 KiB. Costs a little ratio. Default true.
   */
  readonly flush?: boolean;
}

const DEFAULT_ENCODINGS: readonly ContentCoding[] = ["br", "gzip", "deflate"];

// Types whose content is already compressed (or that must stream unbuffered): compressing them again costs CPU
// and gains nothing. Matched on the media type before any parameter.
const INCOMPRESSIBLE_PREFIXES = ["image/", "audio/", "video/", "font/", "application/grpc"];
const INCOMPRESSIBLE = new Set([
  "text/event-stream",
  "application/zip",
  "application/gzip",
  "application/x-gzip",
  "application/x-bzip2",
  "application/x-xz",
  "application/x-7z-compressed",
  "application/x-rar-compressed",
  "application/zstd",
  "application/wasm+gzip",
  "application/font-woff",
]);

/**
 * The default test of {@link CompressionOptions.compressible}: true for text, JSON, XML, JavaScript, SVG and
 * anything without a Content-Type; false for images (but SVG), audio, video, fonts, archives, gRPC and
 * `text/event-stream` (an event stream must reach the client event by event).
 *
 * @example
 * ```ts
 * isCompressible("text/html; charset=utf-8"); // true
 * isCompressible("image/png"); // false
 * isCompressible("image/svg+xml"); // true
 * ```
 */
export function isCompressible(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const semi = contentType.indexOf(";");
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (type === "image/svg+xml") return true;
  if (INCOMPRESSIBLE.has(type)) return false;
  for (const prefix of INCOMPRESSIBLE_PREFIXES) if (type.startsWith(prefix)) return false;
  return true;
}

/**
 * Compress response bodies with br, gzip or deflate (node:zlib), whichever the request's `Accept-Encoding`
 * prefers by q-value (ties go to the order of `encodings`). Streamed bodies are compressed as they are read,
 * pulled by the client, and stop when the request's signal aborts or the response body is cancelled; buffered
 * bodies are compressed at once (off the main thread), so they keep a known length.
 *
 * Left as they are: responses that cannot have a body (1xx, 204, 304) or answer HEAD, that already have a
 * `Content-Encoding`, carry `Cache-Control: no-transform`, are partial (206, `Content-Range`), have a type that
 * is not {@link isCompressible}, or a known length below `threshold`. Requests without `Accept-Encoding` get
 * the body as it is too. Every response whose body could have been compressed gets `Vary: Accept-Encoding`;
 * a compressed one loses `Content-Length` and `Accept-Ranges`, and a strong `ETag` becomes weak (the bytes
 * differ from the uncompressed representation's).
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { compression } from "@tessera/http/compression";
 *
 * const app = stack(compression({ threshold: 512 })).into(handler);
 * // Accept-Encoding: gzip, br;q=0.9  ->  Content-Encoding: gzip, Vary: Accept-Encoding
 * ```
 */
export function compression(options: CompressionOptions = {}): HttpLayer {
  const config = new CompressionConfig(options);
  return httpLayer((inner) => new CompressionService(inner, config));
}

class CompressionConfig {
  readonly encodings: readonly ContentCoding[];
  readonly threshold: number;
  readonly compressible: (contentType: string | undefined) => boolean;
  readonly level: number;
  readonly quality: number;
  readonly flush: boolean;

  constructor(options: CompressionOptions) {
    const encodings = options.encodings ?? DEFAULT_ENCODINGS;
    for (const e of encodings) {
      if (e !== "br" && e !== "gzip" && e !== "deflate") {
        throw new TypeError(`compression: unknown encoding ${JSON.stringify(e)}`);
      }
    }
    this.encodings = encodings;
    this.threshold = options.threshold ?? 1024;
    this.compressible = options.compressible ?? isCompressible;
    this.level = options.level ?? zlib.constants.Z_DEFAULT_COMPRESSION;
    this.quality = options.brotliQuality ?? 4;
    this.flush = options.flush ?? true;
    if (!(this.threshold >= 0)) throw new RangeError("compression: threshold must be >= 0");
  }
}

class CompressionService implements Service<Request, Response> {
  readonly #inner: Service<Request, Response>;
  readonly #config: CompressionConfig;

  constructor(inner: Service<Request, Response>, config: CompressionConfig) {
    this.#inner = inner;
    this.#config = config;
  }

  serve(req: Request): Promise<Response> {
    // Read before the inner call: an inner layer may rewrite the request's headers.
    const accept = req.headers.get("accept-encoding");
    const method = req.method;
    return this.#inner.serve(req).then((res) => this.#compress(req, method, accept, res));
  }

  #compress(
    req: Request,
    method: string,
    accept: string | undefined,
    res: Response,
  ): Response | Promise<Response> {
    const config = this.#config;
    const status = res.status;
    if (status < 200 || status === 204 || status === 206) return res;
    const headers = res.headers;
    const existing = headers.get("content-encoding");
    if (existing !== undefined && !listHas(existing, "identity")) return res;
    if (headers.has("content-range")) return res;
    const cacheControl = headers.get("cache-control");
    if (cacheControl !== undefined && listHas(cacheControl, "no-transform")) return res;
    if (!config.compressible(headers.get("content-type"))) return res;
    const body = res.body;
    // A 304 or a response to HEAD has no body to compress, but the headers must be the ones a GET would get
    // (RFC 9110 15.4.5, 9.3.2), so the Vary goes on them whatever their (empty) body's length.
    const bodiless = method === "HEAD" || !Status.allowsBody(status);
    const length = body.length;
    if (!bodiless && length !== undefined && length < config.threshold) return res;

    // From here the representation depends on Accept-Encoding, whatever this request asked for.
    const out = headers.clone();
    addVary(out, "Accept-Encoding");
    const coding = bodiless || accept === undefined ? undefined : negotiateEncoding(accept, config.encodings);
    if (coding === undefined) return res.with({ headers: out });

    out.delete("content-length");
    out.delete("accept-ranges");
    out.set("Content-Encoding", coding);
    const etag = out.get("etag");
    if (etag !== undefined && !etag.startsWith("W/")) out.set("ETag", `W/${etag}`);

    const bytes = body.bytesIfBuffered();
    if (bytes !== undefined) {
      return compressBytes(coding, bytes, config).then(
        (compressed) => res.with({ headers: out, body: Body.fromBytes(compressed) }),
        (error: unknown) => {
          throw new CompressionError(coding, { cause: error });
        },
      );
    }
    const signal = signalOf(req);
    const encoded = transformBody(body, {
      make: () => encoder(coding, config, undefined),
      flush: config.flush ? flushKind(coding) : undefined,
      mapError: (error) => new CompressionError(coding, { cause: error }),
      signal: signal === neverAborts() ? undefined : signal,
    });
    return res.with({ headers: out, body: encoded });
  }
}

const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);
const brotli = promisify(zlib.brotliCompress);

function compressBytes(coding: ContentCoding, bytes: Uint8Array, config: CompressionConfig): Promise<Buffer> {
  if (coding === "gzip") return gzip(bytes, { level: config.level });
  if (coding === "deflate") return deflate(bytes, { level: config.level });
  return brotli(bytes, brotliOptions(config, bytes.byteLength));
}

function brotliOptions(config: CompressionConfig, sizeHint: number | undefined): zlib.BrotliOptions {
  const params: Record<number, number> = { [zlib.constants.BROTLI_PARAM_QUALITY]: config.quality };
  if (sizeHint !== undefined) params[zlib.constants.BROTLI_PARAM_SIZE_HINT] = sizeHint;
  return { params };
}

function encoder(coding: ContentCoding, config: CompressionConfig, sizeHint: number | undefined) {
  if (coding === "gzip") return zlib.createGzip({ level: config.level });
  if (coding === "deflate") return zlib.createDeflate({ level: config.level });
  return zlib.createBrotliCompress(brotliOptions(config, sizeHint));
}

function flushKind(coding: ContentCoding): number {
  // A sync flush ends the output on a byte boundary without resetting the dictionary (unlike a full flush).
  return coding === "br" ? zlib.constants.BROTLI_OPERATION_FLUSH : zlib.constants.Z_SYNC_FLUSH;
}

/**
 * The coding to use for `acceptEncoding` (RFC 9110 12.5.3), or undefined for none (identity). Each offered
 * coding gets the q-value of its own entry, else that of `*`, else 0 (not acceptable); the highest q above 0
 * wins, ties going to the server's order. If `identity` is preferred over all of them, nothing is compressed.
 *
 * @example
 * ```ts
 * negotiateEncoding("gzip;q=0.8, br", ["br", "gzip"]); // "br"
 * negotiateEncoding("*;q=0", ["gzip"]); // undefined
 * ```
 */
export function negotiateEncoding(
  acceptEncoding: string,
  offered: readonly ContentCoding[] = DEFAULT_ENCODINGS,
): ContentCoding | undefined {
  let star = -1;
  let identity = -1;
  const q: Record<ContentCoding, number> = { br: -1, gzip: -1, deflate: -1 };
  for (const part of acceptEncoding.split(",")) {
    const semi = part.indexOf(";");
    const name = (semi < 0 ? part : part.slice(0, semi)).trim().toLowerCase();
    if (name === "") continue;
    const value = semi < 0 ? 1 : qValue(part.slice(semi + 1));
    if (value < 0) continue; // a malformed q: ignore the entry
    if (name === "*") star = value;
    else if (name === "identity") identity = value;
    else if (name === "gzip" || name === "x-gzip") q.gzip = Math.max(q.gzip, value);
    else if (name === "br" || name === "deflate") q[name] = Math.max(q[name], value);
  }
  let best: ContentCoding | undefined;
  let bestQ = 0;
  for (const coding of offered) {
    const value = q[coding] >= 0 ? q[coding] : Math.max(star, 0);
    if (value > bestQ) {
      best = coding;
      bestQ = value;
    }
  }
  // identity is acceptable unless excluded; it only wins when the client prefers it outright.
  if (best !== undefined && identity > bestQ) return undefined;
  return best;
}

// "q=0.5" among the parameters after the coding; -1 when malformed (RFC 9110 12.4.2: 0 to 1, three decimals).
function qValue(params: string): number {
  for (const param of params.split(";")) {
    const eq = param.indexOf("=");
    if (eq < 0) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== "q") continue;
    const text = param.slice(eq + 1).trim();
    if (!/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(text)) return -1;
    return Number(text);
  }
  return 1;
}
