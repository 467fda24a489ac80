import { fieldLines, type HeaderFields } from "./head-serializer.js";

/** The CRLF that ends the data of every chunk. */
export const CHUNK_TERMINATOR = "\r\n";

/** The last chunk of a body with no trailers: `0\r\n\r\n`. */
export const LAST_CHUNK = "0\r\n\r\n";

/**
 * The size line of a chunk of `size` bytes (`size` in hex, then CRLF). The data and {@link CHUNK_TERMINATOR}
 * follow it; `size` must be a positive integer, since a zero-size chunk would end the body.
 *
 * @example
 * ```ts
 * socket.write(chunkHeader(data.length));
 * socket.write(data);
 * socket.write(CHUNK_TERMINATOR);
 * ```
 */
export function chunkHeader(size: number): string {
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new RangeError(`chunk size must be a positive integer, got ${String(size)}`);
  }
  return size.toString(16) + "\r\n";
}

/**
 * One chunk (size line, data, CRLF) in a single Buffer. Empty data gives an empty Buffer: writing nothing,
 * rather than a zero-size chunk that would end the body.
 *
 * @example
 * ```ts
 * encodeChunk(Buffer.from("hello")).toString(); // "5\r\nhello\r\n"
 * ```
 */
export function encodeChunk(data: Uint8Array): Buffer {
  const n = data.length;
  if (n === 0) return Buffer.alloc(0);
  const header = n.toString(16);
  const out = Buffer.allocUnsafe(header.length + n + 4);
  let pos = out.write(header, 0, "latin1");
  out[pos++] = 0x0d;
  out[pos++] = 0x0a;
  out.set(data, pos);
  pos += n;
  out[pos++] = 0x0d;
  out[pos] = 0x0a;
  return out;
}

/**
 * The last chunk and the trailer section that ends a chunked body: `0\r\n`, the trailer fields (validated like
 * header fields), and the empty line.
 *
 * @example
 * ```ts
 * lastChunk(["Checksum", "abc"]); // "0\r\nChecksum: abc\r\n\r\n"
 * ```
 */
export function lastChunk(trailers?: HeaderFields): string {
  if (trailers === undefined) return LAST_CHUNK;
  return "0\r\n" + fieldLines(trailers) + "\r\n";
}
