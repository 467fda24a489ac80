import { type Service, service } from "@tessera/core";
import { autoServer, type Request, Response } from "@tessera/http";
import { HeaderTimeoutError, Http1ParseError, type ServerOptions, server } from "@tessera/http1";
import { Http2FingerprintKey, server as http2Server } from "@tessera/http2";
import { type Conn, formatSocketAddress, PeerAddr, ProxiedClientAddr, ProxiedDestAddr } from "@tessera/net";
import type { Logger } from "pino";
import { intOption, type OptionSpec, type Parsed, parseArgs } from "../args.js";
import { connectionStack } from "../connection-stack.js";
import type { Io } from "../io.js";
import { type Running, serve } from "../serve.js";
import {
  type EchoTlsFields,
  echoTlsFields,
  echoTlsHelp,
  echoTlsOptionSpec,
  withEchoTls,
} from "./echo-tls.js";
import { serverOptionSpec, serverOptionsHelp, serverSettings } from "./server-options.js";

/** The HTTP options of the HTTP server commands (echo, proxy), on top of the shared server options. */
export const httpServerOptionSpec = {
  "header-timeout": { type: "string" },
  "idle-timeout": { type: "string" },
} as const satisfies Record<string, OptionSpec>;

export const httpServerOptionsHelp = `HTTP options:
  --header-timeout MS     a client must send a request head within this long (408 otherwise) [30000]
  --idle-timeout MS       close a keep-alive connection idle for this long [5000]`;

/** The HTTP/1.1 server for a command: the handler, the HTTP options, errors logged (peers' at debug). */
export function httpServer(
  handler: Service<Request, Response>,
  args: Parsed<typeof httpServerOptionSpec>,
  logger: Logger,
): Service<Conn, void> {
  const options: ServerOptions = {
    headerTimeout: intOption(args["header-timeout"], "header-timeout", 30_000, 1),
    idleTimeout: intOption(args["idle-timeout"], "idle-timeout", 5_000, 1),
    onError: (error, conn) => {
      const peer = conn.extensions.get(PeerAddr);
      const bindings = { err: error, peer: peer === undefined ? undefined : formatSocketAddress(peer) };
      // What a peer does wrong is answered (400, 408, ...) and is routine; anything else is ours to look at.
      if (error instanceof Http1ParseError || error instanceof HeaderTimeoutError)
        logger.debug(bindings, "bad request");
      else logger.warn(bindings, "request failed");
    },
  };
  return server(handler, options);
}

export const echoHelp = `tessera echo [options]

An HTTP echo server, HTTP/1.1 and HTTP/2 (h2c with prior knowledge) on the same port: every request gets 200 and a JSON document describing it: method, target, version,
the headers as [name, value] pairs in the order and casing they arrived, the body's size in bytes (read and
counted, not kept), the peer's address, and for HTTP/2 the client's Akamai fingerprint (S|WU|P|PS) and its MD5.

${httpServerOptionsHelp}

${echoTlsHelp}

${serverOptionsHelp}

Try: curl -H 'X-Mixed-Case: 1' -d hello http://HOST:PORT/anything
     curl --http2-prior-knowledge http://HOST:PORT/anything
     tessera echo --tls, then: curl -k https://HOST:PORT/anything`;

/** What `tessera echo` answers. */
export interface EchoDocument {
  readonly method: string;
  readonly target: string;
  readonly version: string;
  readonly headers: [string, string][];
  readonly bodySize: number;
  readonly peer: string | null;
  /** With --proxy-protocol: the original client and the address it connected to, from the PROXY header. */
  readonly proxied?: { readonly client: string; readonly destination: string };
  /** HTTP/2 only: the client's Akamai fingerprint (`S|WU|P|PS`) and its MD5. */
  readonly http2?: { readonly fingerprint: string; readonly hash: string };
  /** With --tls: SNI, ALPN, protocol version, cipher, JA3 (string and MD5) and JA4. */
  readonly tls?: EchoTlsFields;
}

/** The PROXY protocol's addresses, when the connection came with a header that had them. */
function proxiedOf(req: Request): Pick<EchoDocument, "proxied"> {
  const client = req.extensions.get(ProxiedClientAddr);
  const destination = req.extensions.get(ProxiedDestAddr);
  if (client === undefined || destination === undefined) return {};
  return { proxied: { client: formatSocketAddress(client), destination: formatSocketAddress(destination) } };
}

/** Describe the request as JSON (the body is read to count it, chunk by chunk, never held whole). */
export const echoHandler: Service<Request, Response> = service(async (req: Request) => {
  let bodySize = 0;
  for await (const chunk of req.body) bodySize += chunk.byteLength;
  const peer = req.extensions.get(PeerAddr);
  const fingerprint = req.extensions.get(Http2FingerprintKey);
  const tls = echoTlsFields(req);
  const document: EchoDocument = {
    method: req.method,
    target: req.target,
    version: req.version,
    headers: req.headers.toJSON(),
    bodySize,
    peer: peer === undefined ? null : formatSocketAddress(peer),
    ...proxiedOf(req),
    ...(fingerprint === undefined
      ? {}
      : { http2: { fingerprint: fingerprint.akamai, hash: fingerprint.hash } }),
    ...(tls === undefined ? {} : { tls }),
  };
  return Response.json(document, { request: req });
});

export async function echoCommand(argv: readonly string[], io: Io): Promise<Running | undefined> {
  const args = parseArgs(argv, { ...serverOptionSpec, ...httpServerOptionSpec, ...echoTlsOptionSpec });
  if (args.help) {
    io.out(echoHelp);
    return undefined;
  }
  const settings = serverSettings(args);
  // One port, both versions: the auto server reads the first bytes (the h2 preface means HTTP/2).
  const both = autoServer({
    http1: httpServer(echoHandler, args, settings.logger),
    http2: http2Server(echoHandler),
  });
  return serve(io, settings, connectionStack(settings, withEchoTls(args, both)));
}
