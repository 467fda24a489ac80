import { type Authority, forwardService, parseAuthority, tcpConnector } from "@tessera/net";
import { intOption, parseArgs, UsageError } from "../args.js";
import { connectionStack } from "../connection-stack.js";
import type { Io } from "../io.js";
import { type Running, serve } from "../serve.js";
import { serverOptionSpec, serverOptionsHelp, serverSettings } from "./server-options.js";

export const forwardHelp = `tessera forward --to HOST:PORT [options]

A TCP relay: each accepted connection is connected to --to and bytes are forwarded both ways (with
backpressure and half-close) until both sides are done. If the upstream cannot be reached, the client's
connection is closed and the reason logged.

  --to HOST:PORT          where to forward (names are resolved with happy eyeballs)
  --connect-timeout MS    give up connecting upstream after this long [10000]

${serverOptionsHelp}`;

export async function forwardCommand(argv: readonly string[], io: Io): Promise<Running | undefined> {
  const args = parseArgs(argv, {
    ...serverOptionSpec,
    to: { type: "string" },
    "connect-timeout": { type: "string" },
  });
  if (args.help) {
    io.out(forwardHelp);
    return undefined;
  }
  if (args.to === undefined) throw new UsageError("--to HOST:PORT is required");
  let target: Authority;
  try {
    target = parseAuthority(args.to);
  } catch (error) {
    throw new UsageError(`--to: ${(error as Error).message}`);
  }
  const settings = serverSettings(args);
  const connector = tcpConnector({
    timeout: intOption(args["connect-timeout"], "connect-timeout", 10_000, 1),
  });
  return serve(io, settings, connectionStack(settings, forwardService(connector, target)));
}
