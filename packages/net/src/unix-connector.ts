import { connect as netConnect, type Socket } from "node:net";
import { abortReason, type Service, SignalKey, signalOf } from "@tessera/core";
import { type Conn, conn } from "./conn.js";
import type { ConnectRequest } from "./connect-request.js";
import { ConnectTimeoutError, toConnectError } from "./errors.js";
import { ConnectTarget, LocalAddr, PeerAddr } from "./keys.js";
import { connectionSignal, ignoreError } from "./lifetime.js";

export interface UnixConnectorOptions {
  /**
   * The socket path: fixed (every request goes there, its authority only names the service, e.g. the Host header
   * for HTTP over `/var/run/docker.sock`), or chosen per request.
   */
  readonly path: string | ((request: ConnectRequest) => string);
  /** Connect timeout in ms. Default 10 000; `Infinity` for none. */
  readonly timeout?: number;
}

/**
 * A connector to a Unix domain socket: `Service<ConnectRequest, Conn>`, with the same cancellation, typed
 * errors (a missing path is a {@link ConnectError} with the `ENOENT` cause; nobody listening is a
 * {@link ConnectionRefusedError}) and extensions as {@link tcpConnector}.
 *
 * @example
 * ```ts
 * const docker = unixConnector({ path: "/var/run/docker.sock" });
 * const { stream } = await docker.serve(connectRequest("docker:80"));
 * ```
 */
export function unixConnector(options: UnixConnectorOptions): Service<ConnectRequest, Conn> {
  const timeout = options.timeout ?? 10_000;
  const pathOf = typeof options.path === "function" ? options.path : () => options.path as string;
  return {
    serve(request: ConnectRequest): Promise<Conn> {
      const signal = signalOf(request);
      if (signal.aborted) return Promise.reject(abortReason(signal));
      let path: string;
      try {
        path = pathOf(request);
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<Conn>((resolve, reject) => {
        const socket: Socket = netConnect({ path, allowHalfOpen: true });
        socket.on("error", ignoreError);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const settle = (): void => {
          if (timer !== undefined) clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          socket.off("error", onError);
          socket.off("error", ignoreError);
          socket.off("connect", onConnect);
        };
        const onError = (error: Error): void => {
          settle();
          reject(toConnectError(error, { host: path, address: path }));
        };
        const onAbort = (): void => {
          settle();
          socket.destroy();
          reject(abortReason(signal));
        };
        const onConnect = (): void => {
          settle();
          const extensions = request.extensions
            .fork()
            .insert(PeerAddr, { family: "unix", path })
            .insert(LocalAddr, { family: "unix", path: "" })
            .insert(ConnectTarget, request.authority)
            .insert(SignalKey, connectionSignal(socket));
          resolve(conn(socket, extensions));
        };
        socket.on("error", onError);
        socket.once("connect", onConnect);
        signal.addEventListener("abort", onAbort);
        if (Number.isFinite(timeout)) {
          timer = setTimeout(() => {
            settle();
            socket.destroy();
            reject(
              new ConnectTimeoutError(`connecting to ${path} timed out after ${timeout} ms`, timeout, {
                host: path,
              }),
            );
          }, timeout);
        }
      });
    },
  };
}
