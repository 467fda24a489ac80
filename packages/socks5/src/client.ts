import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { type Layer, type Service, signalOf } from "@tessera/core";
import {
  type Authority,
  type Conn,
  type ConnectRequest,
  ConnectTarget,
  conn,
  connectRequest,
  inetSocketAddress,
  ipFamily,
  PeerAddr,
  parseAuthority,
  toSocketError,
} from "@tessera/net";
import { isUnspecified, type Socks5Address, socks5Address } from "./address.js";
import { readSecondReply, type Socks5ClientOptions, socks5Handshake } from "./client-handshake.js";
import { Command } from "./constants.js";
import { Socks5ProtocolError } from "./errors.js";
import { Socks5Proxy } from "./keys.js";
import { encodeUdpDatagram, parseUdpDatagram } from "./wire.js";

/** Options of {@link socks5Connect}. */
export interface Socks5ConnectOptions extends Socks5ClientOptions {
  /** Where the proxy is: `"host:port"` or an authority. */
  readonly proxy: Authority | string;
}

/**
 * A connector layer that reaches the target through a SOCKS5 proxy with CONNECT: the inner connector connects to
 * the proxy (TCP, or another proxy layer: proxies chain), the handshake runs on that connection, and the same
 * stream is the tunnel. Bytes the proxy sent after its reply are replayed first.
 *
 * - `resolve: "remote"` (socks5h, default) sends names to the proxy; `"local"` resolves them here.
 * - The tunnel shares the proxy connection's extensions, which get the target as `ConnectTarget` and
 *   {@link Socks5Proxy} (the proxy and the address it bound).
 * - Failures: {@link Socks5ReplyError} with the reply code (5 refused, 4 host unreachable, ...), {@link
 *   Socks5AuthError}, {@link Socks5NoAcceptableMethodError}, {@link Socks5HandshakeTimeoutError}, or the inner
 *   connector's error. The request's signal aborts the handshake.
 *
 * @example
 * ```ts
 * const viaSocks = stack(socks5Connect({ proxy: "127.0.0.1:1080", username: "me", password: "s3cret" }))
 *   .into(tcpConnector());
 * const tunnel = await viaSocks.serve(connectRequest("example.com:443"));
 * ```
 */
export function socks5Connect(options: Socks5ConnectOptions): Layer<ConnectRequest, Conn> {
  const proxy = typeof options.proxy === "string" ? parseAuthority(options.proxy) : options.proxy;
  return {
    layer: (inner: Service<ConnectRequest, Conn>): Service<ConnectRequest, Conn> => ({
      async serve(request: ConnectRequest): Promise<Conn> {
        const target = request.authority;
        const proxyConn = await inner.serve(connectRequest(proxy, request.extensions.fork()));
        // The request's signal (the caller's, narrower) governs the handshake; the connection's the tunnel.
        const handshake = await socks5Handshake(
          proxyConn,
          Command.Connect,
          target,
          options,
          signalOf(request),
        );
        const extensions = proxyConn.extensions
          .insert(ConnectTarget, target)
          .insert(Socks5Proxy, { proxy, bound: handshake.bound });
        return conn(handshake.stream, extensions);
      },
    }),
  };
}

/** A BIND in progress: the address the proxy listens on, and the connection it will accept. */
export interface Socks5Bound {
  /** Where the peer must connect (BND.ADDR, BND.PORT of the first reply). */
  readonly address: Socks5Address;
  /**
   * Resolves with the relayed connection once the peer connected (the proxy's second reply); its extensions carry
   * the peer's address as `Socks5Proxy.bound`. Rejects with a {@link Socks5ReplyError} if the proxy gives up.
   */
  accepted(): Promise<Conn>;
}

/**
 * BIND through a proxy (RFC 1928 section 4): ask `proxy` (a connection to a SOCKS5 proxy) to listen for one
 * connection from `expected` (the peer the client expects; `0.0.0.0:0` for any), as FTP's active mode does.
 *
 * @example
 * ```ts
 * const bound = await socks5Bind(await tcpConnector().serve(connectRequest("127.0.0.1:1080")), { host: "0.0.0.0", port: 0 });
 * tellPeerToConnectTo(bound.address);
 * const peerConn = await bound.accepted();
 * ```
 */
export async function socks5Bind(
  proxy: Conn,
  expected: Authority,
  options: Socks5ClientOptions = {},
): Promise<Socks5Bound> {
  const first = await socks5Handshake(proxy, Command.Bind, expected, options);
  const proxyAuthority = peerAuthority(proxy);
  return {
    address: first.bound,
    async accepted(): Promise<Conn> {
      const second = await readSecondReply(first.stream, signalOf(proxy));
      const extensions = proxy.extensions.insert(Socks5Proxy, { proxy: proxyAuthority, bound: second.bound });
      return conn(second.stream, extensions);
    },
  };
}

function peerAuthority(proxy: Conn): Authority {
  const peer = proxy.extensions.get(PeerAddr);
  return peer !== undefined && peer.family !== "unix"
    ? { host: peer.host, port: peer.port }
    : { host: "0.0.0.0", port: 0 };
}

/** A datagram received through a UDP association. */
export interface Socks5Datagram {
  readonly data: Buffer;
  /** Who sent it, as the relay reports. */
  readonly from: Socks5Address;
}

