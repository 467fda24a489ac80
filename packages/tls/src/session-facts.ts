import type { TLSSocket } from "node:tls";
import type { TlsSession } from "./keys.js";

/**
 * Read what the handshake of `socket` settled (call after 'secure' / 'secureConnect'). `peer`: whether the peer
 * may have sent a certificate (a server that did not ask for one skips the lookup).
 */
export function sessionFacts(socket: TLSSocket, serverName: string | undefined, peer = true): TlsSession {
  const cipher = socket.getCipher();
  const alpn = socket.alpnProtocol;
  return {
    version: socket.getProtocol() ?? "unknown",
    cipher: cipher.standardName ?? cipher.name,
    alpn: typeof alpn === "string" && alpn !== "" ? alpn : undefined,
    serverName,
    peerCertificate: peer ? socket.getPeerX509Certificate() : undefined,
    authorized: socket.authorized,
    resumed: socket.isSessionReused(),
  };
}
