import { readFileSync } from "node:fs";
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
import { type Authority, type Conn, formatAuthority, parseAuthority } from "@tessera/net";
import { type CertificateIssuer, certificateIssuer, tlsAcceptor, tlsConnector } from "@tessera/tls";
import type { Logger } from "pino";
import { type OptionSpec, type Parsed, UsageError } from "../args.js";

// The MITM part of `tessera proxy`: CONNECT tunnels are terminated here with a certificate issued on the fly by
// the user's CA, and each request inside is relayed to the origin over a TLS connection of our own, HTTP/1.1 or
// HTTP/2 by ALPN on each side independently. Kept apart from proxy.ts, which only calls `withMitm`.

export const mitmOptionSpec = {
  mitm: { type: "boolean" },
  "ca-cert": { type: "string" },
  "ca-key": { type: "string" },
  "no-mitm-for": { type: "string", repeat: true },
  "upstream-ca": { type: "string" },
  "upstream-insecure": { type: "boolean" },
} as const satisfies Record<string, OptionSpec>;

export const mitmHelp = `MITM options (TLS interception of CONNECT tunnels):
  --mitm                  terminate CONNECT tunnels with a certificate issued for the target by the CA below,
                          and relay each request to the origin over the proxy's own TLS connections (pooled;
                          h2 or http/1.1 by ALPN on each side); the origin is reached per request (a 502
                          inside the tunnel when it cannot be); requests and responses are logged at debug
  --ca-cert FILE          the CA certificate (PEM), e.g. from "tessera ca new"; clients must trust it
  --ca-key FILE           the CA's private key (PEM)
  --no-mitm-for HOST      tunnel HOST untouched (repeatable; "*.example.com" matches subdomains)
  --upstream-ca FILE      trust this CA for origins (instead of the system roots)
  --upstream-insecure     do not verify origins' certificates`;

/** The CONNECT targets not to intercept: exact names and `*.suffix` patterns, case-insensitive. */
function bypassMatcher(patterns: readonly string[]): (host: string) => boolean {
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

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`cannot read ${what}: ${(error as Error).message}`);
  }
}

/** What the MITM needs, built once per proxy. */
interface Mitm {
  readonly issuer: CertificateIssuer;
  readonly client: HttpClient;
  readonly bypass: (host: string) => boolean;
  readonly logger: Logger;
}

/**
 * The proxy handler with CONNECT intercepted when --mitm is given; otherwise `proxy` itself. Other requests
 * (absolute-form http, bypassed hosts, and any request without the credentials `auth` asks for, which `proxy`
 * answers with 407) go to `proxy`.
 */
export function withMitm(
  args: Parsed<typeof mitmOptionSpec>,
  proxy: Service<Request, Response>,
  logger: Logger,
  auth?: ProxyAuth,
): Service<Request, Response> {
  if (args.mitm !== true) {
    for (const name of ["ca-cert", "ca-key", "no-mitm-for", "upstream-ca", "upstream-insecure"] as const) {
      if (args[name] !== undefined) throw new UsageError(`--${name} needs --mitm`);
    }
    return proxy;
  }
  if (args["ca-cert"] === undefined || args["ca-key"] === undefined) {
    throw new UsageError("--mitm needs --ca-cert FILE and --ca-key FILE (see tessera ca new)");
  }
  let issuer: CertificateIssuer;
  try {
    issuer = certificateIssuer({
      ca: {
        cert: readPem(args["ca-cert"], "--ca-cert").toString(),
        key: readPem(args["ca-key"], "--ca-key").toString(),
      },
    });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--ca-cert/--ca-key: ${(error as Error).message}`);
  }
  const upstreamCa =
    args["upstream-ca"] === undefined ? undefined : readPem(args["upstream-ca"], "--upstream-ca");
  const client = httpClient({
    http1: clientConnection,
    http2: http2Connection,
    tls: tlsConnector({
      alpn: ["h2", "http/1.1"],
      ...(upstreamCa === undefined ? {} : { ca: upstreamCa }),
      insecure: args["upstream-insecure"] === true,
    }),
  });
  const mitm: Mitm = { issuer, client, bypass: bypassMatcher(args["no-mitm-for"] ?? []), logger };
  return service(async (request: Request) => {
    if (request.method !== "CONNECT") return proxy.serve(request);
    if (auth !== undefined && !(await proxyAuthorized(request, auth))) return proxy.serve(request);
    let target: Authority;
    try {
      target = parseAuthority(request.target);
    } catch {
      return proxy.serve(request); // the proxy answers a bad target with its 400
    }
    if (mitm.bypass(target.host)) return proxy.serve(request);
    return intercept(request, target, mitm);
  });
}

// Answer the CONNECT with 200 and serve the tunnel as an HTTPS server of our own for `target`.
function intercept(request: Request, target: Authority, mitm: Mitm): Response {
  const relay = relayTo(target, mitm);
  const https = tlsAcceptor({
    // The certificate names what the client asked for: its SNI, else the CONNECT host.
    config: (hello) => ({
      secureContext: mitm.issuer.secureContext(hello.serverName ?? target.host),
      alpn: ["h2", "http/1.1"],
    }),
  }).layer(autoServer({ http1: http1Server(relay), http2: http2Server(relay) }));
  const tunnel: Service<Conn, void> = {
    serve: (conn) =>
      https.serve(conn).catch((error: unknown) => {
        mitm.logger.debug({ err: error, target: formatAuthority(target) }, "intercepted tunnel failed");
      }),
  };
  const response = new Response(
    200,
    undefined,
    undefined,
    request.extensions.fork(),
    "HTTP/1.1",
    "Connection Established",
  );
  return withUpgrade(response, tunnel);
}

// Each request from the client, sent to the origin over our own TLS connection (pooled per origin).
function relayTo(target: Authority, mitm: Mitm): Service<Request, Response> {
  const origin = `https://${formatAuthority(target)}`;
  return service(async (request: Request) => {
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
