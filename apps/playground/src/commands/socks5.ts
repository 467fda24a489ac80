import { type Service, stack } from "@tessera/core";
import { type Conn, type ConnectRequest, peekConn, tcpConnector } from "@tessera/net";
import {
  publicAddressLookup,
  publicTargetsOnly,
  type Socks5ServerOptions,
  socks5Connect,
  socks5Server,
  staticCredentials,
} from "@tessera/socks5";
import { intOption, parseArgs, UsageError } from "../args.js";
import { connectionStack } from "../connection-stack.js";
import type { Io } from "../io.js";
import { type Running, serve } from "../serve.js";
import { serverOptionSpec, serverOptionsHelp, serverSettings } from "./server-options.js";

export const socks5Help = `tessera socks5 [options]

A SOCKS5 proxy (RFC 1928): CONNECT, BIND and UDP ASSOCIATE, IPv4, IPv6 and domain targets. With --auth,
clients must authenticate with that user name and password (RFC 1929); otherwise no authentication is asked.
Targets that are loopback, private, link-local or otherwise not public (literals, and what names resolve to) are
refused with reply 02 unless --allow-private is given.

  --auth USER:PASS        require these credentials (the password may contain ':')
  --allow-private         allow loopback and private targets (127.0.0.1, 10.x, 192.168.x, ::1, ...)
  --connect-timeout MS    give up connecting to a target after this long (reply 06) [10000]
  --handshake-timeout MS  close clients that do not finish the handshake within this long [10000]

${serverOptionsHelp}

Try: curl --socks5-hostname HOST:PORT http://example.com/    or    curl -x socks5h://USER:PASS@HOST:PORT URL`;

/** `USER:PASS` from `--auth` (the first ':' separates them), for this command and `tessera proxy`. */
export function parseAuthOption(text: string): { username: string; password: string } {
  const colon = text.indexOf(":");
  if (colon <= 0) throw new UsageError(`--auth needs USER:PASS, got ${JSON.stringify(text)}`);
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

export interface PlaygroundSocks5Options {
  readonly auth?: { username: string; password: string } | undefined;
  /** Let clients reach loopback and private addresses. */
  readonly allowPrivate: boolean;
  readonly connectTimeout: number;
  readonly handshakeTimeout?: number;
  /** Wraps the TCP connector CONNECT uses (e.g. to hand tunnels to an inspection stack). */
  readonly egress?: (direct: Service<ConnectRequest, Conn>) => Service<ConnectRequest, Conn>;
}

/** The playground's SOCKS5 server: `tessera socks5`, and the SOCKS5 half of `tessera proxy`. */
export function playgroundSocks5(options: PlaygroundSocks5Options): Service<Conn, void> {
  const guard = options.allowPrivate ? undefined : publicAddressLookup();
  const direct = tcpConnector({ timeout: options.connectTimeout, ...(guard ? { lookup: guard } : {}) });
  const settings: Socks5ServerOptions = {
    connector: options.egress?.(direct) ?? direct,
    ...(guard ? { policy: publicTargetsOnly(), lookup: guard } : {}),
    ...(options.auth
      ? { authenticate: staticCredentials({ [options.auth.username]: options.auth.password }) }
      : {}),
    ...(options.handshakeTimeout === undefined ? {} : { handshakeTimeout: options.handshakeTimeout }),
  };
  return socks5Server(settings);
}

/**
 * One port for SOCKS5 and another protocol: a connection whose first byte is 5 (the SOCKS5 version) goes to
 * `socks5`, any other to `other`, with the byte put back. A client silent for 10 s is dropped.
 */
export function socks5Or(socks5: Service<Conn, void>, other: Service<Conn, void>) {
  return {
    async serve(conn: Conn): Promise<void> {
      const peeked = await peekConn(conn, { bytes: 1, timeout: 10_000 });
      if (peeked.bytes.length === 0) return; // closed before saying anything
      return peeked.bytes[0] === 0x05 ? socks5.serve(peeked.conn) : other.serve(peeked.conn);
    },
  } satisfies Service<Conn, void>;
}

export async function socks5Command(argv: readonly string[], io: Io): Promise<Running | undefined> {
  const args = parseArgs(argv, {
    ...serverOptionSpec,
    auth: { type: "string" },
    "allow-private": { type: "boolean" },
    "connect-timeout": { type: "string" },
    "handshake-timeout": { type: "string" },
  });
  if (args.help) {
    io.out(socks5Help);
    return undefined;
  }
  const settings = serverSettings(args);
  const server = playgroundSocks5({
    auth: args.auth === undefined ? undefined : parseAuthOption(args.auth),
    allowPrivate: args["allow-private"] === true,
    connectTimeout: intOption(args["connect-timeout"], "connect-timeout", 10_000, 1),
    handshakeTimeout: intOption(args["handshake-timeout"], "handshake-timeout", 10_000, 1),
  });
  return serve(io, settings, connectionStack(settings, server));
}

/**
 * A `socks5://[USER:PASS@]HOST:PORT` (names resolved here) or `socks5h://...` (names resolved by the proxy) URL as
 * a connector through that proxy, for `tessera http --proxy` (which parsed the URL and its credentials).
 */
export function socks5ProxyConnector(
  url: URL,
  credentials: { username: string; password: string } | undefined,
): Service<ConnectRequest, Conn> {
  const scheme = url.protocol.slice(0, -1);
  if (url.port === "" || (url.pathname !== "" && url.pathname !== "/")) {
    throw new UsageError(`--proxy: ${JSON.stringify(url.href)} must be ${scheme}://[USER:PASS@]HOST:PORT`);
  }
  // url.host is HOST:PORT with an IPv6 literal in brackets: socks5Connect parses it (net's parseAuthority).
  return stack(
    socks5Connect({ proxy: url.host, resolve: scheme === "socks5h" ? "remote" : "local", ...credentials }),
  ).into(tcpConnector());
}
