import { errorCode, type Service, service } from "@tessera/core";
import { autoServer, type HttpClient, httpClient, Request, Response } from "@tessera/http";
import {
  appendVia,
  clientConnection,
  server as http1Server,
  type ProxyAuth,
  proxyAuthorized,
  withoutHopByHop,
  withUpgrade,
} from "@tessera/http1";
import { clientConnection as http2Connection, server as http2Server } from "@tessera/http2";
import {
  type Authority,
  type Conn,
  type ConnectRequest,
  formatAuthority,
  forwardService,
  ipFamily,
  memoryConnPair,
  parseAuthority,
  peekConn,
  Sni,
} from "@tessera/net";
import {
  type CertificateIssuer,
  certificateIssuer,
  readClientHello,
  tlsAcceptor,
  tlsConnector,
} from "@tessera/tls";
import type { Logger } from "pino";
import { fileOption, type OptionSpec, type Parsed, UsageError } from "../args.js";

// The MITM part of `tessera proxy`: CONNECT tunnels are terminated here with a certificate issued on the fly by
// the user's CA, and each request inside is relayed to the origin over a TLS connection of our own, HTTP/1.1 or
// HTTP/2 by ALPN on each side independently. SOCKS5 CONNECT tunnels on the same port get the same treatment
// through `mitmConnector`. Kept apart from proxy.ts, which only calls the three exported functions.

export const mitmOptionSpec = {
  mitm: { type: "boolean" },
  "ca-cert": { type: "string" },
  "ca-key": { type: "string" },
  "no-mitm-for": { type: "string", repeat: true },
  "upstream-ca": { type: "string" },
  "upstream-insecure": { type: "boolean" },
} as const satisfies Record<string, OptionSpec>;

export const mitmHelp = `MITM options (TLS interception of CONNECT tunnels, HTTP and SOCKS5):
  --mitm                  terminate CONNECT tunnels with a certificate issued for the target by the CA below,
                          and relay each request to the origin over the proxy's own TLS connections (pooled;
                          h2 or http/1.1 by ALPN on each side); the origin is reached per request (a 502
                          inside the tunnel when it cannot be); requests and responses are logged at debug
  --ca-cert FILE          the CA certificate (PEM), e.g. from "tessera ca new"; clients must trust it
  --ca-key FILE           the CA's private key (PEM)
  --no-mitm-for HOST      tunnel HOST untouched (repeatable; "*.example.com" matches subdomains); a tunnel
                          to an IP address (socks5://, CONNECT to an address) is matched by its TLS SNI
  --upstream-ca FILE      trust this CA for origins (instead of the system roots)
  --upstream-insecure     do not verify origins' certificates`;

/**
 * The CONNECT targets not to intercept: exact names and `*.suffix` patterns, case-insensitive; undefined without
 * patterns (then no tunnel waits for its ClientHello to decide).
 */
function bypassMatcher(patterns: readonly string[]): ((host: string) => boolean) | undefined {
  if (patterns.length === 0) return undefined;
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const p of patterns.map((x) => x.toLowerCase())) {
    if (p.startsWith("*.")) suffixes.push(p.slice(1));
    else exact.add(p);
  }
  return (host) => {
    const h = host.toLowerCase();
    return exact.has(h) || suffixes.some((s) => h.endsWith(s));
  };
}

/** What the MITM needs, built once per proxy. */
export interface Mitm {
  readonly issuer: CertificateIssuer;
  readonly client: HttpClient;
  /** Whether a host (a CONNECT target, or the SNI of a tunnel to an IP address) is tunnelled untouched. */
  readonly bypass: ((host: string) => boolean) | undefined;
  readonly logger: Logger;
  /** Time for the client's side of an intercepted tunnel to complete its TLS handshake, ClientHello included. */
  readonly handshakeTimeoutMs: number;
}

/**
 * The MITM that `--mitm` and its options ask for, or undefined without `--mitm` (then the other MITM options
 * are a usage error).
 */
