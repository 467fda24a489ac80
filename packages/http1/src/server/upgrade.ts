import { type Key, key, type Service } from "@tessera/core";
import type { Response } from "@tessera/http";
import type { Conn } from "@tessera/net";

/**
 * The service that takes over a connection once the server has sent a `101 Switching Protocols` (to a request
 * with `Upgrade`) or a 2xx to `CONNECT`. A handler accepts an upgrade by putting it on its response's extensions
 * ({@link withUpgrade}); the server writes the response head, stops speaking HTTP/1 on the connection and calls
 * the service with the raw connection: its stream first replays any bytes the client sent after the request
 * head, and its extensions are the request's (so the connection's and the handler's breadcrumbs are there).
 *
 * A response with another status declines: the server goes on with HTTP/1 (after a declined CONNECT it closes,
 * since the client may already have sent tunnel bytes).
 *
 * @example
 * ```ts
 * // A layer can see whether a handler accepted an upgrade:
 * const accepted = res.extensions.get(OnUpgrade) !== undefined;
 * ```
 */
export const OnUpgrade: Key<Service<Conn, void>> = key<Service<Conn, void>>("tessera.http1.OnUpgrade");

/**
 * Mark `response` (a 101, or a 2xx answering CONNECT) as accepting the upgrade: once it is written, `service`
 * gets the connection. Returns the same response.
 *
 * @example
 * ```ts
 * const handler = service((req: Request) => {
 *   if (req.headers.get("upgrade")?.toLowerCase() !== "echo") return Response.text("use Upgrade: echo", { status: 426 });
 *   const res = Response.create({ status: 101, headers: [["Connection", "Upgrade"], ["Upgrade", "echo"]], request: req });
 *   return withUpgrade(res, service(async (conn: Conn) => { await pipeline(conn.stream, conn.stream); }));
 * });
 * ```
 */
export function withUpgrade(response: Response, service: Service<Conn, void>): Response {
  response.extensions.insert(OnUpgrade, service);
  return response;
}
