import { formatSocketAddress, forwardService, listen, tcpConnector } from "@tessera/net";
import { parseArgs } from "../args.js";
import { connectionStack } from "../connection-stack.js";
import type { Io } from "../io.js";
import { type Running, serve } from "../serve.js";
import { serverOptionSpec, serverOptionsHelp, serverSettings } from "./server-options.js";
import { echo } from "./tcp-echo.js";

export const demoHelp = `tessera demo [options]

The main demo (what \`npm start\` runs): a TCP echo server on a free port behind a Tessera relay. --listen
sets the relay's address; the echo server listens on 127.0.0.1 with a free port.

${serverOptionsHelp}`;

export async function demo(argv: readonly string[], io: Io): Promise<Running | undefined> {
  const args = parseArgs(argv, serverOptionSpec);
  if (args.help) {
    io.out(demoHelp);
    return undefined;
  }
  const settings = serverSettings(args);
  // The relay in front reads any PROXY header (--proxy-protocol); the echo server behind it gets plain bytes.
  const backendSettings = { ...settings, proxyProtocol: undefined };
  const backend = await listen({ host: "127.0.0.1", port: 0 }, connectionStack(backendSettings, echo));
  const relay = forwardService(tcpConnector({ timeout: 5_000 }), formatSocketAddress(backend.address));
  const running = await serve(io, settings, connectionStack(settings, relay));
  const front = formatSocketAddress(running.listener.address);
  io.out(`echo server on ${formatSocketAddress(backend.address)}, relayed from ${front}`);
  io.out(`try:  printf 'hello tessera\\n' | nc -N ${front.replace(/:(\d+)$/, " $1")}`);
  io.out("stop: Ctrl-C");
  void running.closed.then(() => backend.close({ timeout: settings.graceMs }));
  return running;
}
