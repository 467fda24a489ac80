import { type Layer, layer, type Service, service } from "@tessera/core";
import type { Conn } from "../conn.js";
import {
  PeekTimeoutError,
  ProxyHeaderError,
  ProxyHeaderMissingError,
  ProxyHeaderTimeoutError,
} from "../errors.js";
import { LocalAddr, PeerAddr, ProxiedClientAddr, ProxiedDestAddr, ProxyProtocolHeader } from "../keys.js";
import { peekConn } from "../peek.js";
import { PROXY_V1_MAX_LENGTH, PROXY_V2_FIXED_LENGTH, type ProxyHeader } from "./header.js";
import { DEFAULT_MAX_HEADER_LENGTH, type ProxyHeaderParse, parseProxyHeader } from "./parse.js";

export interface ProxyProtocolOptions {
  /**
   * - `"strict"` (default): every connection must start with a header; one that does not is closed with a
   *   {@link ProxyHeaderMissingError}. Use it when only the load balancer can reach the port.
   * - `"optional"`: a connection that does not start with a header is passed on with its bytes untouched.
   *   Only for ports where direct clients are expected too: anyone who can connect can claim any address.
   */
  readonly mode?: "strict" | "optional";
  /** The versions accepted. Default both; a header of another version counts as no header. */
  readonly versions?: readonly (1 | 2)[];
  /** The longest v2 header accepted, in bytes (at least 16). Default 4096. v1 lines are at most 107 bytes. */
  readonly maxHeaderLength?: number;
  /**
   * Milliseconds for the whole header to arrive. Default 10 000. In optional mode, a connection whose first
   * bytes have not committed to a header by then (none yet, or a prefix of a signature) is passed on as it is,
   * so protocols where the server speaks first still work.
   */
  readonly timeout?: number;
  /**
   * Also append the original client and destination to {@link PeerAddr} and {@link LocalAddr}, so code that
   * reads those (logs, the HTTP forwarded layer, per-client limits) sees the client instead of the load
   * balancer. Default false: `PeerAddr` stays the socket's peer, and the client is in {@link ProxiedClientAddr}.
   * Extensions are append-only, so the socket's addresses stay in `getAll(PeerAddr)` either way.
   */
  readonly appendPeerAddr?: boolean;
}

/** A connection after its PROXY protocol header, if it had one. */
export interface AcceptedProxyHeader {
  /** The connection to go on with: the header consumed, every byte after it still to be read. */
  readonly conn: Conn;
  /** The header, or undefined when optional mode found none. */
  readonly header: ProxyHeader | undefined;
}

const DEFAULT_TIMEOUT = 10_000;

/**
 * Record what the header says on the connection's extensions. Its ALPN and AUTHORITY TLVs stay in the header,
 * not in net's `Alpn`/`Sni`: they describe the client's TLS connection to the balancer, not this one (HAProxy
 * in HTTP mode negotiates h2 with the client and speaks HTTP/1.1 to us), and the HTTP server picks its protocol
 * from `Alpn`.
 */
function record(conn: Conn, header: ProxyHeader, appendPeerAddr: boolean): void {
  const ext = conn.extensions;
  ext.insert(ProxyProtocolHeader, header);
  if (header.command !== "proxy" || header.source === undefined || header.destination === undefined) return;
  ext.insert(ProxiedClientAddr, header.source).insert(ProxiedDestAddr, header.destination);
  if (appendPeerAddr) ext.insert(PeerAddr, header.source).insert(LocalAddr, header.destination);
}

/** The bytes seen commit to a header (a whole signature arrived): they can no longer be passed on as data. */
function committed(parsed: ProxyHeaderParse | undefined): boolean {
  return parsed?.status === "incomplete" && parsed.version !== undefined;
}

/**
 * Read the PROXY protocol header (v1 or v2) a connection starts with, record it on the connection's extensions
 * ({@link ProxyProtocolHeader}, {@link ProxiedClientAddr}, {@link ProxiedDestAddr}) and hand on the connection
 * with the header consumed: the bytes after it, even when they came in the same packet, are read next.
 *
 * A malformed, oversized, truncated or late header (and, in strict mode, a missing one) destroys the stream
 * and rejects with a typed error: `ProxyHeaderError` (with a `reason`), `ProxyHeaderTooLargeError`,
 * `ProxyHeaderMissingError`, `ProxyHeaderTimeoutError`.
 *
 * @example
 * ```ts
 * const { conn: next, header } = await acceptProxyHeader(conn, { mode: "optional" });
 * console.log(header?.source ?? "direct");
 * ```
 */
