import { matchPrefix } from "../sniff.js";
import { PROXY_V1_PREFIX, PROXY_V2_SIGNATURE, type ProxyHeader } from "./header.js";
import { parseV1 } from "./v1.js";
import { parseV2 } from "./v2.js";

export interface ParseProxyHeaderOptions {
  /** The longest v2 header accepted, fixed part included. Default 4096. (v1 is at most 107 bytes anyway.) */
  readonly maxHeaderLength?: number;
  /** The versions accepted; a header of another version is treated as absent. Default both. */
  readonly versions?: readonly (1 | 2)[];
}

/**
 * - `"incomplete"`: the bytes so far are a prefix of a header (or of its signature): read more;
 * - `"absent"`: the bytes do not start with a PROXY protocol header (of an accepted version);
 * - `"complete"`: a header of `length` bytes; what follows it is the connection's own data.
 */
export type ProxyHeaderParse =
  | { readonly status: "incomplete"; readonly version: 1 | 2 | undefined }
  | { readonly status: "absent" }
  | { readonly status: "complete"; readonly header: ProxyHeader; readonly length: number };

export const DEFAULT_MAX_HEADER_LENGTH = 4096;

/**
 * Parse a PROXY protocol header (v1 or v2) at the start of `bytes`. Incremental: call it again with more bytes
 * until it is no longer `"incomplete"`; any split of the same bytes gives the same answer, and malformed input
 * throws (a `ProxyHeaderError` with a `reason`, or a `ProxyHeaderTooLargeError`) as soon as it shows.
 *
 * @example
 * ```ts
 * const parsed = parseProxyHeader(Buffer.from("PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\nGET /"));
 * if (parsed.status === "complete") console.log(parsed.header.source, parsed.length); // ..., 45
 * ```
 */
export function parseProxyHeader(bytes: Uint8Array, options?: ParseProxyHeaderOptions): ProxyHeaderParse {
  const versions = options?.versions ?? [1, 2];
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const v2 = versions.includes(2) ? matchPrefix(buffer, PROXY_V2_SIGNATURE) : -1;
  if (v2 === 1) {
    const parsed = parseV2(buffer, options?.maxHeaderLength ?? DEFAULT_MAX_HEADER_LENGTH);
    return parsed === undefined ? { status: "incomplete", version: 2 } : { status: "complete", ...parsed };
  }
  const v1 = versions.includes(1) ? matchPrefix(buffer, PROXY_V1_PREFIX) : -1;
  if (v1 === 1) {
    const parsed = parseV1(buffer);
    return parsed === undefined ? { status: "incomplete", version: 1 } : { status: "complete", ...parsed };
  }
  if (v2 === 0 || v1 === 0) return { status: "incomplete", version: undefined };
  return { status: "absent" };
}
