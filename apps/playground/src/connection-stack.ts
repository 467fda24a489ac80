import { identity, type Service, stack } from "@tessera/core";
import { concurrencyLimit } from "@tessera/layers/concurrency-limit";
import { consumeErrors } from "@tessera/layers/consume-errors";
import { log } from "@tessera/layers/log";
import { timeout } from "@tessera/layers/timeout";
import {
  type Conn,
  formatSocketAddress,
  PeerAddr,
  type ProxyProtocolOptions,
  proxyProtocol,
} from "@tessera/net";
import type { Logger } from "pino";

export interface ConnectionLayers {
  readonly logger: Logger;
  /** Connections served at once; more wait in a queue of `queue`, then are refused. */
  readonly concurrency: number;
  readonly queue: number;
  /** Close a connection after this many ms (0: never). */
  readonly timeoutMs: number;
  /** Read a PROXY protocol header first (--proxy-protocol, --proxy-protocol-optional). */
  readonly proxyProtocol?: ProxyProtocolOptions | undefined;
}

/** What the server commands' `--help` says about the layers around their connection service. */
export const connectionLayersHelp = `Layers around each connection, outer first:
  log                 one line per connection at debug (id, peer, duration); errors at warn
  consumeErrors       a failed connection is logged and dropped; other connections carry on
  concurrencyLimit    --concurrency N connections served at once, --queue N more wait, the rest are closed
  timeout             --timeout MS closes a connection that lives longer (0: no limit)
  proxyProtocol       --proxy-protocol: the PROXY header is read (10 s at most) and the original client
                      recorded; a missing or malformed header closes the connection`;

/** The layers every `tessera` server command puts around its connection service. */
export function connectionStack(options: ConnectionLayers, inner: Service<Conn, void>): Service<Conn, void> {
  return stack(
    log<Conn, void>({
      logger: options.logger,
      level: "debug",
      errorLevel: "warn",
      bindings: (conn) => {
        const peer = conn.extensions.get(PeerAddr);
        return peer ? { peer: formatSocketAddress(peer) } : {};
      },
    }),
    consumeErrors<Conn>({ logger: options.logger }),
    concurrencyLimit(options.concurrency, { queue: options.queue }),
    options.timeoutMs > 0 ? timeout(options.timeoutMs) : identity(),
    options.proxyProtocol === undefined ? identity() : proxyProtocol<void>(options.proxyProtocol),
  ).into(inner);
}
