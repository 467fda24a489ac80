import { key, neverAborts, type Service } from "@tessera/core";
import { Alpn, type Conn, sniff } from "@tessera/net";

/** The protocol the auto server chose for a connection (on the connection's extensions). */
export type HttpProtocol = "http/1.1" | "h2";
export const HttpProtocolKey = key<HttpProtocol>("tessera.http.Protocol");

export interface AutoServerOptions {
  /** The HTTP/1.1 server, e.g. `server(handler)` from `@tessera/http1`. */
  readonly http1: Service<Conn, void>;
  /** The HTTP/2 server, e.g. `server(handler)` from `@tessera/http2`. */
  readonly http2: Service<Conn, void>;
  /**
   * How long a cleartext connection may take to send enough bytes to tell the protocols apart (at most 24).
   * Default 10 000 ms; then the connection is closed with net's `PeekTimeoutError`.
   */
  readonly sniffTimeout?: number;
}

/**
 * One `Service<Conn, void>` for HTTP/1.1 and HTTP/2 on the same port. After TLS, the negotiated ALPN (net's
 * `Alpn` key, written by the TLS acceptor) decides. On cleartext, the first bytes decide: the HTTP/2 client
 * preface means h2c with prior knowledge, anything else is HTTP/1.1. The first byte usually settles it, so an
 * HTTP/1 connection waits for nothing extra. The bytes read to decide are replayed to the chosen server.
 *
 * `@tessera/http` imports neither protocol package: you pass the two servers in.
 *
 * @example
 * ```ts
 * import { autoServer } from "@tessera/http";
 * import * as http1 from "@tessera/http1";
 * import * as http2 from "@tessera/http2";
 * import { listen } from "@tessera/net";
 *
 * const server = autoServer({ http1: http1.server(handler), http2: http2.server(handler) });
 * await listen({ host: "127.0.0.1", port: 8080 }, server);
 * // curl http://127.0.0.1:8080/ and curl --http2-prior-knowledge http://127.0.0.1:8080/ both work
 * ```
 */
export function autoServer(options: AutoServerOptions): Service<Conn, void> {
  const { http1, http2 } = options;
  const timeout = options.sniffTimeout ?? 10_000;
  return {
    async serve(conn: Conn): Promise<void> {
      const alpn = conn.extensions.get(Alpn);
      if (alpn === "h2") return choose(conn, "h2", http2);
      if (alpn !== undefined) return choose(conn, "http/1.1", http1);
      // The connection's own signal is not passed: reading it would make one per connection; a peer that
      // closes ends the sniff anyway, and the timeout bounds the wait.
      const sniffed = await sniff(conn, { timeout, signal: neverAborts() });
      return sniffed.protocol === "http2"
        ? choose(sniffed.conn, "h2", http2)
        : choose(sniffed.conn, "http/1.1", http1);
    },
  };
}

function choose(conn: Conn, protocol: HttpProtocol, server: Service<Conn, void>): Promise<void> {
  conn.extensions.insert(HttpProtocolKey, protocol);
  return server.serve(conn);
}
