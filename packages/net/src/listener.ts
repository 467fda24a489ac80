import { createServer, type Server, type Socket } from "node:net";
import {
  type CloseOptions,
  Extensions,
  type HasExtensions,
  raceAbort,
  type Service,
  type Shutdown,
  ShutdownError,
  type ShutdownResult,
  SignalKey,
  signalOf,
} from "@tessera/core";
import { formatSocketAddress, inetSocketAddress, parseHost, parsePort } from "./address.js";
import { type Conn, conn } from "./conn.js";
import type { ConnectionEnd, Ending, EndWatcher } from "./ending.js";
import { ListenError, toListenError } from "./errors.js";
import {
  Draining,
  type InetSocketAddress,
  LocalAddr,
  PeerAddr,
  type SocketAddress,
  type UnixSocketAddress,
} from "./keys.js";
import { closeReason, ignoreError } from "./lifetime.js";

/** Where a TCP listener listens. */
export interface TcpListenOptions {
  /** Address or name to bind. Default: every interface (`::`, dual-stack where the OS allows). */
  readonly host?: string;
  /** Port; 0 (the default) picks a free one, reported in `listener.address`. */
  readonly port?: number;
  readonly backlog?: number;
  /** Bind IPv6 only (no IPv4-mapped clients on `::`). */
  readonly ipv6Only?: boolean;
}

/** Where a Unix socket listener listens. */
export interface UnixListenOptions {
  readonly path: string;
  readonly backlog?: number;
  /** Make the socket file readable / writable by all users. */
  readonly readableAll?: boolean;
  readonly writableAll?: boolean;
}

export type ListenOptions = TcpListenOptions | UnixListenOptions;

export interface ListenerOptions {
  /**
   * A shared graceful shutdown (core `createShutdown()`): when it closes, this listener stops accepting and
   * counts as in-flight work until its last connection service finished; when its grace period ends, the
   * remaining connections are destroyed.
   */
  readonly shutdown?: Shutdown;
  /** At most this many open connections; more are closed at once and counted in `dropped`. Default: no limit. */
  readonly maxConnections?: number;
  /** `TCP_NODELAY` on accepted sockets. Default true. */
  readonly noDelay?: boolean;
  /** TCP keep-alive on accepted sockets: true, or the initial delay in ms. Default off. */
  readonly keepAlive?: boolean | number;
  /** The parent of every connection's extensions (server-wide state visible from each connection). */
  readonly extensions?: Extensions;
  /**
   * Called with a connection service's rejection (or synchronous throw) and with server errors (`conn`
   * undefined, e.g. `accept` failing with EMFILE). Never an unhandled rejection; a throwing `onError` is ignored.
   * Default: `process.emitWarning`.
   */
  readonly onError?: (error: Error, conn: Conn | undefined) => void;
  /**
   * After a connection's service resolved, its socket is ended and what the peer still sends is read and
   * discarded (so the close does not reset and lose the last response) for at most this long. Default 5 000 ms.
   */
  readonly lingerTimeout?: number;
}

/** A listening server; `close()` shuts it down gracefully. */
export interface Listener<A extends SocketAddress = SocketAddress> {
  /** The bound address (with the real port when 0 was asked for). */
  readonly address: A;
  /** Open connections (including ones whose service finished and that are closing). */
  readonly connections: number;
  /** Connection services still running. */
  readonly active: number;
  /** Connections accepted and served since listening. */
  readonly accepted: number;
  /** Connections closed at once because `maxConnections` were open. */
  readonly dropped: number;
  readonly closing: boolean;
  /** Aborts when the listener stops accepting (also on each connection's extensions as {@link Draining}). */
  readonly draining: AbortSignal;
  /**
   * Stop accepting, wait for connection services to finish (at most `timeout` ms, then destroy their sockets
   * and abort their signals), destroy the remaining sockets, and resolve once the server is fully closed.
   * Idempotent.
   */
  close(options?: CloseOptions): Promise<ShutdownResult>;
}

const kEntry = Symbol("tessera.net.listener.entry");
type TrackedSocket = Socket & { [kEntry]?: Entry };

