import type { ProxyProtocolOptions } from "@tessera/net";
import { intOption, type OptionSpec, type Parsed, UsageError } from "../args.js";
import { connectionLayersHelp } from "../connection-stack.js";
import { cliLogger } from "../logger.js";

/** Options every server command takes. */
export const serverOptionSpec = {
  listen: { type: "string" },
  "max-connections": { type: "string" },
  concurrency: { type: "string" },
  queue: { type: "string" },
  timeout: { type: "string" },
  grace: { type: "string" },
  "log-level": { type: "string" },
  "proxy-protocol": { type: "boolean" },
  "proxy-protocol-optional": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies Record<string, OptionSpec>;

export const serverOptionsHelp = `Server options:
  --listen HOST:PORT      where to listen (port 0 picks a free one) [127.0.0.1:0]
  --max-connections N     open connections at most; more are closed at once [10000]
  --concurrency N         connections served at once [1000]
  --queue N               connections waiting for a slot [1000]
  --timeout MS            close connections older than this, 0 for never [0]
  --grace MS              on SIGINT/SIGTERM, wait this long for open connections [5000]
  --log-level LEVEL       fatal|error|warn|info|debug|trace|silent, JSON on stderr [info]
  --proxy-protocol        every connection starts with a HAProxy PROXY protocol header (v1 or v2), as
                          behind HAProxy's send-proxy or a cloud load balancer; others are closed
  --proxy-protocol-optional  read a PROXY header when there is one, serve the connection either way
                          (anyone who can connect can then claim any client address)

Prints "listening on HOST:PORT" on its own line once it accepts connections.

${connectionLayersHelp}`;

function proxyProtocolSetting(args: Parsed<typeof serverOptionSpec>): ProxyProtocolOptions | undefined {
  if (args["proxy-protocol"] && args["proxy-protocol-optional"]) {
    throw new UsageError("--proxy-protocol and --proxy-protocol-optional exclude each other");
  }
  if (args["proxy-protocol"]) return { mode: "strict" };
  if (args["proxy-protocol-optional"]) return { mode: "optional" };
  return undefined;
}

export function serverSettings(args: Parsed<typeof serverOptionSpec>) {
  return {
    listen: args.listen ?? "127.0.0.1:0",
    maxConnections: intOption(args["max-connections"], "max-connections", 10_000, 1),
    concurrency: intOption(args.concurrency, "concurrency", 1_000, 1),
    queue: intOption(args.queue, "queue", 1_000, 0),
    timeoutMs: intOption(args.timeout, "timeout", 0, 0),
    graceMs: intOption(args.grace, "grace", 5_000, 0),
    logger: cliLogger(args["log-level"] ?? "info"),
    proxyProtocol: proxyProtocolSetting(args),
  };
}
