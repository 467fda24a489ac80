import { promises as dns } from "node:dns";
import { connect as netConnect, type Socket } from "node:net";
import {
  abortReason,
  errorCode,
  isTesseraError,
  raceAbort,
  type Service,
  SignalKey,
  signalOf,
  TimeoutError,
  withTimeout,
} from "@tessera/core";
import { inetSocketAddress, ipFamily, parseHost, parsePort } from "./address.js";
import { type Conn, conn } from "./conn.js";
import type { ConnectRequest } from "./connect-request.js";
import { type Ending, endedReason } from "./ending.js";
import { connectTimeout, DnsError, UnreachableError } from "./errors.js";
import { interleaveAddresses, type LookupAddress, raceTo } from "./happy-eyeballs.js";
import { ConnectTarget, LocalAddr, PeerAddr } from "./keys.js";
import { connectionSignal, ignoreError } from "./lifetime.js";
import { endingOf } from "./listener.js";

/** Resolve a name to addresses (all of them, in the resolver's order). */
export type Lookup = (hostname: string) => Promise<readonly LookupAddress[]>;

export interface TcpConnectorOptions {
  /** The whole connect (DNS and every attempt) must finish within this many ms. Default 10 000; `Infinity` for none. */
  readonly timeout?: number;
  /** Race staggered attempts over the resolved addresses (RFC 8305). Default true; false tries one after another. */
  readonly happyEyeballs?: boolean;
  /** Delay between staggered attempts. Default 250 ms (RFC 8305); at least 10. */
  readonly attemptDelay?: number;
  /** Only use addresses of this family. */
  readonly family?: 4 | 6;
  /** Resolve names with this instead of `dns.lookup(name, { all: true })` (tests, custom resolvers, caches). */
  readonly lookup?: Lookup;
  /** `TCP_NODELAY`. Default true: small writes (requests, handshakes) go out at once. */
  readonly noDelay?: boolean;
  /** TCP keep-alive: true, or the initial delay in ms. Default off. */
  readonly keepAlive?: boolean | number;
  /** Bind the local side to this address (only addresses of its family are tried). */
  readonly localAddress?: string;
}

/** The system resolver (`dns.lookup`, every address) as a {@link Lookup}: what connectors use by default. */
export const systemLookup: Lookup = async (hostname) => {
  const found = await dns.lookup(hostname, { all: true });
  return found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
};

/**
 * The TCP connector: a `Service<ConnectRequest, Conn>` that resolves the request's host, races connection
 * attempts over the addresses (happy eyeballs), and returns the connected socket as a {@link Conn}.
 *
 * - Cancellation: the request's signal (core `signalOf`) aborts the connect; pending sockets are destroyed,
 *   timers cleared, and the promise rejects with the signal's reason.
 * - Errors are typed: {@link ConnectionRefusedError}, {@link UnreachableError}, {@link ConnectTimeoutError},
 *   {@link DnsError}, {@link InvalidAddressError}, else {@link ConnectError}; the original is the `cause`.
 * - The connection's extensions fork the request's and add {@link PeerAddr}, {@link LocalAddr},
 *   {@link ConnectTarget} and a signal (core `SignalKey`) that aborts when the socket closes: the connection
 *   outlives the request, so the request's own (narrower) signal does not govern it.
 * - Sockets allow half-open: when the server ends its side, ours stays writable until it is ended.
 *
 * @example
 * ```ts
 * const connector = tcpConnector({ timeout: 5_000 });
 * const { stream } = await connector.serve(connectRequest("localhost:8080"));
 * stream.end("hello");
 * ```
 */
