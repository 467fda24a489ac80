import { createHash, X509Certificate } from "node:crypto";
import {
  connect,
  createSecureContext,
  type DetailedPeerCertificate,
  type SecureContext,
  type SecureContextOptions,
  type TLSSocket,
} from "node:tls";
import { type Layer, layer, type Service, signalOf } from "@tessera/core";
import {
  Alpn,
  type Conn,
  type ConnectRequest,
  formatAuthority,
  ipFamily,
  conn as makeConn,
  Sni,
} from "@tessera/net";
import {
  CertificateVerificationError,
  TlsConfigError,
  TlsHandshakeError,
  TlsHandshakeTimeoutError,
} from "./errors.js";
import { toHandshakeError } from "./handshake-errors.js";
import { TlsSessionKey } from "./keys.js";
import { LruCache } from "./lru.js";
import type { Pem } from "./server-config.js";
import { sessionFacts } from "./session-facts.js";

export interface TlsConnectorOptions {
  /** ALPN protocols to offer, in preference order (`["h2", "http/1.1"]`). Default: none. */
  readonly alpn?: readonly string[];
  /** Trusted CA certificates (PEM). Replaces Node's bundled roots, as in `node:tls`. */
  readonly ca?: Pem;
  /**
   * Public key pins: `"sha256/<base64 of SHA-256 of the DER SubjectPublicKeyInfo>"` (the HPKP and curl
   * `--pinnedpubkey` form). The connection is refused unless a certificate of the chain the server sent has one
   * of these keys. Checked in addition to verification (and even when `insecure`).
   */
  readonly pins?: readonly string[];
  /** Skip certificate verification (chain and name). Off by default; for tests and debugging. */
  readonly insecure?: boolean;
  /** Client certificate chain and key (PEM), for servers that ask for one (mTLS). */
  readonly cert?: Pem;
  readonly key?: Pem;
  /**
   * The server name to send and verify: default the target host when it is a name; never sent for an IP literal
   * (RFC 6066), where the certificate is checked against the IP. A string overrides; `false` sends none.
   */
  readonly serverName?: string | false;
  /** How many sessions to keep for resumption (one per target, server name and ALPN list). Default 100; 0 off. */
  readonly sessionCacheSize?: number;
  /** Time for the handshake. Default 10 000 ms. */
  readonly handshakeTimeout?: number;
  /** Lowest protocol version. Default `"TLSv1.2"`. */
  readonly minVersion?: SecureContextOptions["minVersion"];
  /** Extra `node:tls` secure context options (ciphers, sigalgs, ecdhCurve, ...). */
  readonly contextOptions?: SecureContextOptions;
}

/**
 * The client side of TLS, as a connector layer: the inner connector (TCP, a SOCKS5 or CONNECT tunnel) opens the
 * connection, then the handshake runs over it. Verification is on by default. The connection handed back shares
 * the inner one's extensions and adds net's `Alpn` (so an HTTP client picks h2 or HTTP/1.1), net's `Sni` (when
 * one was sent) and `TlsSessionKey`.
 *
 * Rejects with {@link CertificateVerificationError} (untrusted, expired, wrong name, pin mismatch),
 * {@link TlsHandshakeTimeoutError} or {@link TlsHandshakeError}; the connection is then closed.
 *
 * @example
 * ```ts
 * const https = tlsConnector({ alpn: ["h2", "http/1.1"] }).layer(tcpConnector());
 * const conn = await https.serve(connectRequest("example.com:443"));
 * conn.extensions.get(Alpn); // "h2"
 * ```
 */
export function tlsConnector(options: TlsConnectorOptions = {}): Layer<ConnectRequest, Conn> {
  const context = makeContext(options);
  const pins = parsePins(options.pins);
  const size = options.sessionCacheSize ?? 100;
  const sessions = size > 0 ? new LruCache<string, Buffer>(size) : undefined;
  const settings: Settings = {
    options,
    context,
    pins,
    sessions,
    timeout: options.handshakeTimeout ?? 10_000,
  };
  return layer((inner: Service<ConnectRequest, Conn>) => ({
    async serve(request: ConnectRequest): Promise<Conn> {
      const raw = await inner.serve(request);
      return handshake(raw, request, settings);
    },
  }));
}

interface Settings {
  readonly options: TlsConnectorOptions;
  readonly context: SecureContext;
  readonly pins: ReadonlySet<string> | undefined;
  readonly sessions: LruCache<string, Buffer> | undefined;
  readonly timeout: number;
}