/**
 * The end of the listener's connection whose signal `extensions` would give (they are its extensions or a fork
 * of them) when that signal has not been made yet; undefined otherwise (not a listener's connection, a signal
 * put in front of it by a layer, or one already made): then follow `signalOf(extensions)`.
 */
export function connectionEnd(extensions: Extensions): ConnectionEnd | undefined {
  return extensions.lazyArg(SignalKey, entrySignal);
}

/** `input`'s end: its listener's connection when that is followed without a signal, else its signal. */
export function endingOf(input: HasExtensions): Ending {
  return connectionEnd(input.extensions) ?? signalOf(input);
}

/**
 * Settle with `promise`, or reject with the reason of `input`'s connection ending, whichever comes first: core's
 * `raceAbort(promise, signalOf(input))`, except that for a listener's connection (or a request forked from it)
 * the connection is followed itself and its AbortSignal is never built (see {@link forward}'s `until`).
 *
 * @example
 * ```ts
 * const allowed = await raceConnectionEnd(policy.serve(request), conn);
 * ```
 */
export function raceConnectionEnd<T>(promise: Promise<T>, input: HasExtensions): Promise<T> {
  const end = connectionEnd(input.extensions);
  if (end === undefined) return raceAbort(promise, signalOf(input));
  if (end.ended) return Promise.reject(end.endReason());
  return new Promise<T>((resolve, reject) => {
    const watcher: EndWatcher = { connectionEnded: reject };
    end.watch(watcher);
    promise.then(
      (value) => {
        end.unwatch(watcher);
        resolve(value);
      },
      (error: unknown) => {
        end.unwatch(watcher);
        reject(error);
      },
    );
  });
}

