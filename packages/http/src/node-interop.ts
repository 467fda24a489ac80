import {
  type ClientRequest,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerOptions,
  type ServerResponse,
} from "node:http";
import type { Duplex } from "node:stream";
import { abortReason, type Service, signalOf } from "@tessera/core";
import { Alpn, LocalAddr, memoryPair, PeerAddr, Sni } from "@tessera/net";
import { Body } from "./body.js";
import { NodeHandlerError } from "./errors.js";
import { HeaderMap } from "./header-map.js";
import { namesEqual } from "./header-validation.js";
import type { Request } from "./request.js";
import { Response } from "./response.js";
import { Status } from "./status.js";

/** A node:http request listener, e.g. an Express or Koa (`app.callback()`) app. */
export type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Options of {@link fromNodeHandler}. */
export interface NodeInteropOptions {
  /** Options of the internal `http.Server` (e.g. `maxHeaderSize`). `requireHostHeader` defaults to false. */
  readonly serverOptions?: ServerOptions;
}

// Hop-by-hop fields (RFC 9110 7.6.1) that node:http adds for its own connection; the response is re-framed by
// whichever protocol sends it on, so they must not travel with it.
const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"];

interface Pending {
  readonly reject: (error: unknown) => void;
}

// The promise of the exchange a server-side socket belongs to, so a listener that throws fails that exchange.
const exchanges = new WeakMap<Duplex, Pending>();

function noop(): void {}

/** Give a memory stream the socket methods and facts node:http and frameworks read. */
function decorate(stream: Duplex, req: Request | undefined): void {
  const socket = stream as Duplex & Record<string, unknown>;
  socket.setTimeout = function setTimeout() {
    return this;
  };
  socket.setNoDelay = socket.setTimeout;
  socket.setKeepAlive = socket.setTimeout;
  socket.ref = socket.setTimeout;
  socket.unref = socket.setTimeout;
  if (req === undefined) return;
  const peer = req.extensions.get(PeerAddr);
  if (peer !== undefined && peer.family !== "unix") {
    socket.remoteAddress = peer.host;
    socket.remotePort = peer.port;
    socket.remoteFamily = peer.family;
  }
  const local = req.extensions.get(LocalAddr);
  if (local !== undefined && local.family !== "unix") {
    socket.localAddress = local.host;
    socket.localPort = local.port;
  }
  // Express's req.protocol / req.secure read socket.encrypted.
  const tls = req.extensions.has(Sni) || req.extensions.has(Alpn);
  let scheme: string | undefined;
  try {
    scheme = req.uri.scheme;
  } catch {
    scheme = undefined;
  }
  if (tls || scheme === "https") socket.encrypted = true;
}

/** The request's fields for the wire, with framing that matches the body we will write. */
function requestHeaders(req: Request): string[] {
  const headers = req.headers;
  const length = req.body.length;
  const flat: string[] = [];
  let framed = false;
  for (let i = 0; i < headers.size; i++) {
    const name = headers.name(i);
    // The body is sent decoded; its own length decides the framing.
    if (namesEqual(name, "transfer-encoding")) continue;
    if (namesEqual(name, "content-length")) {
      if (framed || length === undefined || headers.value(i) !== String(length)) continue;
      framed = true;
    }
    flat.push(name, headers.value(i));
  }
  if (!framed) {
    if (length === undefined) flat.push("Transfer-Encoding", "chunked");
    else if (length > 0 || !(req.method === "GET" || req.method === "HEAD"))
      flat.push("Content-Length", String(length));
  }
  return flat;
}

function responseHeaders(raw: string[]): HeaderMap {
  const flat: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (HOP_BY_HOP.some((hop) => namesEqual(name, hop))) continue;
    flat.push(name, raw[i + 1]!);
  }
  return HeaderMap.fromFlat(flat);
}

/** Write the body into the client request, respecting its backpressure. */
async function writeBody(body: Body, out: ClientRequest): Promise<void> {
  const bytes = body.bytesIfBuffered();
  if (bytes !== undefined) {
    out.end(bytes.byteLength > 0 ? bytes : undefined);
    return;
  }
  for await (const chunk of body) {
    if (out.destroyed) {
      body.cancel();
      return;
    }
    if (!out.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          out.off("drain", done);
          out.off("close", done);
          resolve();
        };
        out.on("drain", done);
        out.on("close", done);
      });
    }
  }
  out.end();
}

