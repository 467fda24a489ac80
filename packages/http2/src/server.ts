import type { Service } from "@tessera/core";
import type { Conn } from "@tessera/net";
import { type Http2Handler, Http2ServerConnection, type Http2ServerShared } from "./connection.js";
import { type Http2ServerOptions, resolveServerOptions } from "./options.js";

/**
 * The HTTP/2 server (RFC 9113), h2c with prior knowledge: a `Service<Conn, void>` for connections that start
 * with the client connection preface (after TLS with ALPN "h2", or cleartext when both sides know). Its promise
 * resolves when the connection is done.
 *
 * - Each request (HEADERS block) becomes a `Request` (version "HTTP/2") whose extensions fork the connection's
 *   and whose signal aborts when the client resets the stream or the connection closes; fields are checked per
 *   RFC 9113 8.2/8.3 (a malformed request is reset with PROTOCOL_ERROR). The body streams: flow-control credit
 *   goes back only as the handler reads, so a slow handler stops the client.
 * - Responses: HEADERS, DATA as the client's windows allow (a body is pulled only as fast as it can be sent),
 *   trailers from the body. Frames made in one turn leave in one socket write. A handler that throws gets 500,
 *   or RST_STREAM INTERNAL_ERROR once the headers are out.
 * - Defences: Rapid Reset, SETTINGS/PING floods, empty-frame floods, CONTINUATION floods, stream-limit abuse
 *   end the connection with GOAWAY ENHANCE_YOUR_CALM; see {@link Http2ServerOptions}.
 * - Graceful shutdown: net's `Draining` signal (or `options.shutdown`) sends GOAWAY, finishes in-flight streams,
 *   then closes.
 *
 * @example
 * ```ts
 * import { service } from "@tessera/core";
 * import { Response, type Request } from "@tessera/http";
 * import { server } from "@tessera/http2";
 * import { listen } from "@tessera/net";
 *
 * const hello = service((req: Request) => Response.text(`hello ${req.path}\n`, { request: req }));
 * const listener = await listen({ host: "127.0.0.1", port: 8080 }, server(hello));
 * // curl --http2-prior-knowledge http://127.0.0.1:8080/world  ->  hello /world
 * ```
 */
export function server(handler: Http2Handler, options?: Http2ServerOptions): Service<Conn, void> {
  const shared: Http2ServerShared = { handler, options: resolveServerOptions(options) };
  return {
    serve(conn: Conn): Promise<void> {
      return new Promise<void>((resolve) => {
        new Http2ServerConnection(conn, shared, resolve).start();
      });
    },
  };
}