// Per-connection state. Socket events reach it through the socket (`this` of a shared handler), so accepting a
// connection allocates no event-handler closures.
class Entry implements ConnectionEnd {
  readonly socket: Socket;
  readonly listener: NetListener;
  linger: ReturnType<typeof setTimeout> | undefined = undefined;
  // The connection's signal is made on first read (most services never read it: an AbortController costs
  // microseconds here). `reason` is set when the connection ends; a signal made after that starts aborted.
  // Without a reason (a plain close or a socket error) the reason is the socket's close reason, made only for a
  // signal that exists: a typed error costs microseconds too, and most connections would make it for no one.
  #controller: AbortController | undefined = undefined;
  #reason: Error | undefined = undefined;
  #ended = false;
  /** Who follows the end without the signal (see ConnectionEnd); usually one relay at a time. */
  #watchers: EndWatcher[] | undefined = undefined;
  constructor(socket: Socket, listener: NetListener) {
    this.socket = socket;
    this.listener = listener;
  }
  signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#ended) this.#controller.abort(this.endReason());
    }
    return this.#controller.signal;
  }
  get ended(): boolean {
    return this.#ended;
  }
  endReason(): Error {
    this.#reason ??= closeReason(this.socket);
    return this.#reason;
  }
  watch(watcher: EndWatcher): void {
    if (this.#watchers === undefined) this.#watchers = [watcher];
    else this.#watchers.push(watcher);
  }
  unwatch(watcher: EndWatcher): void {
    const watchers = this.#watchers;
    const i = watchers === undefined ? -1 : watchers.indexOf(watcher);
    if (i >= 0) watchers!.splice(i, 1);
  }
  /** The connection ended: with `reason` (a forced shutdown), else with its socket's close reason. */
  abort(reason: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#reason = reason;
    const watchers = this.#watchers;
    if (this.#controller === undefined && (watchers === undefined || watchers.length === 0)) return;
    const why = this.endReason();
    this.#controller?.abort(why);
    if (watchers !== undefined) {
      this.#watchers = undefined;
      for (const watcher of watchers) watcher.connectionEnded(why);
    }
  }
}

// The lazy signal's factory, shared by every entry: a closure per connection cost ~300 bytes each (the build's
// keepNames gives every named closure its own property dictionary).
function entrySignal(entry: Entry): AbortSignal {
  return entry.signal();
}

function onSocketClose(this: TrackedSocket): void {
  const entry = this[kEntry];
  if (entry !== undefined) entry.listener.onClosed(entry);
}

function destroySocket(socket: Socket): void {
  socket.destroy();
}

function defaultOnError(error: Error): void {
  process.emitWarning(error);
}

const UNIX_PEER: UnixSocketAddress = Object.freeze({ family: "unix", path: "" });

class NetListener implements Listener {
  readonly address: SocketAddress;
  accepted = 0;
  dropped = 0;
  active = 0;
  readonly #server: Server;
  readonly #service: Service<Conn, void>;
  readonly #entries = new Set<Entry>();
  readonly #stop = new AbortController();
  readonly #unix: boolean;
  /** The local address of every connection when the listener is bound to one address (not a wildcard). */
  readonly #fixedLocal: SocketAddress | undefined;
  readonly #base: Extensions | undefined;
  readonly #onError: (error: Error, conn: Conn | undefined) => void;
  readonly #linger: number;
  readonly #shared: Shutdown | undefined;
  #leaveShared: (() => void) | undefined;
  #closed: Promise<ShutdownResult> | undefined;
  #finish: ((forced: boolean) => void) | undefined;
  #forcedReason: Error | undefined;
  #onEmpty: (() => void) | undefined;

  constructor(server: Server, service: Service<Conn, void>, unix: boolean, options: ListenerOptions) {
    this.#server = server;
    this.#service = service;
    this.#unix = unix;
    this.#base = options.extensions;
    this.#onError = options.onError ?? defaultOnError;
    this.#linger = options.lingerTimeout ?? 5_000;
    this.#shared = options.shutdown;
    const bound = server.address();
    this.address =
      typeof bound === "string" || bound === null
        ? { family: "unix", path: typeof bound === "string" ? bound : "" }
        : inetSocketAddress(bound.address, bound.port);
    // Bound to one address, every connection's local address is that one: no getsockname per connection.
    const a = this.address;
    this.#fixedLocal = a.family !== "unix" && a.host !== "0.0.0.0" && a.host !== "::" ? a : undefined;
    server.on("connection", this.#onConnection);
    server.on("drop", this.#onDrop);
    server.on("error", this.#onServerError);
    const shared = this.#shared;
    if (shared !== undefined) {
      this.#leaveShared = shared.enter();
      shared.signal.addEventListener("abort", this.#onSharedClose);
      shared.forced.addEventListener("abort", this.#onSharedForced);
    }
  }

  get connections(): number {
    return this.#entries.size;
  }

  get closing(): boolean {
    return this.#stop.signal.aborted;
  }

  get draining(): AbortSignal {
    return this.#stop.signal;
  }

  readonly #onConnection = (socket: Socket): void => {
    let peer: SocketAddress;
    let local: SocketAddress;
    if (this.#unix) {
      peer = UNIX_PEER;
      local = this.address;
    } else {
      const remoteAddress = socket.remoteAddress;
      const localAddress = this.#fixedLocal === undefined ? socket.localAddress : "";
      // The peer may be gone already (reset before we got here): getpeername fails and there is no one to serve.
      if (remoteAddress === undefined || localAddress === undefined) {
        socket.on("error", ignoreError);
        socket.destroy();
        return;
      }
      peer = inetSocketAddress(remoteAddress, socket.remotePort ?? 0);
      local = this.#fixedLocal ?? inetSocketAddress(localAddress, socket.localPort ?? 0);
    }
    if (this.closing) {
      // Accepted in the same turn as close(): nobody will serve it.
      socket.on("error", ignoreError);
      socket.destroy();
      return;
    }
    this.accepted++;
    const entry = new Entry(socket, this);
    (socket as TrackedSocket)[kEntry] = entry;
    this.#entries.add(entry);
    // A socket error is the service's to see (through the stream); here it only must not crash the process.
    // It becomes the reason of the connection's signal when the socket closes.
    socket.on("error", ignoreError);
    socket.on("close", onSocketClose);
    const extensions = (this.#base === undefined ? new Extensions() : this.#base.fork())
      .insert(PeerAddr, peer)
      .insert(LocalAddr, local)
      .insertLazy(SignalKey, entrySignal, entry)
      .insert(Draining, this.#stop.signal);
    const c = conn(socket, extensions);
    this.active++;
    let served: Promise<void>;
    try {
      // Promise.resolve returns a native promise as is (no allocation); it only guards against a hand-written
      // service that returns something else, which would otherwise throw here, inside the accept path.
      served = Promise.resolve(this.#service.serve(c));
    } catch (error) {
      served = Promise.reject(error);
    }
    served.then(
      () => this.#served(entry),
      (error: unknown) => this.#failed(entry, c, error),
    );
  };

  #served(entry: Entry): void {
    this.active--;
    const socket = entry.socket;
    if (!socket.destroyed) {
      // The service is done with the connection. End our side (pending writes are flushed first) and read and
      // drop what the peer still sends: closing with unread input makes the kernel send a reset, which can
      // discard the response we just wrote. The socket closes when the peer ends too, or when lingering ends.
      socket.end();
      socket.resume();
      if (!socket.destroyed && Number.isFinite(this.#linger)) {
        entry.linger = setTimeout(destroySocket, this.#linger, socket);
        entry.linger.unref();
      }
    }
    this.#checkIdle();
  }

  #failed(entry: Entry, c: Conn, error: unknown): void {
    this.active--;
    entry.socket.destroy();
    this.#report(error instanceof Error ? error : new Error(String(error)), c);
    this.#checkIdle();
  }

  #report(error: Error, c: Conn | undefined): void {
    try {
      this.#onError(error, c);
    } catch {
      // A broken error handler must not take the other connections down with it.
    }
  }

  onClosed(entry: Entry): void {
    this.#entries.delete(entry);
    if (entry.linger !== undefined) clearTimeout(entry.linger);
    entry.abort(this.#forcedReason);
    if (this.#entries.size === 0) this.#onEmpty?.();
  }

  readonly #onDrop = (): void => {
    this.dropped++;
  };

  readonly #onServerError = (error: Error): void => {
    // After listening, the server's errors come from accept() (EMFILE, ENFILE, ...): keep serving, report them.
    const where = formatSocketAddress(this.address);
    this.#report(new ListenError(`accept failed on ${where}: ${error.message}`, { cause: error }), undefined);
  };

  readonly #onSharedClose = (): void => {
    void this.close();
  };

  readonly #onSharedForced = (): void => {
    void this.close();
    this.#finish?.(true);
  };

  #checkIdle(): void {
    if (this.active === 0) this.#finish?.(false);
  }

  close(options?: CloseOptions): Promise<ShutdownResult> {
    this.#closed ??= new Promise<ShutdownResult>((resolve) => {
      const server = this.#server;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const serverClosed = new Promise<void>((done) => server.close(() => done()));
      this.#stop.abort(new ShutdownError("the listener stopped accepting"));
      this.#finish = (forced: boolean): void => {
        this.#finish = undefined;
        if (timer !== undefined) clearTimeout(timer);
        const abandoned = this.active;
        if (forced) {
          // Abort first, so services see the shutdown as the reason rather than a plain close.
          const reason = new ShutdownError("grace period ended");
          this.#forcedReason = reason;
          for (const entry of this.#entries) entry.abort(reason);
        }
        for (const entry of this.#entries) entry.socket.destroy();
        // Resolve once every socket has emitted 'close' (their signals have aborted) and the server is closed.
        const socketsClosed =
          this.#entries.size === 0
            ? undefined
            : new Promise<void>((done) => {
                this.#onEmpty = done;
              });
        void Promise.all([serverClosed, socketsClosed]).then(() => {
          server.off("connection", this.#onConnection);
          server.off("drop", this.#onDrop);
          const shared = this.#shared;
          if (shared !== undefined) {
            shared.signal.removeEventListener("abort", this.#onSharedClose);
            shared.forced.removeEventListener("abort", this.#onSharedForced);
          }
          this.#leaveShared?.();
          resolve({ forced, abandoned });
        });
      };
      if (this.active === 0) this.#finish(false);
      else if (options?.timeout !== undefined)
        timer = setTimeout(() => this.#finish?.(true), options.timeout);
    });
    return this.#closed;
  }
}

function isUnix(options: ListenOptions): options is UnixListenOptions {
  return typeof (options as UnixListenOptions).path === "string";
}

/**
 * Listen on a TCP address (`{ host, port }`) or a Unix socket (`{ path }`) and serve every accepted connection
 * with `service` (a `Service<Conn, void>` whose promise spans the connection).
 *
 * Each connection gets its own extensions (forked from `options.extensions` if given) with {@link PeerAddr},
 * {@link LocalAddr}, {@link Draining} and a signal (core `SignalKey`) that aborts when the socket closes or when
 * a forced shutdown begins. Sockets have `TCP_NODELAY` on and allow half-open: when the peer ends, the service
 * can still write. A rejection in one connection is reported to `onError` and closes only that connection.
 *
 * Resolves once listening; rejects with an {@link AddressInUseError} or {@link ListenError}.
 *
 * @example
 * ```ts
 * const echo = service(async ({ stream }: Conn) => {
 *   await pipeline(stream, stream);
 * });
 * const listener = await listen({ host: "127.0.0.1", port: 0 }, echo, { onError: console.error });
 * console.log(listener.address); // { family: "IPv4", host: "127.0.0.1", port: 43117 }
 * await listener.close({ timeout: 5_000 });
 * ```
 */
export function listen(
  options: TcpListenOptions,
  service: Service<Conn, void>,
  listenerOptions?: ListenerOptions,
): Promise<Listener<InetSocketAddress>>;
export function listen(
  options: UnixListenOptions,
  service: Service<Conn, void>,
  listenerOptions?: ListenerOptions,
): Promise<Listener<UnixSocketAddress>>;
export function listen(
  options: ListenOptions,
  service: Service<Conn, void>,
  listenerOptions?: ListenerOptions,
): Promise<Listener>;
export function listen(
  options: ListenOptions,
  service: Service<Conn, void>,
  listenerOptions: ListenerOptions = {},
): Promise<Listener> {
  try {
    const shared = listenerOptions.shutdown;
    if (shared?.closing) throw new ShutdownError("cannot listen: shutting down");
    const max = listenerOptions.maxConnections;
    if (max !== undefined && !(Number.isInteger(max) && max >= 1)) {
      throw new RangeError("maxConnections must be a positive integer");
    }
    const keepAlive = listenerOptions.keepAlive;
    const server = createServer({
      allowHalfOpen: true,
      noDelay: listenerOptions.noDelay ?? true,
      keepAlive: keepAlive !== undefined && keepAlive !== false,
      keepAliveInitialDelay: typeof keepAlive === "number" ? keepAlive : 0,
    });
    if (max !== undefined) server.maxConnections = max;
    const unix = isUnix(options);
    let where: string;
    let args: Parameters<Server["listen"]>[0];
    if (unix) {
      where = `unix:${options.path}`;
      args = {
        path: options.path,
        backlog: options.backlog,
        readableAll: options.readableAll,
        writableAll: options.writableAll,
      };
    } else {
      const host = options.host === undefined ? undefined : parseHost(options.host);
      const port = parsePort(options.port ?? 0, { allowZero: true });
      where = host === undefined ? `port ${port}` : `${host.includes(":") ? `[${host}]` : host}:${port}`;
      args = { host, port, backlog: options.backlog, ipv6Only: options.ipv6Only };
    }
    return new Promise<Listener>((resolve, reject) => {
      const onListenError = (error: Error): void => {
        server.close();
        reject(toListenError(error, where));
      };
      server.once("error", onListenError);
      server.listen(args, () => {
        server.off("error", onListenError);
        if (shared?.closing) {
          server.close();
          reject(new ShutdownError("cannot listen: shutting down"));
          return;
        }
        resolve(new NetListener(server, service, unix, listenerOptions));
      });
    });
  } catch (error) {
    return Promise.reject(
      error instanceof RangeError ? new ListenError(error.message, { cause: error }) : error,
    );
  }
}
