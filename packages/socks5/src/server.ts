import { type Service, ShutdownError } from "@tessera/core";
import {
  type Conn,
  type ConnectRequest,
  connectRequest,
  Draining,
  forward,
  LocalAddr,
  type Lookup,
  conn as makeConn,
  raceConnectionEnd,
  systemLookup,
  tcpConnector,
} from "@tessera/net";
import { UNSPECIFIED } from "./address.js";
import type { Socks5Authenticator } from "./authenticator.js";
import { serveBind } from "./bind.js";
import { closeWith } from "./close.js";
import {
  answered,
  type CommandContext,
  isAnswered,
  type ServerSettings,
  successReply,
} from "./command-context.js";
import { type CommandName, commandName } from "./constants.js";
import {
  Socks5AuthError,
  Socks5CommandNotSupportedError,
  Socks5NotAllowedError,
  Socks5ProtocolError,
} from "./errors.js";
import { Socks5Request, Socks5Username } from "./keys.js";
import type { Socks5Policy } from "./policy.js";
import { replyCodeFor } from "./reply-code.js";
import { type HandshakeFailure, type HandshakeResult, ServerHandshake } from "./server-handshake.js";
import { serveUdpAssociate } from "./udp-relay.js";
import { encodeMessage } from "./wire.js";

export interface Socks5ServerOptions {
  /**
   * Username/password authentication (RFC 1929). When given, clients must authenticate (method 02) unless
   * `allowNoAuth` is also true; without it, clients connect without authentication (method 00).
   */
  readonly authenticate?: Socks5Authenticator;
  /** Accept clients that offer no authentication. Default: true without `authenticate`, false with it. */
  readonly allowNoAuth?: boolean;
  /**
   * The egress of CONNECT: any connector (TCP by default, with a 10 s timeout), so the server can chain to
   * another proxy or hand the tunnel to an inspection stack. The request forks the client's extensions, so a
   * client that goes away cancels the connect.
   */
  readonly connector?: Service<ConnectRequest, Conn>;
  /** Decides per target (CONNECT, BIND, each UDP destination). Default: everything is allowed. */
  readonly policy?: Socks5Policy;
  /** Which commands are served; a disabled one gets reply 07. Default: all three. */
  readonly commands?: {
    readonly connect?: boolean;
    readonly bind?: boolean;
    readonly udpAssociate?: boolean;
  };
  /** The greeting, authentication and request must all arrive within this many ms. Default 10 000. */
  readonly handshakeTimeout?: number;
  /** BIND: how long to wait for the incoming connection, in ms. Default 60 000. */
  readonly bindTimeout?: number;
  /**
   * The address BIND listeners and UDP relays bind to. Default: the local address of the client's connection
   * (the address the client reached the server on), else 127.0.0.1.
   */
  readonly bindHost?: string;
  /** Resolves domain names in UDP datagrams. Default: `dns.lookup`. */
  readonly lookup?: Lookup;
  /** UDP ASSOCIATE: the number of destinations one association remembers (replies come only from them). */
  readonly maxUdpDestinations?: number;
}

/**
 * A SOCKS5 server (RFC 1928, RFC 1929) as a `Service<Conn, void>`: give it to a listener, or call it with any
 * connection (a TLS one, an in-memory pair in a test, a connection sniffed by a multi-protocol port).
 *
 * - Method negotiation: no-auth and/or username/password through `authenticate`; method 0xFF and a close when
 *   nothing offered is acceptable.
 * - CONNECT through `connector`; BIND (a listener on `bindHost`, two replies); UDP ASSOCIATE (a UDP relay that
 *   takes datagrams only from the client, drops fragments, and ends with the TCP connection).
 * - Failures become reply codes (see {@link replyCodeFor}), then a clean close; the service rejects with the
 *   typed error (e.g. `ConnectionRefusedError`, {@link Socks5AuthError}, {@link Socks5ProtocolError}).
 * - Bytes a client sends right after its request (without waiting for the reply) are kept and forwarded.
 * - The handshake is bounded by `handshakeTimeout`; a request read while the listener drains gets 01. Tunnels
 *   end with the connection's signal (a forced shutdown resets them).
 * - The connection's extensions get {@link Socks5Username} (after authentication) and {@link Socks5Request}.
 *
 * @example
 * ```ts
 * const server = socks5Server({ authenticate: staticCredentials({ alice: "s3cret" }) });
 * const listener = await listen({ host: "127.0.0.1", port: 1080 }, server);
 * ```
 */
export function socks5Server(options: Socks5ServerOptions = {}): Service<Conn, void> {
  const commands = options.commands ?? {};
  const enabled = new Set<CommandName>();
  if (commands.connect !== false) enabled.add("connect");
  if (commands.bind !== false) enabled.add("bind");
  if (commands.udpAssociate !== false) enabled.add("udp-associate");
  const settings: ServerSettings = {
    authenticate: options.authenticate,
    allowNoAuth: options.allowNoAuth ?? options.authenticate === undefined,
    connector: options.connector ?? tcpConnector(),
    policy: options.policy,
    enabled,
    handshakeTimeout: options.handshakeTimeout ?? 10_000,
    bindTimeout: options.bindTimeout ?? 60_000,
    bindHost: options.bindHost,
    lookup: options.lookup ?? systemLookup,
    maxUdpDestinations: options.maxUdpDestinations ?? 1_024,
  };
  return { serve: (conn: Conn) => serveConnection(conn, settings) };
}

async function serveConnection(conn: Conn, settings: ServerSettings): Promise<void> {
  let request: HandshakeResult;
  try {
    request = await new ServerHandshake(conn, settings).run();
  } catch (failure) {
    const { error, answer } = failure as HandshakeFailure;
    await closeWith(conn.stream, answer, 200);
    throw error;
  }
  const { command, target } = request;
  const client = request.stream === conn.stream ? conn : makeConn(request.stream, conn.extensions);
  try {
    const name = commandName(command);
    if (name === undefined || !settings.enabled.has(name)) throw new Socks5CommandNotSupportedError(command);
    conn.extensions.insert(Socks5Request, { command: name, target });
    if (conn.extensions.get(Draining)?.aborted === true) {
      throw new ShutdownError("the server is shutting down");
    }
    if (settings.policy !== undefined) {
      const verdict = settings.policy.serve({ command: name, target, conn });
      const allowed = await raceConnectionEnd(verdict, conn);
      if (!allowed)
        throw new Socks5NotAllowedError(`${name} to ${target.host}:${target.port} is not allowed`);
    }
    const context: CommandContext = { client, target, settings };
    if (name === "connect") await serveConnect(context);
    else if (name === "bind") await serveBind(context);
    else await serveUdpAssociate(context);
  } catch (error) {
    if (!isAnswered(error)) await closeWith(client.stream, encodeMessage(replyCodeFor(error), UNSPECIFIED));
    throw error;
  }
}

async function serveConnect({ client, target, settings }: CommandContext): Promise<void> {
  const upstream = await settings.connector.serve(connectRequest(target, client.extensions.fork()));
  client.stream.write(successReply(upstream.extensions.get(LocalAddr)));
  try {
    // `until` rather than `signal: signalOf(client)`: the tunnel still ends with the client's signal, but for a
    // listener's connection that signal is never made (in Node 20 it cost ~20 us of CPU per CONNECT).
    await forward(client, upstream, { until: client });
  } catch (error) {
    throw answered(error);
  }
}
