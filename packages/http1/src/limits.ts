/**
 * Size limits of the parsers. Every byte the parser buffers is counted against one of these, so a peer that
 * sends endless headers or chunk extensions costs at most a few tens of KiB per connection. Body bytes are never
 * buffered by the parser (they are handed on as views of the input), so body size is the business of whoever
 * consumes them.
 */
export interface Http1Limits {
  /**
   * Longest start line (request line or status line) in bytes, counting its CRLF and any empty lines before it.
   * Default 8 KiB, nginx's and most CDNs' request-line budget. A longer request line gives 414 (URI Too Long).
   */
  readonly maxStartLineBytes: number;
  /**
   * Largest header section in bytes (all field lines with their CRLFs and the empty line that ends the head;
   * the start line has its own budget). Default 16 KiB, Node's `--max-http-header-size`. Exceeding it gives 431.
   */
  readonly maxHeaderBytes: number;
  /** Most header fields in one head, and separately in one trailer section. Default 100 (Apache's limit). 431. */
  readonly maxHeaderCount: number;
  /**
   * Most chunk-extension bytes in one message, summed over all its chunk-size lines. Extensions are validated and
   * skipped, never buffered; the budget stops a peer from making us parse megabytes of them between 1-byte
   * chunks. Default 16 KiB (what Node allows). 400.
   */
  readonly maxChunkExtensionBytes: number;
  /** Largest trailer section of a chunked body in bytes. Default 16 KiB. 431. */
  readonly maxTrailerBytes: number;
}

/** The default limits (see {@link Http1Limits} for the reasons behind each). */
export const DEFAULT_LIMITS: Readonly<Http1Limits> = Object.freeze({
  maxStartLineBytes: 8 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  maxChunkExtensionBytes: 16 * 1024,
  maxTrailerBytes: 16 * 1024,
});

/**
 * Fills missing limits with the defaults and checks that each is a positive safe integer.
 *
 * @example
 * ```ts
 * resolveLimits({ maxHeaderBytes: 8192 }).maxHeaderCount; // 100
 * ```
 */
export function resolveLimits(partial?: Partial<Http1Limits>): Http1Limits {
  const limits: Http1Limits = {
    maxStartLineBytes: partial?.maxStartLineBytes ?? DEFAULT_LIMITS.maxStartLineBytes,
    maxHeaderBytes: partial?.maxHeaderBytes ?? DEFAULT_LIMITS.maxHeaderBytes,
    maxHeaderCount: partial?.maxHeaderCount ?? DEFAULT_LIMITS.maxHeaderCount,
    maxChunkExtensionBytes: partial?.maxChunkExtensionBytes ?? DEFAULT_LIMITS.maxChunkExtensionBytes,
    maxTrailerBytes: partial?.maxTrailerBytes ?? DEFAULT_LIMITS.maxTrailerBytes,
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
    }
  }
  return limits;
}
