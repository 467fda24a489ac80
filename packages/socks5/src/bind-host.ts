import { type Conn, LocalAddr } from "@tessera/net";

/**
 * The address a BIND listener or a UDP relay binds to: the configured one, else the local address the client
 * reached us on (so the client can reach the new port the same way), else 127.0.0.1.
 */
export function bindHostFor(client: Conn, configured: string | undefined): string {
  if (configured !== undefined) return configured;
  const local = client.extensions.get(LocalAddr);
  return local !== undefined && local.family !== "unix" ? local.host : "127.0.0.1";
}
