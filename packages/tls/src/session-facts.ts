import type { TLSSocket } from "node:tls";
import type { TlsSession } from "./keys.js";

/** Read what the handshake of `socket` settled (call after 'secure' / 'secureConnect'). */
export function sessionFacts(socket: TLSSocket, serverName: string | undefined): TlsSession {
  const cipher = socket.getCipher();
  const alpn = socket.alpnProtocol;
  return {
    version: socket.getProtocol() ?? "unknown",
    cipher: cipher.standardName ?? cipher.name,
    alpn: typeof alpn === "string" && alpn !== "" ? alpn : undefined,
    serverName,
    peerCertificate: socket.getPeerX509Certificate(),
    authorized: socket.authorized,
    resumed: socket.isSessionReused(),
  };
}