export async function acceptProxyHeader(
  conn: Conn,
  options?: ProxyProtocolOptions,
): Promise<AcceptedProxyHeader> {
  const mode = options?.mode ?? "strict";
  const maxHeaderLength = options?.maxHeaderLength ?? DEFAULT_MAX_HEADER_LENGTH;
  if (!Number.isInteger(maxHeaderLength) || maxHeaderLength < PROXY_V2_FIXED_LENGTH) {
    throw new RangeError(
      `proxyProtocol: maxHeaderLength must be an integer of at least ${PROXY_V2_FIXED_LENGTH}`,
    );
  }
  const parseOptions = { maxHeaderLength, versions: options?.versions ?? [1, 2] };
  const timeout = options?.timeout ?? DEFAULT_TIMEOUT;
  const fail = (error: Error): never => {
    conn.stream.destroy();
    throw error;
  };

  let parsed: ProxyHeaderParse | undefined;
  let peeked: Awaited<ReturnType<typeof peekConn>>;
  try {
    peeked = await peekConn(conn, {
      // Past this without a decision the parser has already thrown (v1 at 107, v2 once its length is known).
      max: Math.max(maxHeaderLength, PROXY_V1_MAX_LENGTH) + 1,
      timeout,
      until: (seen) => {
        parsed = parseProxyHeader(seen, parseOptions);
        return parsed.status !== "incomplete";
      },
    });
  } catch (error) {
    if (error instanceof PeekTimeoutError) {
      // The bytes seen were put back in place; in optional mode, ones that did not commit to a header are data.
      if (mode === "optional" && !committed(parsed)) return { conn, header: undefined };
      return fail(new ProxyHeaderTimeoutError(timeout, error.bytesSeen));
    }
    return fail(error as Error);
  }

  const result = parsed;
  if (result?.status === "complete") {
    // The header and what followed are back in the stream's buffer (peek puts them back in place when it
    // decides): take exactly the header. The caller goes on in the same turn, before an 'end' queued by this
    // read could be emitted, so a peer that sent the header and closed is still seen to end.
    const stream = peeked.conn.stream;
    const consumed = stream.read(result.length) as Buffer | null;
    if (consumed === null || consumed.length !== result.length) {
      return fail(new ProxyHeaderError("truncated", "the header could not be taken from the stream"));
    }
    record(peeked.conn, result.header, options?.appendPeerAddr === true);
    return { conn: peeked.conn, header: result.header };
  }
  if (result?.status === "absent") {
    if (mode === "optional") return { conn: peeked.conn, header: undefined };
    return fail(new ProxyHeaderMissingError("the connection does not start with a PROXY protocol header"));
  }
  // The peer ended (or, defensively, the read limit came) before the header was complete.
  if (committed(result)) {
    return fail(
      new ProxyHeaderError(
        "truncated",
        `the connection ended after ${peeked.bytes.length} bytes of a header`,
      ),
    );
  }
  if (mode === "optional") return { conn: peeked.conn, header: undefined };
  return fail(
    new ProxyHeaderMissingError(`the connection ended after ${peeked.bytes.length} bytes, before a header`),
  );
}

/**
 * A server layer for connections from a load balancer that speaks the HAProxy PROXY protocol (HAProxy's
 * `send-proxy`/`send-proxy-v2`, AWS NLB, ...): it reads the header with {@link acceptProxyHeader}, then serves
 * the connection with the inner service. The original addresses are in {@link ProxiedClientAddr} and
 * {@link ProxiedDestAddr} (and in `PeerAddr`/`LocalAddr` too with `appendPeerAddr`), the TLVs in
 * {@link ProxyProtocolHeader}.
 *
 * @example
 * ```ts
 * const server = stack(proxyProtocol({ mode: "strict", timeout: 5_000 })).into(http1.server(handler));
 * ```
 */
export function proxyProtocol<Out = void>(options?: ProxyProtocolOptions): Layer<Conn, Out> {
  return layer(
    (inner: Service<Conn, Out>): Service<Conn, Out> =>
      service(async (conn: Conn) => {
        const accepted = await acceptProxyHeader(conn, options);
        return inner.serve(accepted.conn);
      }),
  );
}
