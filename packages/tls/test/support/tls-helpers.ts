import type { Duplex } from "node:stream";
import { type ConnectionOptions, connect, type TLSSocket } from "node:tls";
import { Extensions, type Service } from "@tessera/core";
import { type Conn, memoryConnPair } from "@tessera/net";

/** Run `service` on the server end of an in-memory pair; the promise of its result is kept for assertions. */
export function serveInMemory(service: Service<Conn, void>): { client: Duplex; served: Promise<void> } {
  const [client, server] = memoryConnPair({ serverExtensions: new Extensions() });
  // The client's raw stream errors (ECONNRESET) when the server resets; the TLS socket on it reports that.
  client.stream.on("error", () => {});
  const served = service.serve(server);
  served.catch(() => {});
  return { client: client.stream, served };
}

/** A node:tls client over `stream`; resolves once the handshake is done. */
export function tlsClient(stream: Duplex, options: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ socket: stream, ...options });
    socket.once("secureConnect", () => resolve(socket));
    // The first error fails the handshake; later ones (a reset at teardown) are the test's to look at, never
    // a crash.
    socket.on("error", reject);
  });
}

/** Everything `stream` sends until it ends or closes. */
export function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", () => {});
    const done = () => resolve(Buffer.concat(chunks));
    stream.once("end", done);
    stream.once("close", done);
  });
}

/** An inner service that echoes the connection's bytes back. */
export const echo: Service<Conn, void> = {
  serve: (conn) =>
    new Promise<void>((resolve) => {
      conn.stream.pipe(conn.stream);
      conn.stream.once("close", resolve);
      conn.stream.once("end", resolve);
    }),
};
