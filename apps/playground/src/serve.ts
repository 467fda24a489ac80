import type { Service } from "@tessera/core";
import { type Conn, formatSocketAddress, type Listener, listen, parseAuthority } from "@tessera/net";
import type { Logger } from "pino";
import { UsageError } from "./args.js";
import type { Io } from "./io.js";

export interface ServeOptions {
  /** `HOST:PORT` from `--listen`. */
  readonly listen: string;
  readonly maxConnections: number;
  /** Grace period for in-flight connections on SIGINT/SIGTERM. */
  readonly graceMs: number;
  readonly logger: Logger;
}

export interface Running {
  readonly listener: Listener;
  /** Resolves once the server has shut down (after SIGINT/SIGTERM or `stop()`). */
  readonly closed: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start a server command: listen, print `listening on HOST:PORT` on its own line once connections are
 * accepted (scripts and tests wait for that line), and shut down gracefully on SIGINT/SIGTERM.
 */
export async function serve(io: Io, options: ServeOptions, server: Service<Conn, void>): Promise<Running> {
  let address: { host: string; port: number };
  try {
    address = parseAuthority(options.listen, { allowZero: true });
  } catch (error) {
    throw new UsageError(`--listen: ${(error as Error).message}`);
  }
  const listener = await listen({ host: address.host, port: address.port }, server, {
    maxConnections: options.maxConnections,
    onError: (error) => options.logger.warn({ err: error }, "connection failed"),
  });
  io.out(`listening on ${formatSocketAddress(listener.address)}`);

  let closedResolve!: () => void;
  const closed = new Promise<void>((resolve) => {
    closedResolve = resolve;
  });
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: string): void => {
    options.logger.info({ signal }, "shutting down");
    void stop();
  };
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      io.signals.off("SIGINT", onSignal);
      io.signals.off("SIGTERM", onSignal);
      const result = await listener.close({ timeout: options.graceMs });
      options.logger.info(result, "closed");
      closedResolve();
    })();
    return stopping;
  };
  io.signals.on("SIGINT", onSignal);
  io.signals.on("SIGTERM", onSignal);
  return { listener, closed, stop };
}
