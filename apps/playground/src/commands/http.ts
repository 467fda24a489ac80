import { appendSignal, Extensions, type Service } from "@tessera/core";
import { type HttpClient, httpClient, type ProxyOptions, Request, type Response } from "@tessera/http";
import { clientConnection, httpConnect, RequestHeadBuilder } from "@tessera/http1";
import {
  DEFAULT_PSEUDO_HEADER_ORDER,
  clientConnection as http2Connection,
  requestFields,
} from "@tessera/http2";
import type { Conn, ConnectRequest } from "@tessera/net";
import { intOption, parseArgs, UsageError } from "../args.js";
import type { Io } from "../io.js";
import { socks5ProxyConnector } from "./socks5.js";

export const httpHelp = `tessera http URL [options]

A curl-like HTTP client on Tessera's own client (connection pool, HTTP/1.1 and HTTP/2 written and parsed in
TypeScript): sends one request and prints the status line, the response headers as the server wrote them
(casing and order kept), a blank line and the body, on stdout.

  -X, --request METHOD    the method [GET, or POST with -d]
  -H, --header 'N: v'     add a request header (repeatable)
  -d, --data DATA         send DATA as the request body
  --proxy URL             go through an HTTP proxy: http://[user:password@]host[:port]
                          (plain http is sent to it in absolute form; add --proxy-tunnel for CONNECT),
                          or a SOCKS5 proxy: socks5h://[user:password@]host:port (the proxy resolves
                          names) or socks5://... (names resolved here)
  --proxy-tunnel          reach the target through an HTTP CONNECT tunnel at the proxy
  --http2                 offer HTTP/2 (used when TLS negotiates h2; cleartext stays HTTP/1.1, as the h2c
                          upgrade is deprecated by RFC 9113: use --http2-prior-knowledge)
  --http2-prior-knowledge speak HTTP/2 on http:// URLs without negotiation (h2c)
  --timeout MS            give up after this long [30000]
  -v, --verbose           also print the request line and headers (as sent) to stderr, "> " first
  -h, --help              this help`;

const spec = {
  request: { type: "string", short: "X" },
  header: { type: "string", short: "H", repeat: true },
  data: { type: "string", short: "d" },
  proxy: { type: "string" },
  "proxy-tunnel": { type: "boolean" },
  http2: { type: "boolean" },
  "http2-prior-knowledge": { type: "boolean" },
  timeout: { type: "string" },
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
} as const;

function parseHeader(line: string): [string, string] {
  const colon = line.indexOf(":");
  if (colon <= 0) throw new UsageError(`-H needs "Name: value", got ${JSON.stringify(line)}`);
  return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
}

/**
 * `--proxy URL`: an HTTP proxy (`proxy`; the client takes the credentials apart from the URL), or a SOCKS5 one
 * (`connector`, a connector through it).
 */
function parseProxyUrl(
  text: string,
  tunnel: boolean,
): { proxy?: ProxyOptions; connector?: Service<ConnectRequest, Conn> } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--proxy: ${JSON.stringify(text)} is not a URL`);
  }
  const credentials =
    url.username === "" && url.password === ""
      ? undefined
      : { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  if (url.protocol === "socks5:" || url.protocol === "socks5h:") {
    if (tunnel) throw new UsageError("--proxy-tunnel is for HTTP proxies");
    return { connector: socks5ProxyConnector(url, credentials) };
  }
  if (url.protocol !== "http:") {
    throw new UsageError("--proxy: only http://, socks5:// and socks5h:// proxies are supported");
  }
  return { proxy: { url: `http://${url.host}`, tunnel, ...credentials } };
}

function printBody(io: Io, text: string): void {
  if (text === "") return;
  // Io writes lines; a body that ends its last line gets no second newline.
  io.out(text.endsWith("\n") ? text.slice(0, -1) : text);
}

/** `tessera http`: one request, printed like `curl -i`. Not a server: resolves when the exchange is done. */
export async function httpCommand(argv: readonly string[], io: Io): Promise<undefined> {
  const args = parseArgs(argv, spec);
  if (args.help) {
    io.out(httpHelp);
    return undefined;
  }
  const [url, ...extra] = args._;
  if (url === undefined) throw new UsageError("a URL is required");
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const method = args.request ?? (args.data === undefined ? "GET" : "POST");
  const headers = (args.header ?? []).map(parseHeader);
  const timeout = intOption(args.timeout, "timeout", 30_000, 1);
  const tunnel = args["proxy-tunnel"] === true;
  if (tunnel && args.proxy === undefined) throw new UsageError("--proxy-tunnel needs --proxy");
  const { proxy, connector } = args.proxy === undefined ? {} : parseProxyUrl(args.proxy, tunnel);

  let request: Request;
  try {
    // The whole exchange, body included, is bounded by the timeout: the request's signal covers it.
    const extensions = appendSignal(new Extensions(), AbortSignal.timeout(timeout));
    request = Request.create({ method, target: url, headers, body: args.data, extensions });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const priorKnowledge = args["http2-prior-knowledge"] === true;
  const http2 = priorKnowledge || args.http2 === true;
  if (priorKnowledge && proxy !== undefined && !proxy.tunnel) {
    throw new UsageError("--http2-prior-knowledge cannot go through a forward proxy: add --proxy-tunnel");
  }
  const client: HttpClient = httpClient({
    http1: clientConnection,
    ...(http2 ? { http2: http2Connection, http2PriorKnowledge: priorKnowledge } : {}),
    connectTunnel: httpConnect,
    proxy,
    ...(connector === undefined ? {} : { connector }),
  });
  try {
    if (args.verbose && priorKnowledge && request.uri.scheme === "http") {
      // The fields exactly as the HTTP/2 connection encodes them (same function).
      const fields = requestFields(request, DEFAULT_PSEUDO_HEADER_ORDER, "http", request.body.length);
      for (let i = 0; i < fields.length; i += 2) io.err(`> ${fields[i]}: ${fields[i + 1]}`);
      io.err(">");
    } else if (args.verbose) {
      // The head exactly as the connection writes it (same builder), proxy credentials aside.
      const absolute = proxy !== undefined && !proxy.tunnel && request.uri.scheme === "http";
      const head = new RequestHeadBuilder().build(request, absolute, request.body.length);
      for (const line of head.split("\r\n").slice(0, -2)) io.err(`> ${line}`);
      io.err(">");
    }
    const response: Response = await client.serve(request);
    // HTTP/2 has no reason phrase on the wire (curl prints "HTTP/2 200" too).
    const reason = response.version === "HTTP/2" ? "" : response.reasonPhrase;
    io.out(`${response.version} ${response.status} ${reason}`.trimEnd());
    for (const [name, value] of response.headers) io.out(`${name}: ${value}`);
    io.out("");
    printBody(io, await response.body.text({ limit: Number.POSITIVE_INFINITY }));
  } finally {
    await client.close();
  }
  return undefined;
}
