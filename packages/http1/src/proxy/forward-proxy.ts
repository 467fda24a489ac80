import {
  appendSignal,
  isTesseraError,
  type Service,
  service,
  signalOf,
  TimeoutError,
  withTimeout,
} from "@tessera/core";
import { HeaderMap, Request, Response, type Uri } from "@tessera/http";
import {
  type Authority,
  type Conn,
  type ConnectRequest,
  ConnectTimeoutError,
  connectRequest,
  forward,
  InvalidAddressError,
  parseAuthority,
  tcpConnector,
} from "@tessera/net";
import { clientConnection } from "../client/client-connection.js";
import { withUpgrade } from "../server/upgrade.js";
import { appendVia, withoutHopByHop } from "./hop-by-hop.js";
import { type ProxyAuth, proxyAuthorized, proxyAuthRequired } from "./proxy-auth.js";

/** Options of {@link forwardProxy}. */
export interface ForwardProxyOptions {
  /** How to reach origins and tunnel targets. Default: net's `tcpConnector()`. */
  readonly connector?: Service<ConnectRequest, Conn>;
  /** Give up connecting upstream after this many ms and answer 504. Default 10 000. */
  readonly connectTimeout?: number;
  /** Give up waiting for an origin's response head after this many ms and answer 504. Default 60 000. */
  readonly responseTimeout?: number;
  /** Require `Proxy-Authorization: Basic` credentials; missing or wrong ones get 407. Default: open. */
  readonly auth?: ProxyAuth;
  /** The realm named in `Proxy-Authenticate`. Default `"tessera"`. */
  readonly realm?: string;
  /** The name this proxy adds to `Via`. Default `"tessera"`. */
  readonly via?: string;
  /**
   * Failures toward upstreams (they become 502/504 answers) and broken tunnels. Default: dropped (the client got
   * its answer).
   */
  readonly onError?: (error: Error, request: Request) => void;
}