function makeContext(options: TlsConnectorOptions): SecureContext {
  try {
    return createSecureContext({
      minVersion: options.minVersion ?? "TLSv1.2",
      ...options.contextOptions,
      ...(options.ca === undefined ? {} : { ca: options.ca as string | Buffer | Array<string | Buffer> }),
      ...(options.cert === undefined
        ? {}
        : { cert: options.cert as string | Buffer | Array<string | Buffer> }),
      ...(options.key === undefined ? {} : { key: options.key as string | Buffer | Array<string | Buffer> }),
    });
  } catch (error) {
    throw new TlsConfigError(`unusable CA, certificate or key: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function parsePins(pins: readonly string[] | undefined): ReadonlySet<string> | undefined {
  if (pins === undefined) return undefined;
  for (const pin of pins) {
    if (!/^sha256\/[A-Za-z0-9+/]{43}=$/.test(pin)) {
      throw new TlsConfigError(
        `a pin must be "sha256/" and 44 characters of base64, got ${JSON.stringify(pin)}`,
      );
    }
  }
  return new Set(pins);
}

function handshake(raw: Conn, request: ConnectRequest, s: Settings): Promise<Conn> {
  const { host, port } = request.authority;
  const where = `TLS to ${formatAuthority(request.authority)}`;
  const literal = ipFamily(host) !== 0;
  // A fully qualified name's trailing dot is not part of the SNI (RFC 6066 3).
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  const serverName =
    s.options.serverName === false ? undefined : (s.options.serverName ?? (literal ? undefined : name));
  const alpn = s.options.alpn;
  const sessionKey = `${host}|${port}|${serverName ?? ""}|${alpn?.join(",") ?? ""}`;
  const session = s.sessions?.get(sessionKey);
  const signal = signalOf(request);

  return new Promise<Conn>((resolve, reject) => {
    const socket: TLSSocket = connect({
      socket: raw.stream,
      host,
      ...(serverName === undefined ? {} : { servername: serverName }),
      ...(alpn === undefined ? {} : { ALPNProtocols: [...alpn] }),
      secureContext: s.context,
      rejectUnauthorized: s.options.insecure !== true,
      ...(session === undefined ? {} : { session }),
    });
    const sessions = s.sessions;
    // TLS 1.3 sends its tickets after the handshake; keep the newest for the next connection.
    if (sessions !== undefined) socket.on("session", (ticket: Buffer) => sessions.set(sessionKey, ticket));

    const fail = (error: Error): void => {
      cleanup();
      socket.on("error", ignore);
      socket.destroy();
      raw.stream.destroy();
      reject(error);
    };
    const onSecure = (): void => {
      const pinError = s.pins === undefined ? undefined : checkPins(socket, s.pins, where);
      if (pinError !== undefined) {
        fail(pinError);
        return;
      }
      cleanup();
      const facts = sessionFacts(socket, serverName);
      const extensions = raw.extensions;
      extensions.insert(TlsSessionKey, facts);
      if (facts.alpn !== undefined) extensions.insert(Alpn, facts.alpn);
      if (serverName !== undefined) extensions.insert(Sni, serverName);
      // The caller reads errors through the stream; an unobserved one must not crash the process.
      socket.on("error", ignore);
      resolve(makeConn(socket, extensions));
    };
    const onError = (error: Error): void => fail(toHandshakeError(error, where));
    const onClose = (): void =>
      fail(new TlsHandshakeError(`${where}: the connection closed during the handshake`));
    const onAbort = (): void =>
      fail(signal.reason instanceof Error ? signal.reason : new TlsHandshakeError(`${where}: aborted`));
    const timer = setTimeout(() => fail(new TlsHandshakeTimeoutError(s.timeout)), s.timeout);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off("secureConnect", onSecure);
      socket.off("error", onError);
      socket.off("end", onClose);
      socket.off("close", onClose);
      signal.removeEventListener("abort", onAbort);
    };
    raw.stream.on("error", ignore);
    socket.on("secureConnect", onSecure);
    socket.on("error", onError);
    // A server that leaves mid-handshake over a half-open stream is an 'end' with no 'close' after it.
    socket.on("end", onClose);
    socket.on("close", onClose);
    // (A request without a signal has core's shared never-aborting one, which ignores listeners.)
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort);
  });
}

/** The pin (`sha256/...`) of a certificate's public key. */
export function publicKeyPin(certificate: X509Certificate): string {
  const spki = certificate.publicKey.export({ type: "spki", format: "der" });
  return `sha256/${createHash("sha256").update(spki).digest("base64")}`;
}

function checkPins(socket: TLSSocket, pins: ReadonlySet<string>, where: string): Error | undefined {
  const seen = new Set<DetailedPeerCertificate>();
  for (
    let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
    cert !== undefined && cert.raw !== undefined && !seen.has(cert);
    cert = cert.issuerCertificate
  ) {
    seen.add(cert);
    // `pubkey` is the bare key (an EC point, say), not the SubjectPublicKeyInfo that pins hash.
    if (pins.has(publicKeyPin(new X509Certificate(cert.raw)))) return undefined;
  }
  return new CertificateVerificationError(
    "PIN_MISMATCH",
    `${where}: no certificate of the chain matches a pin`,
  );
}

function ignore(): void {}