export function tcpConnector(options: TcpConnectorOptions = {}): Service<ConnectRequest, Conn> {
  const timeout = options.timeout ?? 10_000;
  const attemptDelay =
    options.happyEyeballs === false ? Number.POSITIVE_INFINITY : (options.attemptDelay ?? 250);
  const lookup = options.lookup ?? systemLookup;
  const noDelay = options.noDelay ?? true;
  const keepAlive = options.keepAlive !== undefined && options.keepAlive !== false;
  const keepAliveInitialDelay = typeof options.keepAlive === "number" ? options.keepAlive : undefined;
  const localAddress = options.localAddress;
  const localFamily = localAddress === undefined ? 0 : ipFamily(localAddress);
  const family = options.family ?? localFamily;

  // One connect function per connector (the race gives it the port): nothing is made per call but the socket.
  const connectOne = (target: LookupAddress, port: number): Socket =>
    netConnect({
      host: target.address,
      port,
      family: target.family,
      noDelay,
      keepAlive,
      keepAliveInitialDelay,
      localAddress,
      allowHalfOpen: true,
      // The race is ours (with our lookup, ordering and typed errors); Node's own must not run inside it.
      autoSelectFamily: false,
    });

  /** Race the attempts over `addresses` (`ending` not ended) with `timeLeft` ms of the timeout left. */
  const race = (
    addresses: readonly LookupAddress[],
    host: string,
    port: number,
    request: ConnectRequest,
    ending: Ending,
    timeLeft: number,
  ): Promise<Conn> =>
    raceTo(
      addresses,
      { host, port, attemptDelay, connect: connectOne, timeout: timeLeft, timeoutMs: timeout },
      ending,
      connectedConn,
      request,
    );

  const resolveAndRace = async (
    request: ConnectRequest,
    host: string,
    port: number,
    parent: AbortSignal,
  ): Promise<Conn> => {
    const started = Date.now();
    let addresses = interleaveAddresses(await resolveWithin(lookup, host, port, parent, timeout));
    if (family !== 0) addresses = addresses.filter((entry) => entry.family === family);
    if (addresses.length === 0)
      throw new DnsError(`${host} has no IPv${family} address`, "ENODATA", { host, port });
    if (parent.aborted) throw abortReason(parent);
    return race(addresses, host, port, request, parent, timeout - (Date.now() - started));
  };

  return {
    serve(request: ConnectRequest): Promise<Conn> {
      try {
        // For a listener's connection (a proxy's client) the race follows the connection's end itself: its
        // signal is never made (see ConnectionEnd). Otherwise, the request's signal.
        const ending = endingOf(request);
        const ended = endedReason(ending);
        if (ended !== undefined) throw ended;
        const host = parseHost(request.authority.host);
        const port = parsePort(request.authority.port);
        const literal = ipFamily(host);
        if (literal === 0) {
          return resolveAndRace(
            request,
            host,
            port,
            ending instanceof AbortSignal ? ending : signalOf(request),
          );
        }
        if (family !== 0 && literal !== family) {
          throw new UnreachableError(
            `${host} is not an IPv${family} address (only IPv${family} is allowed)`,
            {
              host,
              port,
            },
          );
        }
        // An IP literal (a proxy's usual target) goes straight to the race, which makes the connection when it
        // wins: no async step, no winner object and no child signal per connect (the race keeps the caller's
        // signal, or the connection's end, and the whole timeout itself).
        return race([{ address: host, family: literal }], host, port, request, ending, timeout);
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}

/** The winner of a connect race as the connector's {@link Conn} (shared by every race: no closure per call). */
function connectedConn(socket: Socket, address: LookupAddress, port: number, request: ConnectRequest): Conn {
  // The signal is made on first read (a relay never reads the upstream's), but the no-op 'error' listener
  // it comes with is needed from now on: an unhandled 'error' would crash the process.
  socket.on("error", ignoreError);
  const extensions = request.extensions
    .fork()
    .insert(PeerAddr, inetSocketAddress(address.address, port))
    .insert(LocalAddr, inetSocketAddress(socket.localAddress ?? "", socket.localPort ?? 0))
    .insert(ConnectTarget, request.authority)
    .insertLazy(SignalKey, connectionSignal, socket);
  return conn(socket, extensions);
}

/** Resolve `host` within `timeout` ms (a {@link ConnectTimeoutError} after that) or until `parent` aborts. */
async function resolveWithin(
  lookup: Lookup,
  host: string,
  port: number,
  parent: AbortSignal,
  timeout: number,
): Promise<readonly LookupAddress[]> {
  if (!Number.isFinite(timeout)) return raceAbort(resolve(lookup, host, port), parent);
  const cancellation = withTimeout(parent, timeout);
  try {
    return await raceAbort(resolve(lookup, host, port), cancellation.signal);
  } catch (error) {
    // Our own timer fired (the parent did not abort): that is a connect timeout, not the caller's abort.
    if (
      cancellation.signal.aborted &&
      !parent.aborted &&
      cancellation.signal.reason instanceof TimeoutError
    ) {
      throw connectTimeout(host, port, timeout, error);
    }
    throw error;
  } finally {
    cancellation.dispose();
  }
}

async function resolve(lookup: Lookup, host: string, port: number): Promise<readonly LookupAddress[]> {
  try {
    return await lookup(host);
  } catch (error) {
    if (isTesseraError(error)) throw error;
    const code = errorCode(error);
    const text = error instanceof Error ? error.message : String(error);
    throw new DnsError(`could not resolve ${host}${code === undefined ? "" : ` (${code})`}: ${text}`, code, {
      host,
      port,
      cause: error,
    });
  }
}
