import type { Duplex } from "node:stream";
import { abortReason, errorCode, raceAbort, signalOf, TimeoutError, withTimeout } from "@tessera/core";
import { type Authority, type Conn, DnsError, ipFamily, type Lookup, systemLookup } from "@tessera/net";
import { type Socks5Address, socks5Address } from "./address.js";
import { Method, Reply } from "./constants.js";
import {
  Socks5AuthError,
  Socks5HandshakeTimeoutError,
  Socks5NoAcceptableMethodError,
  Socks5ProtocolError,
  Socks5ReplyError,
} from "./errors.js";
import { readMessage } from "./message-reader.js";
import {
  encodeCredentials,
  encodeGreeting,
  encodeMessage,
  parseAuthStatus,
  parseMessage,
  parseMethodSelection,
} from "./wire.js";

/** How a client talks to a SOCKS5 proxy. */
export interface Socks5ClientOptions {
  /** Username/password (RFC 1929), offered alongside no-auth; the proxy picks. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /**
   * `"remote"` (socks5h, the default): names go to the proxy, which resolves them. `"local"` (socks5): names are
   * resolved here and the proxy is given an IP address.
   */
  readonly resolve?: "remote" | "local";
  /** Resolves names for `resolve: "local"`. Default: `dns.lookup`. */
  readonly lookup?: Lookup;
  /** The whole handshake (methods, auth, request, first reply) must finish within this many ms. Default 10 000. */
  readonly timeout?: number;
}

/** The proxy's first reply to a request. */
export interface Socks5Handshake {
  /** The stream to go on with (bytes the proxy sent after its reply come first). */
  readonly stream: Duplex;
  /** BND.ADDR and BND.PORT of the reply. */
  readonly bound: Socks5Address;
}

/**
 * Run the client side of a SOCKS5 handshake on a connection to a proxy: offer methods, authenticate if the proxy
 * asks, send `command` for `target`, and read the first reply. Rejects with {@link Socks5NoAcceptableMethodError},
 * {@link Socks5AuthError}, {@link Socks5ReplyError} (carrying the reply code), {@link Socks5ProtocolError},
 * {@link Socks5HandshakeTimeoutError}, a DNS error (local resolution), or the reason of `signal` (default: the
 * connection's); the connection is destroyed then.
 *
 * @example
 * ```ts
 * const { stream, bound } = await socks5Handshake(proxyConn, Command.Connect, { host: "example.com", port: 443 });
 * ```
 */
export async function socks5Handshake(
  proxy: Conn,
  command: number,
  target: Authority,
  options: Socks5ClientOptions = {},
  signal: AbortSignal = signalOf(proxy),
): Promise<Socks5Handshake> {
  const timeout = options.timeout ?? 10_000;
  const parent = signal;
  const cancellation = withTimeout(parent, timeout);
  let stream = proxy.stream;
  try {
    const address =
      options.resolve === "local" && ipFamily(target.host) === 0
        ? await raceAbort(resolveHere(target, options.lookup ?? systemLookup), cancellation.signal)
        : socks5Address(target);
    if (cancellation.signal.aborted) throw abortReason(cancellation.signal);
    const credentials = options.username !== undefined || options.password !== undefined;
    const methods = credentials ? [Method.NoAuth, Method.UsernamePassword] : [Method.NoAuth];
    stream.write(encodeGreeting(methods));
    const selection = await readMessage(stream, parseMethodSelection, cancellation.signal);
    stream = selection.stream;
    const method = selection.value;
    if (method === Method.NoAcceptable)
      throw new Socks5NoAcceptableMethodError(
        methods,
        "the proxy accepts none of our authentication methods",
      );
    if (!methods.includes(method as 0 | 2)) {
      throw new Socks5ProtocolError("unexpected", `the proxy chose method ${method}, which was not offered`);
    }
    if (method === Method.UsernamePassword) {
      stream.write(encodeCredentials({ username: options.username ?? "", password: options.password ?? "" }));
      const status = await readMessage(stream, parseAuthStatus, cancellation.signal);
      stream = status.stream;
      if (status.value !== 0) throw new Socks5AuthError(options.username ?? "");
    }
    stream.write(encodeMessage(command, address));
    return await readReply(stream, cancellation.signal);
  } catch (error) {
    stream.destroy();
    const signal = cancellation.signal;
    if (signal.aborted && !parent.aborted && signal.reason instanceof TimeoutError) {
      throw new Socks5HandshakeTimeoutError(timeout);
    }
    throw error;
  } finally {
    cancellation.dispose();
  }
}

async function resolveHere(target: Authority, lookup: Lookup): Promise<Socks5Address> {
  let found: Awaited<ReturnType<Lookup>>;
  try {
    found = await lookup(target.host);
  } catch (error) {
    throw new DnsError(`could not resolve ${target.host}: ${(error as Error).message}`, errorCode(error), {
      host: target.host,
      port: target.port,
      cause: error,
    });
  }
  const first = found[0];
  if (first === undefined) {
    throw new DnsError(`${target.host} has no address`, "ENODATA", { host: target.host, port: target.port });
  }
  return socks5Address({ host: first.address, port: target.port });
}

/** Read a reply: BND and the stream to go on with, or a {@link Socks5ReplyError} for a failure code. */
async function readReply(stream: Duplex, signal: AbortSignal): Promise<Socks5Handshake> {
  const reply = await readMessage(stream, parseMessage, signal);
  if (reply.value.code !== Reply.Succeeded) throw new Socks5ReplyError(reply.value.code);
  return { stream: reply.stream, bound: reply.value.address };
}

/** Read the second reply of BIND (the peer's address), from the stream the first reply left. */
export async function readSecondReply(stream: Duplex, signal: AbortSignal): Promise<Socks5Handshake> {
  try {
    return await readReply(stream, signal);
  } catch (error) {
    stream.destroy();
    throw error;
  }
}
