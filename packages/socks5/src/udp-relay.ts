import { createSocket, type RemoteInfo, type Socket as UdpSocket } from "node:dgram";
import { raceAbort, signalOf } from "@tessera/core";
import { inetSocketAddress, ipFamily, PeerAddr, toSocketError } from "@tessera/net";
import { inetSocks5Address, isUnspecified } from "./address.js";
import { bindHostFor } from "./bind-host.js";
import { answered, type CommandContext, successReply } from "./command-context.js";
import { encodeUdpDatagram, parseUdpDatagram } from "./wire.js";

/**
 * UDP ASSOCIATE (RFC 1928 section 7): a UDP socket bound next to the client's connection relays datagrams.
 *
 * - From the client (its IP address; its port as given in the request, or latched from its first datagram):
 *   the header is parsed, fragments (FRAG != 0) and malformed datagrams are dropped, the destination is resolved
 *   and checked by the policy (once per destination), and the data is sent on.
 * - From a destination the client has sent to: the data goes to the client with a header naming the sender.
 *   Datagrams from anyone else are dropped, so the relay is no open door into the network.
 * - The association lasts as long as the TCP connection: when it ends or closes, the UDP socket is closed.
 */
export async function serveUdpAssociate({ client, target, settings }: CommandContext): Promise<void> {
  const host = bindHostFor(client, settings.bindHost);
  const socket = createSocket({ type: ipFamily(host) === 6 ? "udp6" : "udp4" });
  socket.on("error", ignore);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(toSocketError(error));
    socket.once("error", onError);
    socket.bind({ address: host, port: 0 }, () => {
      socket.off("error", onError);
      resolve();
    });
  });
  let relay: UdpRelay | undefined;
  try {
    const bound = socket.address();
    client.stream.write(successReply(inetSocketAddress(bound.address, bound.port)));
    relay = new UdpRelay(socket, client, target.host, target.port, settings);
    socket.on("message", relay.onMessage);
    await untilClosed(client.stream);
  } catch (error) {
    throw answered(error);
  } finally {
    relay?.close();
    socket.close();
  }
}

function ignore(): void {}

/** Resolves when the control connection ends or closes (what it sends meanwhile is read and dropped). */
function untilClosed(
  stream: NodeJS.ReadWriteStream & { readableEnded: boolean; destroyed: boolean },
): Promise<void> {
  return new Promise<void>((resolve) => {
    if (stream.readableEnded || stream.destroyed) {
      resolve();
      return;
    }
    const done = (): void => {
      stream.off("end", done);
      stream.off("close", done);
      stream.off("error", done);
      resolve();
    };
    stream.on("end", done);
    stream.on("close", done);
    stream.on("error", done);
    stream.resume();
  });
}

/** An allowed destination the client sent to: where it resolved (undefined stands for "dropped"). */
interface Destination {
  readonly ip: string;
  /** `ip:port` as replies from it are recognised (the IP in net's normal form), made once per destination. */
  readonly peerKey: string;
}

class UdpRelay {
  readonly #socket: UdpSocket;
  readonly #client: CommandContext["client"];
  readonly #settings: CommandContext["settings"];
  /** The client's IP address (undefined: not known, the first datagram's sender is taken). */
  #clientIp: string | undefined;
  /** The client's UDP port (0 until known). */
  #clientPort: number;
  /** Destinations by the name the client used, host:port -> resolution and verdict (bounded, oldest evicted). */
  readonly #destinations = new Map<string, Promise<Destination | undefined>>();
  /** Resolved destinations the client sent to, ip:port: replies are taken only from these. */
  readonly #peers = new Set<string>();
  #closed = false;

  constructor(
    socket: UdpSocket,
    client: CommandContext["client"],
    requestedHost: string,
    requestedPort: number,
    settings: CommandContext["settings"],
  ) {
    this.#socket = socket;
    this.#client = client;
    this.#settings = settings;
    const peer = client.extensions.get(PeerAddr);
    const requestedIp = ipFamily(requestedHost) !== 0 && !isUnspecified(requestedHost);
    this.#clientIp =
      peer !== undefined && peer.family !== "unix"
        ? peer.host
        : requestedIp
          ? inetSocketAddress(requestedHost, 0).host
          : undefined;
    this.#clientPort = requestedPort;
  }

