import { pipeline } from "node:stream/promises";
import { type Service, service, signalOf } from "@tessera/core";
import type { Conn } from "@tessera/net";
import { parseArgs } from "../args.js";
import { connectionStack } from "../connection-stack.js";
import type { Io } from "../io.js";
import { type Running, serve } from "../serve.js";
import { serverOptionSpec, serverOptionsHelp, serverSettings } from "./server-options.js";

export const tcpEchoHelp = `tessera tcp-echo [options]

A TCP echo server: every byte a client sends comes back; when the client ends its side, the server ends
its side after the last byte.

${serverOptionsHelp}

Try: printf 'hello\\n' | nc -N HOST PORT`;

/** Echo a connection's bytes back, with backpressure and half-close; stops when the connection's signal aborts. */
export const echo: Service<Conn, void> = service(async (conn: Conn) => {
  await pipeline(conn.stream, conn.stream, { signal: signalOf(conn) });
});

export async function tcpEcho(argv: readonly string[], io: Io): Promise<Running | undefined> {
  const args = parseArgs(argv, serverOptionSpec);
  if (args.help) {
    io.out(tcpEchoHelp);
    return undefined;
  }
  const settings = serverSettings(args);
  return serve(io, settings, connectionStack(settings, echo));
}
