import type { Service } from "@tessera/core";
import type { Conn } from "@tessera/net";
import { ServerConnection, type ServerHandler, type ServerShared } from "./connection.js";
import { ConnectionRegistry } from "./connection-registry.js";
import { resolveServerOptions, type ServerOptions } from "./options.js";

/**
 * The HTTP/1.1 server: a `Service<Conn, void>` that speaks HTTP/1.1 on any connection (TCP, TLS, Unix, an
 * in-memory pair) and answers each request with `handler`. Its promise resolves when the connection is done.
 *
 * - Keep-alive and pipelining: requests are read ahead (up to `maxPipelined`) and handled concurrently; responses
 *   go out in request order, batched into one socket write per incoming chunk when they are ready together.
 * - Requests: each forks the connection's extensions (connection state is visible, requests don't see each
 *   other) and its signal is the connection's (nothing is allocated per request for it). Header strings are
 *   made on access from the received bytes. A body streams through a `BodyChannel`: the socket is paused while
 *   the handler has 64 KiB unread. `Expect: 100-continue` is answered when the handler first reads the body.
 * - Responses: `Content-Length` when the body's length is known (a small buffered body goes out in the same
 *   write as the head), `Transfer-Encoding: chunked` otherwise, close-delimited for HTTP/1.0 clients, no body
 *   for HEAD, 1xx, 204 and 304. Streamed bodies honour the socket's backpressure. A cached `Date` is added.
 *   Content-Length, Transfer-Encoding, Connection and Keep-Alive set by the handler are replaced by the server's
 *   own framing (a `Connection: close` from the handler closes the connection after the response).
 * - `serve` may return the `Response` itself instead of a promise: it is then written without a microtask hop.
 * - A handler that throws or rejects gets 500 (or the 4xx a Tessera error carries, like 400 for a bad target),
 *   and nothing of the error is sent; if the head was already sent, the connection is closed instead.
 * - Bad input: a parse error is answered with the status it carries (400, 414, 431, 501, 505) and
 *   `Connection: close`, then the connection closes cleanly; nothing after the bad bytes is ever parsed.
 * - Timeouts: `headerTimeout` (408 and close, against slowloris) and `idleTimeout` between requests.
 * - Upgrades and CONNECT: a handler accepts with a 101 (or a 2xx to CONNECT) made with {@link withUpgrade}; after
 *   the head is written, that service gets the raw connection, replaying bytes the client sent early.
 * - Graceful shutdown: when the listener's `Draining` signal (or `options.shutdown`) aborts, idle connections
 *   close at once and busy ones answer their in-flight requests with `Connection: close`.
 *
 * @example
 * ```ts
 * import { service } from "@tessera/core";
 * import { Response, type Request } from "@tessera/http";
 * import { server } from "@tessera/http1";
 * import { listen } from "@tessera/net";
 *
 * const hello = service((req: Request) => Response.text(`hello ${req.path}\n`, { request: req }));
 * const listener = await listen({ host: "127.0.0.1", port: 8080 }, server(hello));
 * // curl http://127.0.0.1:8080/world  ->  hello /world
 * ```
 */
export function server(handler: ServerHandler, options?: ServerOptions): Service<Conn, void> {
  const resolved = resolveServerOptions(options);
  const shared: ServerShared = {
    handler,
    options: resolved,
    registry: new ConnectionRegistry(
      Math.min(resolved.headerTimeout, resolved.idleTimeout),
      resolved.shutdown,
    ),
    parsers: [],
  };
  return {
    serve(conn: Conn): Promise<void> {
      return new Promise<void>((resolve) => {
        new ServerConnection(conn, shared, resolve).start();
      });
    },
  };
}