  readonly onMessage = (message: Buffer, from: RemoteInfo): void => {
    const source = inetSocketAddress(from.address, from.port);
    if (this.#isClient(source.host, source.port)) {
      void this.#fromClient(message);
      return;
    }
    if (this.#clientIp === undefined || this.#clientPort === 0) return;
    if (!this.#peers.has(`${source.host}:${source.port}`)) return;
    const datagram = encodeUdpDatagram(inetSocks5Address(source), message);
    this.#send(datagram, this.#clientPort, this.#clientIp);
  };

  /** The association has ended: the socket is closed and nothing more is sent. */
  close(): void {
    this.#closed = true;
  }

  // UDP is lossy by design: a datagram that cannot be sent (no route, a closed socket) is dropped. A resolution
  // or policy check can finish after the association ended, when send() would throw synchronously.
  #send(data: Buffer, port: number, ip: string): void {
    if (this.#closed) return;
    try {
      this.#socket.send(data, port, ip, ignore);
    } catch {
      // dropped
    }
  }

  #isClient(ip: string, port: number): boolean {
    if (this.#clientIp === undefined) {
      this.#clientIp = ip;
      this.#clientPort = port;
      return true;
    }
    if (ip !== this.#clientIp) return false;
    if (this.#clientPort === 0) {
      this.#clientPort = port;
      return true;
    }
    return port === this.#clientPort;
  }

  async #fromClient(message: Buffer): Promise<void> {
    let datagram: ReturnType<typeof parseUdpDatagram>;
    try {
      datagram = parseUdpDatagram(message);
    } catch {
      return; // malformed: dropped, as the RFC has no way to answer it
    }
    if (datagram.frag !== 0) return; // fragmentation is optional in the RFC; we drop fragments
    const { host, port } = datagram.address;
    if (port === 0) return;
    const destination = await this.#destination(host, port);
    if (destination === undefined) return;
    const { ip, peerKey } = destination;
    if (!this.#peers.has(peerKey)) {
      if (this.#peers.size >= this.#settings.maxUdpDestinations) {
        const oldest = this.#peers.values().next().value;
        if (oldest !== undefined) this.#peers.delete(oldest);
      }
      this.#peers.add(peerKey);
    }
    this.#send(datagram.data, port, ip);
  }

  #destination(host: string, port: number): Promise<Destination | undefined> {
    const key = `${host}:${port}`;
    let found = this.#destinations.get(key);
    if (found === undefined) {
      if (this.#destinations.size >= this.#settings.maxUdpDestinations) {
        const oldest = this.#destinations.keys().next().value;
        if (oldest !== undefined) this.#destinations.delete(oldest);
      }
      found = this.#check(host, port);
      this.#destinations.set(key, found);
    }
    return found;
  }

  async #check(host: string, port: number): Promise<Destination | undefined> {
    const signal = signalOf(this.#client);
    try {
      const policy = this.#settings.policy;
      if (policy !== undefined) {
        const request = { command: "udp" as const, target: { host, port }, conn: this.#client };
        if (!(await raceAbort(policy.serve(request), signal))) return undefined;
      }
      let ip = host;
      if (ipFamily(host) === 0) {
        const want = this.#socket.address().family === "IPv6" ? 6 : 4;
        const found = await raceAbort(this.#settings.lookup(host), signal);
        const match = found.find((entry) => entry.family === want);
        if (match === undefined) return undefined;
        ip = match.address;
      }
      return { ip, peerKey: `${inetSocketAddress(ip, port).host}:${port}` };
    } catch {
      // Not allowed (a guarded lookup), no such name, or the association ended: the datagram is dropped.
      return undefined;
    }
  }
}