function report(options: ForwardProxyOptions, error: unknown, request: Request): void {
  try {
    options.onError?.(error instanceof Error ? error : new Error(String(error)), request);
  } catch {
    // A broken error handler must not break the proxy.
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof ConnectTimeoutError || error instanceof TimeoutError;
}

/** The answer for a failure toward the upstream: 504 for a timeout, 502 for anything else. */
function gatewayError(error: unknown, request: Request): Response {
  const status = isTimeout(error) ? 504 : 502;
  const code = isTesseraError(error) ? error.code : "ERR_UPSTREAM";
  return Response.text(`${status === 504 ? "Gateway Timeout" : "Bad Gateway"} (${code})\n`, {
    status,
    request,
  });
}

function badRequest(text: string, request: Request, status = 400): Response {
  return Response.text(`${text}\n`, { status, request });
}

/**
 * An HTTP forward proxy, as a handler for {@link server}: `server(forwardProxy())` is a proxy service.
 *
 * - Absolute-form requests (`GET http://host/path`) are sent to the origin over a new connection from `connector`
 *   (with the http1 client connection), and the response streams back; bodies stream both ways with
 *   backpressure. Hop-by-hop fields (Connection and the fields it names, Keep-Alive, TE, Trailer,
 *   Transfer-Encoding, Upgrade, Proxy-*) are removed both ways, `Host` is set from the target (RFC 9112 3.2.2),
 *   and `Via` is added both ways.
 * - `CONNECT host:port` opens a tunnel: the upstream connection is established first, then `200` is answered and
 *   bytes are forwarded both ways (net's `forward`) until both sides are done; 502 when connecting fails, 504
 *   when it times out.
 * - With `auth`, requests without valid `Proxy-Authorization: Basic` credentials get 407 and
 *   `Proxy-Authenticate: Basic realm="..."`.
 * - Origin-form requests (not meant for a proxy) get 400; schemes other than `http` get 501.
 *
 * @example
 * ```ts
 * import { forwardProxy, server } from "@tessera/http1";
 * import { listen } from "@tessera/net";
 *
 * const proxy = server(forwardProxy({ auth: { username: "alice", password: "s3cret" } }));
 * await listen({ host: "127.0.0.1", port: 3128 }, proxy);
 * // curl -x http://alice:s3cret@127.0.0.1:3128 http://example.com/
 * // curl -p -x http://alice:s3cret@127.0.0.1:3128 https://example.com/
 * ```
 */
export function forwardProxy(options: ForwardProxyOptions = {}): Service<Request, Response> {
  const connectTimeout = options.connectTimeout ?? 10_000;
  const responseTimeout = options.responseTimeout ?? 60_000;
  const connector = options.connector ?? tcpConnector({ timeout: connectTimeout });
  const realm = options.realm ?? "tessera";
  const via = options.via ?? "tessera";
  const auth = options.auth;

  /** Connect upstream within the connect timeout; the client's going away cancels it too. */
  async function connect(authority: Authority, request: Request): Promise<Conn> {
    const ext = request.extensions.fork();
    const deadline = withTimeout(signalOf(request), connectTimeout);
    appendSignal(ext, deadline.signal);
    try {
      return await connector.serve(connectRequest(authority, ext));
    } finally {
      deadline.dispose();
    }
  }

  async function tunnel(request: Request): Promise<Response> {
    let authority: Authority;
    try {
      authority = parseAuthority(request.target);
    } catch (error) {
      if (error instanceof InvalidAddressError)
        return badRequest(`bad CONNECT target: ${error.reason}`, request);
      throw error;
    }
    let upstream: Conn;
    try {
      upstream = await connect(authority, request);
    } catch (error) {
      report(options, error, request);
      return gatewayError(error, request);
    }
    // Until the server hands the client connection over, a client that goes away must not leave the upstream open.
    const clientSignal = signalOf(request);
    const abandon = (): void => {
      upstream.stream.destroy();
    };
    clientSignal.addEventListener("abort", abandon, { once: true });
    const response = new Response(
      200,
      new HeaderMap(),
      undefined,
      request.extensions.fork(),
      "HTTP/1.1",
      "Connection Established",
    );
    return withUpgrade(
      response,
      service(async (client: Conn) => {
        clientSignal.removeEventListener("abort", abandon);
        try {
          await forward(client, upstream);
        } catch (error) {
          // A tunnel that breaks (a reset on either side) is the end of it, not a server failure.
          report(options, error, request);
        }
      }),
    );
  }

  async function relay(request: Request, uri: Uri): Promise<Response> {
    if (uri.scheme !== "http")
      return badRequest(`this proxy does not speak ${uri.scheme}:// upstream; use CONNECT`, request, 501);
    const authority = uri.authority!;
    let target: Authority;
    try {
      target = parseAuthority(authority, { defaultPort: 80 });
    } catch {
      return badRequest("bad authority in the request target", request);
    }
    let upstream: Conn;
    try {
      upstream = await connect(target, request);
    } catch (error) {
      report(options, error, request);
      return gatewayError(error, request);
    }
    const headers = withoutHopByHop(request.headers);
    headers.set("Host", authority);
    appendVia(headers, request.version, via);
    // One upstream connection per request: close it when the exchange is over.
    headers.append("Connection", "close");
    const ext = request.extensions.fork();
    const deadline = withTimeout(signalOf(request), responseTimeout);
    appendSignal(ext, deadline.signal);
    const outgoing = new Request(request.method, request.target, headers, request.body, "HTTP/1.1", ext);
    const client = clientConnection(upstream, { absoluteForm: false });
    let response: Response;
    try {
      response = await client.serve(outgoing);
    } catch (error) {
      upstream.stream.destroy();
      report(options, error, request);
      return gatewayError(deadline.signal.aborted ? deadline.signal.reason : error, request);
    } finally {
      // The deadline is for the response head; the body may take as long as it takes.
      deadline.dispose();
    }
    const back = appendVia(withoutHopByHop(response.headers), response.version, via);
    return new Response(
      response.status,
      back,
      response.body,
      request.extensions.fork(),
      "HTTP/1.1",
      response.reason,
    );
  }

  return service(async (request: Request): Promise<Response> => {
    if (auth !== undefined && !(await proxyAuthorized(request, auth)))
      return proxyAuthRequired(realm, request);
    if (request.method === "CONNECT") return tunnel(request);
    let uri: Uri;
    try {
      uri = request.uri;
    } catch {
      return badRequest("bad request target", request);
    }
    if (uri.form !== "absolute") {
      return badRequest(
        "this is a forward proxy: send absolute-form requests (GET http://host/path)",
        request,
      );
    }
    return relay(request, uri);
  });
}