export function mitmFromArgs(args: Parsed<typeof mitmOptionSpec>, logger: Logger): Mitm | undefined {
  if (args.mitm !== true) {
    for (const name of ["ca-cert", "ca-key", "no-mitm-for", "upstream-ca", "upstream-insecure"] as const) {
      if (args[name] !== undefined) throw new UsageError(`--${name} needs --mitm`);
    }
    return undefined;
  }
  if (args["ca-cert"] === undefined || args["ca-key"] === undefined) {
    throw new UsageError("--mitm needs --ca-cert FILE and --ca-key FILE (see tessera ca new)");
  }
  let issuer: CertificateIssuer;
  try {
    issuer = certificateIssuer({
      ca: {
        cert: fileOption(args["ca-cert"], "ca-cert").toString(),
        key: fileOption(args["ca-key"], "ca-key").toString(),
      },
    });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--ca-cert/--ca-key: ${(error as Error).message}`);
  }
  const upstreamCa =
    args["upstream-ca"] === undefined ? undefined : fileOption(args["upstream-ca"], "upstream-ca");
  const client = httpClient({
    http1: clientConnection,
    http2: http2Connection,
    tls: tlsConnector({
      alpn: ["h2", "http/1.1"],
      ...(upstreamCa === undefined ? {} : { ca: upstreamCa }),
      insecure: args["upstream-insecure"] === true,
    }),
  });
  return {
    issuer,
    client,
    bypass: bypassMatcher(args["no-mitm-for"] ?? []),
    logger,
    handshakeTimeoutMs: 10_000,
  };
}

/**
 * The proxy handler with CONNECT intercepted when there is a MITM; otherwise `proxy` itself. Other requests
 * (absolute-form http, bypassed hosts, and any request without the credentials `auth` asks for, which `proxy`
 * answers with 407) go to `proxy`.
 */
export function withMitm(
  mitm: Mitm | undefined,
  proxy: Service<Request, Response>,
  direct: Service<ConnectRequest, Conn>,
  auth?: ProxyAuth,
): Service<Request, Response> {
  if (mitm === undefined) return proxy;
  return service(async (request: Request) => {
    if (request.method !== "CONNECT") return proxy.serve(request);
    if (auth !== undefined && !(await proxyAuthorized(request, auth))) return proxy.serve(request);
    let target: Authority;
    try {
      target = parseAuthority(request.target);
    } catch {
      return proxy.serve(request); // the proxy answers a bad target with its 400
    }
    if (mitm.bypass?.(target.host) === true) return proxy.serve(request);
    const response = new Response(
      200,
      undefined,
      undefined,
      request.extensions.fork(),
      "HTTP/1.1",
      "Connection Established",
    );
    return withUpgrade(response, interceptedTunnel(target, mitm, direct));
  });
}

/**
 * The egress of SOCKS5 CONNECT with a MITM: a target that is not bypassed gets, instead of a TCP connection,
 * one end of an in-memory pair whose other end is served by the same intercepting HTTPS server as an HTTP
 * CONNECT tunnel. The SOCKS5 server relays the client's bytes into it like into any upstream.
 */
export function mitmConnector(
  mitm: Mitm | undefined,
  direct: Service<ConnectRequest, Conn>,
): Service<ConnectRequest, Conn> {
  if (mitm === undefined) return direct;
  return {
    serve(request: ConnectRequest): Promise<Conn> {
      if (mitm.bypass?.(request.authority.host) === true) return direct.serve(request);
      const [ours, tunnel] = memoryConnPair();
      void interceptedTunnel(request.authority, mitm, direct).serve(tunnel);
      return Promise.resolve(ours);
    },
  };
}

// A tunnel to `target`, served as an HTTPS server of our own: the client's TLS is terminated with a certificate
// for what it asked for (its SNI, else the tunnel's host) and each request is relayed to the origin.
// A tunnel to an IP address (SOCKS5 with local resolution, CONNECT to an address) names its host only in the
// client's SNI, so with --no-mitm-for the ClientHello is read first: a bypassed SNI gets the tunnel forwarded to
// `target` through `direct`, bytes untouched (the client then sees the origin's own certificate).
function interceptedTunnel(
  target: Authority,
  mitm: Mitm,
  direct: Service<ConnectRequest, Conn>,
): Service<Conn, void> {
  const toAddress = ipFamily(target.host) !== 0;
  const relay = relayTo(target, toAddress, mitm);
  const https = tlsAcceptor({
    handshakeTimeout: mitm.handshakeTimeoutMs,
    config: (hello) => ({
      secureContext: mitm.issuer.secureContext(hello.serverName ?? target.host),
      alpn: ["h2", "http/1.1"],
    }),
  }).layer(autoServer({ http1: http1Server(relay), http2: http2Server(relay) }));
  const bypass = toAddress ? mitm.bypass : undefined;
  return {
    async serve(conn) {
      try {
        if (bypass === undefined) {
          await https.serve(conn);
          return;
        }
        const { conn: next, sni } = await peekServerName(conn, mitm.handshakeTimeoutMs);
        if (sni !== undefined && bypass(sni)) {
          mitm.logger.debug({ target: formatAuthority(target), sni }, "tunnelled untouched (--no-mitm-for)");
          await forwardService(direct, target).serve(next);
          return;
        }
        await https.serve(next);
      } catch (error) {
        mitm.logger.debug({ err: error, target: formatAuthority(target) }, "intercepted tunnel failed");
      }
    },
  };
}

// The acceptor's own bound on a ClientHello (up to 16 KiB, in records of any size).
const HELLO_PEEK_MAX = 2 * 16 * 1024 + 1024;

/**
 * The SNI of the ClientHello `conn` starts with, read without consuming it (the acceptor reads it again), and
 * the connection to go on with. No SNI for bytes that cannot become a ClientHello: the acceptor refuses them as
 * it refuses any bad hello. A client that sends no hello in time gets its tunnel closed (nothing else would).
 */
async function peekServerName(
  conn: Conn,
  timeoutMs: number,
): Promise<{ conn: Conn; sni: string | undefined }> {
  let sni: string | undefined;
  // Parsed as it comes; the read that completes the hello is the one whose SNI is kept.
  const until = (bytes: Buffer): boolean => {
    try {
      const read = readClientHello(bytes);
      if (read.status !== "complete") return false;
      sni = read.hello.serverName;
      return true;
    } catch {
      return true;
    }
  };
  try {
    const peeked = await peekConn(conn, { until, max: HELLO_PEEK_MAX, timeout: timeoutMs });
    return { conn: peeked.conn, sni };
  } catch (error) {
    conn.stream.destroy();
    throw error;
  }
}

// Each request from the client, sent to the origin over our own TLS connection (pooled per origin).
// A tunnel to an IP address (SOCKS5 with local resolution) names its origin in the client's SNI: that name is
// what the origin's certificate must match, so the relay goes to it (resolved again here).
function relayTo(target: Authority, toAddress: boolean, mitm: Mitm): Service<Request, Response> {
  const byAddress = `https://${formatAuthority(target)}`;
  return service(async (request: Request) => {
    const sni = toAddress ? request.extensions.get(Sni) : undefined;
    const origin =
      sni === undefined ? byAddress : `https://${formatAuthority({ host: sni, port: target.port })}`;
    const headers = appendVia(withoutHopByHop(request.headers), request.version, "tessera");
    const outgoing = new Request(
      request.method,
      `${origin}${request.target}`,
      headers,
      request.body,
      "HTTP/1.1",
      request.extensions.fork(),
    );
    let response: Response;
    try {
      response = await mitm.client.serve(outgoing);
    } catch (error) {
      mitm.logger.debug({ err: error, target: outgoing.target }, "upstream failed");
      return Response.text(`Bad Gateway (${errorCode(error) ?? "ERR_UPSTREAM"})\n`, {
        status: 502,
        request,
      });
    }
    mitm.logger.debug(
      {
        method: request.method,
        target: outgoing.target,
        status: response.status,
        upstream: response.version,
      },
      "intercepted",
    );
    const back = appendVia(withoutHopByHop(response.headers), response.version, "tessera");
    return new Response(
      response.status,
      back,
      response.body,
      request.extensions.fork(),
      request.version,
      response.reason,
    );
  });
}
