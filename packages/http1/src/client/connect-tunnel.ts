import type { Duplex } from "node:stream";
import { abortReason, type Layer, type Service, signalOf, TimeoutError } from "@tessera/core";
import { basicAuthorization, HttpProxy } from "@tessera/http";
import {
  type Authority,
  type Conn,
  type ConnectRequest,
  ConnectTarget,
  conn,
  connectRequest,
  formatAuthority,
  parseAuthority,
  rewind,
  toSocketError,
} from "@tessera/net";
import { serializeRequestHead } from "../head-serializer.js";
import type { Http1Limits } from "../limits.js";
import type { ResponseHead } from "../message-head.js";
import { ResponseParser } from "../response-parser.js";
import { ProxyAuthRequiredError, ProxyConnectError } from "./errors.js";

/** Options of {@link httpConnect}. */
export interface HttpConnectOptions {
  /** Where the proxy is: `"host:port"` or an authority. */
  readonly proxy: Authority | string;
  /** Basic credentials, sent as `Proxy-Authorization`. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** More header fields for the CONNECT request, in order (e.g. `User-Agent`). */
  readonly headers?: Iterable<readonly [string, string]>;
  /** Longest wait for the proxy's answer once connected, in ms. Default 10 000. */
  readonly timeout?: number;
  /** Parser limits for the proxy's answer. */
  readonly limits?: Partial<Http1Limits>;
}

/**
 * A connector layer that reaches the target through an HTTP proxy with `CONNECT` (RFC 9110 9.3.6): the inner
 * connector connects to the proxy, `CONNECT host:port HTTP/1.1` goes out with `Host` and, given credentials,
 * `Proxy-Authorization: Basic ...`, and on a 2xx answer the same stream is the tunnel. Bytes that came after
 * the proxy's answer are replayed in front of the stream (`rewind`), so nothing the target sent early is lost.
 *
 * - The tunnel is a 1:1 wrap of the proxy connection and shares its extensions, which get the target as
 *   `ConnectTarget` (newest; the proxy's authority stays in the history) and `HttpProxy` (mode `"tunnel"`).
 * - Any other answer fails with {@link ProxyConnectError} carrying the status (`ERR_HTTP1_PROXY_CONNECT_FAILED`),
 *   407 with {@link ProxyAuthRequiredError} (`ERR_HTTP1_PROXY_AUTH_REQUIRED`) carrying the challenge; an answer
 *   that does not parse or a close before one fails with status 0. The proxy connection is closed.
 * - The request's signal and `timeout` abort the handshake (the socket is destroyed).
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { tcpConnector, connectRequest } from "@tessera/net";
 *
 * const viaProxy = stack(httpConnect({ proxy: "proxy.local:3128", username: "me", password: "s3cret" }))
 *   .into(tcpConnector());
 * const tunnel = await viaProxy.serve(connectRequest("example.com:443"));
 * ```
 */
export function httpConnect(options: HttpConnectOptions): Layer<ConnectRequest, Conn> {
  const proxy = typeof options.proxy === "string" ? parseAuthority(options.proxy) : options.proxy;
  const fields: [string, string][] = [];
  if (options.username !== undefined || options.password !== undefined) {
    fields.push(["Proxy-Authorization", basicAuthorization(options.username ?? "", options.password ?? "")]);
  }
  for (const [name, value] of options.headers ?? []) fields.push([name, value]);
  const timeout = options.timeout ?? 10_000;
  return {
    layer: (inner: Service<ConnectRequest, Conn>): Service<ConnectRequest, Conn> => ({
      async serve(request: ConnectRequest): Promise<Conn> {
        const target = request.authority;
        const proxyConn = await inner.serve(connectRequest(proxy, request.extensions.fork()));
        const authority = formatAuthority(target);
        let head: string;
        try {
          head = serializeRequestHead("CONNECT", authority, [["Host", authority], ...fields]);
        } catch (error) {
          proxyConn.stream.destroy();
          throw error;
        }
        const stream = await handshake(proxyConn.stream, head, signalOf(request), timeout, options.limits);
        const extensions = proxyConn.extensions
          .insert(ConnectTarget, target)
          .insert(HttpProxy, { authority: proxy, mode: "tunnel" });
        return conn(stream, extensions);
      },
    }),
  };
}

/** Send the CONNECT head and read the answer; resolves with the tunnel stream on 2xx. */
function handshake(
  stream: Duplex,
  head: string,
  signal: AbortSignal,
  timeout: number,
  limits: Partial<Http1Limits> | undefined,
): Promise<Duplex> {
  return new Promise<Duplex>((resolve, reject) => {
    let final: ResponseHead | undefined;
    const parser = new ResponseParser(
      {
        onHead(h) {
          if (!h.informational) final = h;
        },
        onBody() {},
        onMessageComplete() {},
      },
      limits,
    );
    parser.pushRequestMethod("CONNECT");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      stream.off("readable", onReadable);
      stream.off("end", onClosed);
      stream.off("close", onClosed);
      stream.off("error", onError);
      signal.removeEventListener("abort", onAbort);
    };
    const fail = (error: Error): void => {
      cleanup();
      stream.destroy();
      reject(error);
    };
    // Paused mode ('readable' and read()) rather than 'data': once the 'readable' listener is removed the stream
    // is neither flowing nor explicitly paused, so whoever takes the tunnel starts it as usual (a 'data'
    // listener, pipe, an async iterator) and gets the replayed bytes first.
    const onReadable = (): void => {
      for (;;) {
        const chunk = stream.read() as Buffer | null;
        if (chunk === null || answered(chunk)) return;
      }
    };
    const answered = (chunk: Buffer): boolean => {
      let consumed: number;
      try {
        consumed = parser.execute(chunk);
      } catch (error) {
        fail(
          new ProxyConnectError(`the proxy's answer to CONNECT is invalid: ${(error as Error).message}`, 0, {
            cause: error,
          }),
        );
        return true;
      }
      if (final === undefined) return false;
      const status = final.status;
      if (status >= 200 && status < 300) {
        cleanup();
        resolve(rewind(stream, chunk.subarray(consumed)));
        return true;
      }
      if (status === 407) {
        fail(
          new ProxyAuthRequiredError(
            "the proxy requires authentication (407)",
            final.headers.get("proxy-authenticate"),
          ),
        );
        return true;
      }
      fail(
        new ProxyConnectError(`the proxy refused CONNECT with ${status} ${final.reason}`.trimEnd(), status),
      );
      return true;
    };
    const onClosed = (): void => {
      fail(new ProxyConnectError("the proxy closed the connection before answering CONNECT", 0));
    };
    const onError = (error: Error): void => {
      fail(
        new ProxyConnectError("the proxy connection failed before answering CONNECT", 0, {
          cause: toSocketError(error),
        }),
      );
    };
    const onAbort = (): void => fail(abortReason(signal));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    if (Number.isFinite(timeout)) {
      timer = setTimeout(
        () => fail(new TimeoutError(`the proxy did not answer CONNECT within ${timeout} ms`, timeout)),
        timeout,
      );
    }
    stream.on("readable", onReadable);
    stream.on("end", onClosed);
    stream.on("close", onClosed);
    stream.on("error", onError);
    stream.write(head, "latin1");
  });
}