/** A UDP association through a SOCKS5 proxy. */
export interface Socks5UdpAssociation {
  /** The relay's address (where datagrams go). */
  readonly relay: Authority;
  /** Send `data` to `to` through the relay (names are resolved by the proxy). */
  send(data: Uint8Array, to: Authority): Promise<void>;
  /** The next datagram (queued ones first); rejects once the association has ended. */
  receive(): Promise<Socks5Datagram>;
  /** End the association: the UDP socket and the control connection are closed. */
  close(): void;
  /** Resolves when the association has ended (closed here, or the proxy closed the control connection). */
  readonly closed: Promise<void>;
}

/** Options of {@link socks5UdpAssociate}. */
export interface Socks5UdpOptions extends Socks5ClientOptions {
  /** Received datagrams kept while nobody calls `receive()`; older ones are dropped. Default 256. */
  readonly maxQueued?: number;
}

/**
 * UDP ASSOCIATE through a proxy (RFC 1928 section 7): binds a local UDP socket, asks `proxy` (a connection to a
 * SOCKS5 proxy) for a relay, and sends and receives datagrams through it with the RFC's header. The association
 * lives as long as the control connection.
 *
 * @example
 * ```ts
 * const udp = await socks5UdpAssociate(await tcpConnector().serve(connectRequest("127.0.0.1:1080")));
 * await udp.send(Buffer.from("ping"), { host: "127.0.0.1", port: 7 });
 * const { data, from } = await udp.receive();
 * udp.close();
 * ```
 */
export async function socks5UdpAssociate(
  proxy: Conn,
  options: Socks5UdpOptions = {},
): Promise<Socks5UdpAssociation> {
  const proxyPeer = peerAuthority(proxy);
  const family = ipFamily(proxyPeer.host) === 6 ? "udp6" : "udp4";
  const socket = createSocket({ type: family });
  socket.on("error", ignore);
  await new Promise<void>((resolve, reject) => {
    socket.once("error", (error) => reject(toSocketError(error)));
    socket.bind({ port: 0, address: family === "udp6" ? "::" : "0.0.0.0" }, () => resolve());
  }).catch((error: unknown) => {
    socket.close();
    proxy.stream.destroy();
    throw error;
  });
  const local = socket.address();
  let handshake: Awaited<ReturnType<typeof socks5Handshake>>;
  try {
    const unspecified = family === "udp6" ? "::" : "0.0.0.0";
    handshake = await socks5Handshake(
      proxy,
      Command.UdpAssociate,
      { host: unspecified, port: local.port },
      options,
    );
  } catch (error) {
    socket.close();
    throw error;
  }
  const bound = handshake.bound;
  const relayHost = isUnspecified(bound.host) || bound.type === "domain" ? proxyPeer.host : bound.host;
  const relay: Authority = { host: relayHost, port: bound.port };
  return new UdpAssociation(socket, handshake.stream, relay, options.maxQueued ?? 256);
}

function ignore(): void {}

class UdpAssociation implements Socks5UdpAssociation {
  readonly relay: Authority;
  readonly closed: Promise<void>;
  readonly #socket: UdpSocket;
  readonly #control: NodeJS.ReadWriteStream & { destroy(): void; destroyed: boolean };
  readonly #queue: Socks5Datagram[] = [];
  readonly #waiting: { resolve: (d: Socks5Datagram) => void; reject: (e: Error) => void }[] = [];
  readonly #maxQueued: number;
  #ended = false;
  #onClosed!: () => void;

  constructor(
    socket: UdpSocket,
    control: NodeJS.ReadWriteStream & { destroy(): void; destroyed: boolean },
    relay: Authority,
    maxQueued: number,
  ) {
    this.#socket = socket;
    this.#control = control;
    this.relay = relay;
    this.#maxQueued = maxQueued;
    this.closed = new Promise<void>((resolve) => {
      this.#onClosed = resolve;
    });
    const relayIp = inetSocketAddress(relay.host, relay.port).host;
    socket.on("message", (message, from) => {
      // Only the relay speaks to us; anything else is not part of the association. (The port first: it is cheap.)
      if (from.port !== relay.port || inetSocketAddress(from.address, from.port).host !== relayIp) return;
      let parsed: ReturnType<typeof parseUdpDatagram>;
      try {
        parsed = parseUdpDatagram(message);
      } catch {
        return;
      }
      if (parsed.frag !== 0) return;
      // dgram gives every message its own memory, so the payload is a view of it, not a copy.
      const datagram: Socks5Datagram = { data: parsed.data, from: parsed.address };
      const waiter = this.#waiting.shift();
      if (waiter !== undefined) waiter.resolve(datagram);
      else {
        if (this.#queue.length >= this.#maxQueued) this.#queue.shift();
        this.#queue.push(datagram);
      }
    });
    control.on("end", this.#end);
    control.on("close", this.#end);
    control.on("error", this.#end);
    control.resume();
  }

  send(data: Uint8Array, to: Authority): Promise<void> {
    if (this.#ended) return Promise.reject(this.#endedError());
    const datagram = encodeUdpDatagram(socks5Address(to), data);
    return new Promise<void>((resolve, reject) => {
      this.#socket.send(datagram, this.relay.port, this.relay.host, (error) =>
        error ? reject(toSocketError(error)) : resolve(),
      );
    });
  }

  receive(): Promise<Socks5Datagram> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#ended) return Promise.reject(this.#endedError());
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  close(): void {
    this.#end();
  }

  #endedError(): Error {
    return new Socks5ProtocolError("truncated", "the UDP association has ended");
  }

  readonly #end = (): void => {
    if (this.#ended) return;
    this.#ended = true;
    this.#socket.close();
    if (!this.#control.destroyed) this.#control.destroy();
    for (const waiter of this.#waiting.splice(0)) waiter.reject(this.#endedError());
    this.#onClosed();
  };
}
