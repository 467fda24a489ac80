import { forwardProxy } from "@tessera/http1";
import { tcpConnector } from "@tessera/net";
import { intOption, parseArgs } from "../args.js";
import { connectionStack } from "../connection-stack.js";
import type { Io } from "../io.js";
import { type Running, serve } from "../serve.js";
import { httpServer, httpServerOptionSpec, httpServerOptionsHelp } from "./echo.js";
import { mitmConnector, mitmFromArgs, mitmHelp, mitmOptionSpec, withMitm } from "./mitm.js";
import { serverOptionSpec, serverOptionsHelp, serverSettings } from "./server-options.js";
import { parseAuthOption, playgroundSocks5, socks5Or } from "./socks5.js";

export const proxyHelp = `tessera proxy [options]

An HTTP forward proxy. Requests in absolute form (GET http://host/path) are sent on to the origin, with the
hop-by-hop headers removed and Via added both ways; CONNECT host:port opens a tunnel once the upstream
connection is established (502 if it fails, 504 if it times out). With --auth, clients must send
Proxy-Authorization: Basic credentials (407 otherwise).

The same port also speaks SOCKS5 (a first byte of 5 picks it): CONNECT, BIND and UDP ASSOCIATE, with --auth as
RFC 1929 username/password. Like the HTTP side, it reaches any target, private ones included.

  --auth USER:PASS        require these credentials (the password may contain ':')
  --connect-timeout MS    give up connecting upstream after this long (504) [10000]

${mitmHelp}

${httpServerOptionsHelp}

${serverOptionsHelp}

Try: curl -x http://HOST:PORT http://example.com/    or, tunnelled:    curl -p -x http://HOST:PORT https://example.com/`;

export async function proxyCommand(argv: readonly string[], io: Io): Promise<Running | undefined> {
  const args = parseArgs(argv, {
    ...serverOptionSpec,
    ...httpServerOptionSpec,
    auth: { type: "string" },
    "connect-timeout": { type: "string" },
    ...mitmOptionSpec,
  });
  if (args.help) {
    io.out(proxyHelp);
    return undefined;
  }
  const settings = serverSettings(args);
  const connectTimeout = intOption(args["connect-timeout"], "connect-timeout", 10_000, 1);
  // One --auth for all three: Basic on the HTTP side (forward proxy and --mitm), RFC 1929 on the SOCKS5 side.
  const auth = args.auth === undefined ? undefined : parseAuthOption(args.auth);
  const connector = tcpConnector({ timeout: connectTimeout });
  const handler = forwardProxy({
    connector,
    connectTimeout,
    auth,
    onError: (error, request) =>
      settings.logger.debug(
        { err: error, method: request.method, target: request.target },
        "upstream failed",
      ),
  });
  // SOCKS5 on the same port (see socks5.ts): the first byte tells them apart.
  // With --mitm, CONNECT tunnels (HTTP and SOCKS5) are intercepted (see mitm.ts); everything else goes to the
  // forward proxy or straight to the target.
  const mitm = mitmFromArgs(args, settings.logger);
  const socks5 = playgroundSocks5({
    auth,
    allowPrivate: true,
    connectTimeout,
    egress: (direct) => mitmConnector(mitm, direct),
  });
  const http = httpServer(withMitm(mitm, handler, connector, auth), args, settings.logger);
  const server = socks5Or(socks5, http);
  return serve(io, settings, connectionStack(settings, server));
}
