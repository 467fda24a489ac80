import { createServer, type Server, type Socket } from "node:net";
import { abortReason, childCancellation, Extensions, SignalKey, signalOf, TimeoutError } from "@tessera/core";
import {
  type Conn,
  ConnectionClosedError,
  connectionSignal,
  forward,
  inetSocketAddress,
  ipFamily,
  LocalAddr,
  conn as makeConn,
  PeerAddr,
  peek,
  toSocketError,
} from "@tessera/net";
import { isUnspecified } from "./address.js";
import { bindHostFor } from "./bind-host.js";
import { answered, type CommandContext, successReply } from "./command-context.js";

/**
 * BIND (RFC 1928 section 4): listen on a fresh port, answer with its address (first reply), wait for one
 * connection, answer with the peer's address (second reply), then relay both ways. When the request names an IP
 * address other than 0.0.0.0 / ::, only a connection from that address is taken (others are closed); a name or an
 * unspecified address accepts the first one. Waiting is bounded by `bindTimeout` (reply 06) and ends when the
 * client goes away.
 */
export async function serveBind({ client, target, settings }: CommandContext): Promise<void> {
  const host = bindHostFor(client, settings.bindHost);
  const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(toSocketError(error)));
    server.listen({ host, port: 0 }, () => resolve());
  });
  // The client's signal aborts only once its socket closes, and a socket nobody reads never sees the FIN that
  // would close it: watch for the client's end while waiting (bytes it sends meanwhile are put back).
  const waiting = childCancellation(signalOf(client));
  peek(client.stream, { until: () => false, signal: waiting.signal }).then((peeked) => {
    if (peeked.status === "end") waiting.cancel(new ConnectionClosedError("the client left during BIND"));
  }, ignore);
  let incoming: Socket;
  try {
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the BIND listener has no address");
    client.stream.write(successReply(inetSocketAddress(address.address, address.port)));
    incoming = await acceptOne(server, target.host, settings.bindTimeout, waiting.signal);
  } finally {
    waiting.cancel(); // stops the watch: what the client sent is back in front of its stream for the relay
    waiting.dispose();
    server.close();
  }
  // A socket that closed already has no remote address: the reply says 0.0.0.0:0, the forward ends at once.
  const peerAddr = inetSocketAddress(incoming.remoteAddress ?? "", incoming.remotePort ?? 0);
  client.stream.write(successReply(incoming.remoteAddress === undefined ? undefined : peerAddr));
  const extensions = new Extensions()
    .insert(PeerAddr, peerAddr)
    .insert(LocalAddr, inetSocketAddress(incoming.localAddress ?? "", incoming.localPort ?? 0))
    .insert(SignalKey, connectionSignal(incoming));
  const peer: Conn = makeConn(incoming, extensions);
  try {
    await forward(client, peer, { signal: signalOf(client) });
  } catch (error) {
    throw answered(error);
  }
}

function sameHost(a: string, b: string): boolean {
  return inetSocketAddress(a, 0).host === inetSocketAddress(b, 0).host;
}

function acceptOne(
  server: Server,
  expected: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Socket> {
  const filter = ipFamily(expected) !== 0 && !isUnspecified(expected);
  return new Promise<Socket>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      server.off("connection", onConnection);
      signal.removeEventListener("abort", onAbort);
    };
    const onConnection = (socket: Socket): void => {
      socket.on("error", ignore);
      if (filter && !sameHost(socket.remoteAddress ?? "", expected)) {
        socket.destroy();
        return;
      }
      cleanup();
      socket.off("error", ignore);
      resolve(socket);
    };
    const onAbort = (): void => {
      cleanup();
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new TimeoutError(`no connection to the BIND port within ${timeoutMs} ms`, timeoutMs));
    }, timeoutMs);
    server.on("connection", onConnection);
    signal.addEventListener("abort", onAbort);
    if (signal.aborted) onAbort();
  });
}

function ignore(): void {}
