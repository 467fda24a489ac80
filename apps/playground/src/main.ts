import { UsageError } from "./args.js";
import { caCommand, caHelp } from "./commands/ca.js";
import { demo, demoHelp } from "./commands/demo.js";
import { echoCommand, echoHelp } from "./commands/echo.js";
import { forwardCommand, forwardHelp } from "./commands/forward.js";
import { httpCommand, httpHelp } from "./commands/http.js";
import { proxyCommand, proxyHelp } from "./commands/proxy.js";
import { socks5Command, socks5Help } from "./commands/socks5.js";
import { tcpEcho, tcpEchoHelp } from "./commands/tcp-echo.js";
import { type Io, processIo } from "./io.js";
import type { Running } from "./serve.js";

type Command = (argv: readonly string[], io: Io) => Promise<Running | undefined>;

const commands: Record<string, { run: Command; help: string; summary: string }> = {
  demo: { run: demo, help: demoHelp, summary: "the main demo: an echo server behind a relay" },
  "tcp-echo": { run: tcpEcho, help: tcpEchoHelp, summary: "TCP echo server" },
  forward: { run: forwardCommand, help: forwardHelp, summary: "TCP relay to --to HOST:PORT" },
  echo: {
    run: echoCommand,
    help: echoHelp,
    summary: "HTTP/1.1 and h2c echo server (a JSON view of each request)",
  },
  proxy: { run: proxyCommand, help: proxyHelp, summary: "HTTP forward proxy (absolute-form and CONNECT)" },
  socks5: {
    run: socks5Command,
    help: socks5Help,
    summary: "SOCKS5 proxy (CONNECT, BIND, UDP ASSOCIATE; --auth, --allow-private)",
  },
  ca: { run: caCommand, help: caHelp, summary: "create a CA for proxy --mitm (ca new --out DIR)" },
  http: { run: httpCommand, help: httpHelp, summary: "HTTP/1.1 client, like curl -i (not a server)" },
};

export const usage = `tessera <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`)
  .join("\n")}

Run "tessera <command> --help" for a command's options.`;

/**
 * Run the CLI. Resolves with the running server (tests stop it), or undefined for commands that finish.
 * Usage errors are printed with the usage and give exit code 2.
 */
export async function main(argv: readonly string[], io: Io = processIo): Promise<Running | undefined> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(usage);
    return undefined;
  }
  const command = commands[name];
  if (command === undefined) throw new UsageError(`unknown command "${name}"`);
  return command.run(rest, io);
}
