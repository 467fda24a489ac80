import type { SocketAddress } from "../keys.js";

// The data model of a PROXY protocol header (https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt),
// shared by the parser, the encoder and the server and client layers.

/** The 12-byte signature that starts every v2 header. */
export const PROXY_V2_SIGNATURE: Buffer = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
/** What starts every v1 header. */
export const PROXY_V1_PREFIX: Buffer = Buffer.from("PROXY ", "latin1");
/** The longest v1 header the spec allows, CRLF included (`PROXY UNKNOWN` with two full IPv6 addresses). */
export const PROXY_V1_MAX_LENGTH = 107;
/** The fixed part of a v2 header: signature, version/command, family/transport, length. */
export const PROXY_V2_FIXED_LENGTH = 16;

/** The TLV types of v2 (section 2.2 of the spec). */
export const ProxyTlvType = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  SSL_VERSION: 0x21,
  SSL_CN: 0x22,
  SSL_CIPHER: 0x23,
  SSL_SIG_ALG: 0x24,
  SSL_KEY_ALG: 0x25,
  NETNS: 0x30,
} as const;

/** Bits of the SSL TLV's `client` field. */
export const ProxySslClient = {
  /** The client connected over SSL/TLS. */
  SSL: 0x01,
  /** The client presented a certificate over this connection. */
  CERT_CONN: 0x02,
  /** The client presented a certificate at least once over the TLS session this connection belongs to. */
  CERT_SESS: 0x04,
} as const;

/** The longest UNIQUE_ID value the spec allows. */
export const PROXY_UNIQUE_ID_MAX = 128;

/** One TLV as it was on the wire (v2 only). Types the parser knows are also decoded onto the header. */
export interface ProxyTlv {
  readonly type: number;
  readonly value: Buffer;
}

/** The SSL TLV: what the proxy knows about the client's TLS connection. */
export interface ProxySsl {
  /** The raw `client` bit field (see {@link ProxySslClient}). */
  readonly client: number;
  /** The raw `verify` field: 0 when the client presented a certificate and it was verified. */
  readonly verify: number;
  /** The client connected over TLS (`PP2_CLIENT_SSL`). */
  readonly ssl: boolean;
  /** A client certificate was presented on this connection (`PP2_CLIENT_CERT_CONN`). */
  readonly certConn: boolean;
  /** A client certificate was presented on this TLS session (`PP2_CLIENT_CERT_SESS`). */
  readonly certSession: boolean;
  /** A client certificate was presented and verified (`verify === 0` with a certificate). */
  readonly verified: boolean;
  /** The TLS version, e.g. `"TLSv1.3"` (`PP2_SUBTYPE_SSL_VERSION`). */
  readonly version?: string;
  /** The client certificate's Common Name (`PP2_SUBTYPE_SSL_CN`). */
  readonly cn?: string;
  /** The cipher, e.g. `"TLS_AES_256_GCM_SHA384"` (`PP2_SUBTYPE_SSL_CIPHER`). */
  readonly cipher?: string;
  /** The certificate's signature algorithm, e.g. `"SHA256"` (`PP2_SUBTYPE_SSL_SIG_ALG`). */
  readonly sigAlg?: string;
  /** The certificate's key algorithm, e.g. `"RSA2048"` (`PP2_SUBTYPE_SSL_KEY_ALG`). */
  readonly keyAlg?: string;
  /** Every sub-TLV as on the wire, the unknown ones included. */
  readonly tlvs: readonly ProxyTlv[];
}

/**
 * A parsed PROXY protocol header.
 *
 * - `command: "local"` (v2 LOCAL, e.g. a load balancer's health check): the connection is the proxy's own; no
 *   addresses, and the block after the fixed header is discarded as the spec says.
 * - `command: "proxy"` with `family: "unspec"` (v1 `UNKNOWN`, v2 `AF_UNSPEC`): relayed, but the original
 *   addresses are unknown; use the connection's own.
 */
