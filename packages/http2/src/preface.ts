import { Http2PrefaceError } from "./errors.js";

/** The client connection preface (RFC 9113 3.4), 24 octets, sent before the client's first SETTINGS frame. */
export const CONNECTION_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const PREFACE: Buffer = Buffer.from(CONNECTION_PREFACE, "latin1");
/** Length of {@link CONNECTION_PREFACE} in bytes. */
export const CONNECTION_PREFACE_LENGTH = 24;

function printable(bytes: Uint8Array, start: number, end: number): string {
  return JSON.stringify(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString("latin1"));
}

/**
 * Checks the client connection preface incrementally, whatever the byte split. A server feeds it the first
 * bytes of a connection (the {@link FrameReader} does this itself with `preface: "client"`).
 *
 * @example
 * ```ts
 * const preface = new PrefaceMatcher();
 * preface.match(Buffer.from("PRI * HTTP/2.0\r\n")); // -1: more bytes needed
 * const next = preface.match(Buffer.from("\r\nSM\r\n\r\n\x00\x00\x00\x04")); // 8: frames start there
 * preface.done; // true
 * new PrefaceMatcher().match(Buffer.from("GET / HTTP/1.1\r\n")); // throws Http2PrefaceError
 * ```
 */
export class PrefaceMatcher {
  #matched = 0;

  /** True once all 24 bytes have matched. */
  get done(): boolean {
    return this.#matched === CONNECTION_PREFACE_LENGTH;
  }

  /** How many bytes of the preface have matched so far. */
  get matched(): number {
    return this.#matched;
  }

  /**
   * Matches bytes of `chunk` from `start`. Returns the index just after the preface once it is complete, or -1
   * when every byte matched but more are needed. Throws {@link Http2PrefaceError} at the first wrong byte (a
   * mismatch stays a mismatch: every later call throws too).
   */
  match(chunk: Uint8Array, start = 0): number {
    let m = this.#matched;
    if (m < 0) throw new Http2PrefaceError("invalid connection preface");
    let i = start;
    const end = chunk.length;
    while (m < CONNECTION_PREFACE_LENGTH && i < end) {
      if (chunk[i] !== PREFACE[m]) {
        this.#matched = -1;
        // The message depends only on the position and the byte, never on how the bytes were split.
        const hint =
          m === 0 && chunk[i] === 0x16 ? " (a TLS handshake: HTTP/2 over TLS needs the TLS layer first)" : "";
        throw new Http2PrefaceError(
          `invalid connection preface: byte ${m} is ${printable(chunk, i, i + 1)}, expected ${JSON.stringify(
            CONNECTION_PREFACE[m],
          )}${hint}`,
        );
      }
      m++;
      i++;
    }
    this.#matched = m;
    return m === CONNECTION_PREFACE_LENGTH ? i : -1;
  }
}

/**
 * True if `bytes` could be the start of an HTTP/2 prior-knowledge connection: they are a prefix of the preface,
 * or begin with all of it. For protocol sniffing (h2c with prior knowledge versus HTTP/1.1 on one port).
 *
 * @example
 * ```ts
 * startsWithPreface(Buffer.from("PRI * HT")); // true (so far)
 * startsWithPreface(Buffer.from("GET / HTTP/1.1")); // false
 * ```
 */
export function startsWithPreface(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, CONNECTION_PREFACE_LENGTH);
  for (let i = 0; i < n; i++) if (bytes[i] !== PREFACE[i]) return false;
  return true;
}