/**
 * Wrap a node:http request listener (an Express app, a Koa `app.callback()`, a plain `(req, res) => {}`) as a
 * Tessera service, without a real socket: each request is written, as HTTP/1.1, into an in-memory connection
 * (`memoryPair` of `@tessera/net`) that a private `http.Server` reads, and the listener's answer is read back
 * with node's own client parser. So the listener sees a genuine `IncomingMessage` / `ServerResponse` (raw header
 * casing and order, `writeHead`, `write`, `end`, chunked streaming, trailers, `socket.remoteAddress` from
 * `PeerAddr`), and the returned Response has its status, reason, headers, streaming body and trailers.
 *
 * Notes: node:http adds a `Connection: close` request header when the request has none (one connection per
 * request), and its own `Date`; hop-by-hop response headers (Connection, Keep-Alive, Transfer-Encoding) are
 * dropped since the response is re-framed by whoever sends it. CONNECT and protocol upgrades are not supported.
 * Cancelling the request's signal or the response body destroys the connection (the listener sees `close`).
 *
 * @example
 * ```ts
 * import express from "express";
 * const app = express().get("/hi", (_req, res) => res.send("hi"));
 * const svc = fromNodeHandler(app);
 * const res = await svc.serve(Request.get("/hi", { headers: { host: "x" } }));
 * await res.body.text(); // "hi"
 * ```
 */
export function fromNodeHandler(
  listener: NodeRequestListener,
  options?: NodeInteropOptions,
): Service<Request, Response> {
  const fail = (socket: Duplex, error: unknown): void => {
    exchanges.get(socket)?.reject(new NodeHandlerError("the listener threw", { cause: error }));
    socket.destroy();
  };
  const guarded = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      const result = listener(req, res);
      if (result !== undefined && typeof (result as Promise<void>).then === "function") {
        (result as Promise<void>).then(noop, (error: unknown) => fail(req.socket, error));
      }
    } catch (error) {
      fail(req.socket, error);
    }
  };
  const server = createServer({ requireHostHeader: false, ...options?.serverOptions }, guarded);

  return {
    serve(req: Request): Promise<Response> {
      if (req.method === "CONNECT") {
        return Promise.reject(new NodeHandlerError("CONNECT cannot be passed to a node:http listener"));
      }
      const signal = signalOf(req);
      if (signal.aborted) return Promise.reject(abortReason(signal));
      return new Promise<Response>((resolve, reject) => {
        const [client, serverSide] = memoryPair();
        decorate(client, undefined);
        decorate(serverSide, req);
        let settled = false;
        const cleanup = (): void => {
          signal.removeEventListener("abort", onAbort);
          client.destroy();
          serverSide.destroy();
        };
        const settleError = (error: unknown): void => {
          if (settled) return;
          settled = true;
          cleanup();
          reject(error);
        };
        const onAbort = (): void => {
          out.destroy();
          settleError(abortReason(signal));
        };
        exchanges.set(serverSide, { reject: settleError });
        server.emit("connection", serverSide);

        const out = httpRequest({
          method: req.method,
          path: req.target,
          headers: requestHeaders(req),
          setHost: false,
          createConnection: () => client,
        });
        out.on("error", (error) => settleError(new NodeHandlerError(error.message, { cause: error })));
        out.on("response", (incoming: IncomingMessage) => {
          if (settled) {
            incoming.destroy();
            return;
          }
          settled = true;
          const status = incoming.statusCode ?? 502;
          const noBody = req.method === "HEAD" || status === 204 || status === 304;
          incoming.once("end", cleanup);
          incoming.once("close", cleanup);
          let body: Body;
          if (noBody) {
            incoming.resume();
            body = Body.empty();
          } else {
            const declared = incoming.headers["content-length"];
            const length =
              declared !== undefined && /^[0-9]{1,15}$/.test(declared) ? Number(declared) : undefined;
            body = Body.fromIterable(incoming, {
              length,
              trailers: () =>
                incoming.rawTrailers.length > 0 ? HeaderMap.fromFlat(incoming.rawTrailers) : undefined,
            });
          }
          const message = incoming.statusMessage;
          resolve(
            new Response(
              status,
              responseHeaders(incoming.rawHeaders),
              body,
              req.extensions.fork(),
              req.version,
              message !== undefined && message !== "" && message !== Status.reasonPhrase(status)
                ? message
                : undefined,
            ),
          );
        });
        signal.addEventListener("abort", onAbort, { once: true });
        writeBody(req.body, out).catch((error: unknown) => {
          out.destroy(error instanceof Error ? error : new Error(String(error)));
        });
      });
    },
  };
}
