import { type Layer, layer, type Service, service } from "@tessera/core";
import type { Conn } from "../conn.js";
import type { ConnectRequest } from "../connect-request.js";
import {
  LocalAddr,
  PeerAddr,
  ProxiedClientAddr,
  ProxiedDestAddr,
  ProxyProtocolSent,
  type SocketAddress,
} from "../keys.js";
import { encodeProxyHeader } from "./encode.js";
import type { ProxyHeaderInit } from "./header.js";

export interface ProxyProtocolConnectorOptions {
  /** The version to write. Default 2. */
  readonly version?: 1 | 2;
  /**
   * The header to write: fields that are the same for every connection (TLVs, `crc32c`), or a function of
   * the request and the new connection. Addresses left out are filled in as described on
   * {@link proxyProtocolConnector}.
   */
  readonly header?: ProxyHeaderInit | ((request: ConnectRequest, conn: Conn) => ProxyHeaderInit);
}

/**
 * The addresses a header speaks for: the client the request is made on behalf of, if the request carries it
 * (its extensions forked from an accepted connection: that connection's proxied client, else its peer), else
 * this connection's own two ends (what curl's `--haproxy-protocol` sends).
 */
function defaultAddresses(
  request: ConnectRequest,
  conn: Conn,
): { source?: SocketAddress; destination?: SocketAddress } {
  const req = request.extensions;
  const source = req.get(ProxiedClientAddr) ?? req.get(PeerAddr);
  const destination = req.get(ProxiedDestAddr) ?? req.get(LocalAddr);
  if (source !== undefined && destination !== undefined) return { source, destination };
  const own = { source: conn.extensions.get(LocalAddr), destination: conn.extensions.get(PeerAddr) };
  return own.source !== undefined && own.destination !== undefined ? own : {};
}

/**
 * A connector layer that starts every connection it makes with a PROXY protocol header (v2 by default, with
 * any TLVs and an optional CRC32C), written before any byte of the caller's, so the server behind it (HAProxy
 * with `accept-proxy`, nginx with `proxy_protocol`, Tessera's `proxyProtocol`) learns the original client.
 *
 * Addresses not given in `header`: the request's {@link ProxiedClientAddr} or else {@link PeerAddr} (a request
 * whose extensions fork an accepted connection's, as a proxy makes), and {@link ProxiedDestAddr} or else
 * {@link LocalAddr}; without them, the new connection's own local and peer addresses; without those,
 * `UNKNOWN`/`UNSPEC`. What was sent is recorded as {@link ProxyProtocolSent} on the connection.
 *
 * Put it right over the transport connector (TCP), under TLS and application protocols: the header is the
 * first bytes on the wire, before a TLS ClientHello.
 *
 * An encoding failure (TLVs with v1, say) destroys the new connection and rejects.
 *
 * @example
 * ```ts
 * const connector = stack(proxyProtocolConnector({ version: 2, header: { authority: "example.com", crc32c: true } }))
 *   .into(tcpConnector());
 * ```
 */
export function proxyProtocolConnector(options?: ProxyProtocolConnectorOptions): Layer<ConnectRequest, Conn> {
  const version = options?.version ?? 2;
  return layer(
    (inner: Service<ConnectRequest, Conn>): Service<ConnectRequest, Conn> =>
      service(async (request: ConnectRequest) => {
        const conn = await inner.serve(request);
        let header: ProxyHeaderInit;
        let bytes: Buffer;
        try {
          const given =
            typeof options?.header === "function" ? options.header(request, conn) : options?.header;
          const local = given?.command === "local";
          const addresses =
            local || given?.source !== undefined || given?.destination !== undefined
              ? {}
              : defaultAddresses(request, conn);
          header = { ...addresses, ...given };
          bytes = encodeProxyHeader(version, header);
        } catch (error) {
          conn.stream.destroy();
          throw error;
        }
        conn.stream.write(bytes);
        conn.extensions.insert(ProxyProtocolSent, { version, header });
        return conn;
      }),
  );
}