export interface ProxyHeader {
  readonly version: 1 | 2;
  readonly command: "proxy" | "local";
  /** `"unspec"` for v1 UNKNOWN, v2 UNSPEC and LOCAL. */
  readonly family: "IPv4" | "IPv6" | "unix" | "unspec";
  /** `"stream"` for TCP (and all of v1 but UNKNOWN), `"dgram"` for UDP, `"unspec"` otherwise. */
  readonly transport: "stream" | "dgram" | "unspec";
  /** The original client's address (v2 UNIX: `path`, trailing NULs dropped; an abstract name starts `\0`). */
  readonly source?: SocketAddress;
  /** The address the client connected to, on the proxy. */
  readonly destination?: SocketAddress;
  /** Every TLV in wire order (v2 PROXY only; empty otherwise). */
  readonly tlvs: readonly ProxyTlv[];
  /** `PP2_TYPE_ALPN`: the application protocol the client negotiated, e.g. `"h2"` (bytes read as latin1). */
  readonly alpn?: string;
  /** `PP2_TYPE_AUTHORITY`: the host name the client asked for (usually its TLS SNI), UTF-8. */
  readonly authority?: string;
  /** `PP2_TYPE_UNIQUE_ID`: an opaque id of the connection, at most 128 bytes. */
  readonly uniqueId?: Buffer;
  /** `PP2_TYPE_SSL`: the client's TLS connection. */
  readonly ssl?: ProxySsl;
  /** `PP2_TYPE_NETNS`: the network namespace name the connection was accepted in. */
  readonly netns?: string;
  /** `PP2_TYPE_CRC32C`: the checksum, present only when it was there and matched. */
  readonly crc32c?: number;
}

// ---------------------------------------------------------------------------------------------------------
// What to send

/** The SSL TLV to send. */
export interface ProxySslInit {
  /** The `client` bit field (see `ProxySslClient`). Default `ProxySslClient.SSL`. */
  readonly client?: number;
  /** The `verify` field: 0 when a client certificate was verified (and when none was asked for). Default 0. */
  readonly verify?: number;
  readonly version?: string;
  readonly cn?: string;
  readonly cipher?: string;
  readonly sigAlg?: string;
  readonly keyAlg?: string;
  /** More sub-TLVs, sent after the ones above. */
  readonly tlvs?: readonly ProxyTlvInit[];
}

/** A raw TLV to send. */
export interface ProxyTlvInit {
  readonly type: number;
  /** Bytes, or text sent as UTF-8. */
  readonly value: Uint8Array | string;
}

/** A PROXY protocol header to send (see `encodeProxyHeader`). */
export interface ProxyHeaderInit {
  /** `"local"`: the connection is the proxy's own (a health check); v2 only (v1 sends UNKNOWN). Default `"proxy"`. */
  readonly command?: "proxy" | "local";
  /** v2: TCP (`"stream"`, the default) or UDP (`"dgram"`). v1 is TCP only. */
  readonly transport?: "stream" | "dgram";
  /** The original client. Give both addresses, of the same kind (IP or Unix), or neither (UNKNOWN/UNSPEC). */
  readonly source?: SocketAddress;
  /** The address the client connected to. */
  readonly destination?: SocketAddress;
  // TLVs (v2 only; giving any with v1 is an error).
  readonly alpn?: string | Uint8Array;
  readonly authority?: string;
  readonly uniqueId?: string | Uint8Array;
  readonly ssl?: ProxySslInit;
  readonly netns?: string;
  /** More TLVs, sent after the ones above. */
  readonly tlvs?: readonly ProxyTlvInit[];
  /** Pad with a NOOP TLV so the header's TLVs take this many more bytes (at least 3: a NOOP's own header). */
  readonly noop?: number;
  /** v2: append a CRC32C TLV over the whole header. Default false. */
  readonly crc32c?: boolean;
}
