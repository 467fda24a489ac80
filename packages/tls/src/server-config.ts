import { createSecureContext, type SecureContext, type SecureContextOptions } from "node:tls";
import type { Conn } from "@tessera/net";
import type { ClientHello } from "./client-hello.js";
import { TlsConfigError } from "./errors.js";

/** PEM text, or several (a chain, a CA list), as `node:tls` takes them. */
export type Pem = string | Buffer | ReadonlyArray<string | Buffer>;

/** How to serve one TLS connection: a certificate, the ALPN protocols, and optionally client certificates. */
export interface TlsServerConfig {
  /** Certificate chain (PEM), leaf first. With `key`; or give `secureContext` instead. */
  readonly cert?: Pem;
  readonly key?: Pem;
  /** A ready `node:tls` secure context (e.g. from a certificate issuer); takes the place of cert/key/ca. */
  readonly secureContext?: SecureContext;
  /**
   * ALPN protocols in server preference order (`["h2", "http/1.1"]`). The first one the client also offers is
   * chosen; a client whose list shares none gets the `no_application_protocol` alert (RFC 7301). Without this,
   * no ALPN is negotiated.
   */
  readonly alpn?: readonly string[];
  /** Ask the client for a certificate and check it against `ca` (mTLS). */
  readonly clientAuth?: {
    readonly ca: Pem;
    /** Fail the handshake without a valid client certificate (default true); false accepts and records it. */
    readonly required?: boolean;
  };
  /** Lowest protocol version accepted. Default `"TLSv1.2"`. */
  readonly minVersion?: SecureContextOptions["minVersion"];
  readonly maxVersion?: SecureContextOptions["maxVersion"];
  /** Extra `node:tls` secure context options (ciphers, ecdhCurve, sessionTimeout, ticketKeys, ...). */
  readonly contextOptions?: SecureContextOptions;
}

/** The configuration for a connection, chosen from its ClientHello (e.g. by SNI, see `sniRouter`). */
export type TlsServerConfigSource =
  | TlsServerConfig
  | ((hello: ClientHello, conn: Conn) => TlsServerConfig | Promise<TlsServerConfig>);

// One secure context per configuration object, made on first use: creating one parses keys and costs far more
// than a handshake's share of work.
const contexts = new WeakMap<TlsServerConfig, SecureContext>();

export function secureContextOf(config: TlsServerConfig): SecureContext {
  if (config.secureContext !== undefined) return config.secureContext;
  let context = contexts.get(config);
  if (context === undefined) {
    if (config.cert === undefined || config.key === undefined) {
      throw new TlsConfigError("a TLS server configuration needs cert and key, or secureContext");
    }
    try {
      context = createSecureContext({
        minVersion: config.minVersion ?? "TLSv1.2",
        ...(config.maxVersion === undefined ? {} : { maxVersion: config.maxVersion }),
        ...config.contextOptions,
        cert: config.cert as string | Buffer | Array<string | Buffer>,
        key: config.key as string | Buffer | Array<string | Buffer>,
        ...(config.clientAuth === undefined
          ? {}
          : { ca: config.clientAuth.ca as string | Buffer | Array<string | Buffer> }),
      });
    } catch (error) {
      throw new TlsConfigError(`unusable certificate or key: ${(error as Error).message}`, { cause: error });
    }
    contexts.set(config, context);
  }
  return context;
}

/** The server's choice among the client's ALPN offers: its own first preference the client also offers. */
export function chooseAlpn(
  server: readonly string[] | undefined,
  offered: readonly string[] | undefined,
): string | undefined {
  if (server === undefined || offered === undefined) return undefined;
  for (const protocol of server) if (offered.includes(protocol)) return protocol;
  return undefined;
}
