import { TLSSocket } from "node:tls";
import { type Layer, layer, neverAborts, type Service } from "@tessera/core";
import { Alpn, type Conn, conn as makeConn, PeekTimeoutError, peekConn, Sni } from "@tessera/net";
import { AlertDescription, alertRecord, closeConnection } from "./alert.js";
import {
  type ClientHello,
  type ClientHelloLimits,
  type ClientHelloRead,
  DEFAULT_MAX_CLIENT_HELLO,
  readClientHello,
} from "./client-hello.js";
import {
  ClientHelloError,
  NoCertificateError,
  TlsHandshakeError,
  TlsHandshakeTimeoutError,
} from "./errors.js";
import { toHandshakeError } from "./handshake-errors.js";
import { ja3 } from "./ja3.js";
import { ja4 } from "./ja4.js";
import { ClientHelloKey, Fingerprints, type TlsFingerprints, TlsSessionKey } from "./keys.js";
import {
  chooseAlpn,
  secureContextOf,
  type TlsServerConfig,
  type TlsServerConfigSource,
} from "./server-config.js";
import { sessionFacts } from "./session-facts.js";

export interface TlsAcceptorOptions {
  /** The configuration, or a function choosing it from the ClientHello (see `sniRouter`). */
  readonly config: TlsServerConfigSource;
  /** Time for the whole handshake, ClientHello included. Default 10 000 ms. */
  readonly handshakeTimeout?: number;
  /** The largest ClientHello accepted. Default 16 KiB. */
  readonly maxClientHelloBytes?: number;
  /** Offer JA3 and JA4 on the `Fingerprints` key (computed on first read). Default true. */
  readonly fingerprint?: boolean;
}

/**
 * The server side of TLS, as a layer over any `Conn`. It reads the ClientHello before the handshake (without
 * consuming it), records it on the connection's extensions (`ClientHelloKey`, `Fingerprints` with JA3 and JA4,
 * net's `Sni`), chooses the configuration for it (by SNI, say), completes the handshake with `node:tls`, records
 * what was negotiated (`TlsSessionKey`, net's `Alpn`) and hands the inner service the decrypted connection
 * (same extensions).
 *
 * Bytes that are not TLS, a malformed ClientHello, a timeout or a failed handshake close the connection
 * (with a TLS alert where one applies) and reject with a typed error: {@link ClientHelloError},
 * {@link TlsHandshakeTimeoutError}, {@link NoCertificateError}, {@link TlsHandshakeError}.
 *
 * @example
 * ```ts
 * const https = tlsAcceptor({ config: { ...selfSignedCertificate(), alpn: ["h2", "http/1.1"] } }).layer(app);
 * await listen({ host: "127.0.0.1", port: 8443 }, https);
 * ```
 */
export function tlsAcceptor(options: TlsAcceptorOptions): Layer<Conn, void> {
  const settings: Settings = {
    config: options.config,
    timeout: options.handshakeTimeout ?? 10_000,
    helloLimits: { maxBytes: options.maxClientHelloBytes ?? DEFAULT_MAX_CLIENT_HELLO },
    fingerprint: options.fingerprint ?? true,
  };
  return layer((inner: Service<Conn, void>) => ({
    serve: (conn: Conn) => accept(conn, inner, settings),
  }));
}

interface Settings {
  readonly config: TlsServerConfigSource;
  readonly timeout: number;
  /** Made once: the ClientHello reader runs on every chunk of every handshake. */
  readonly helloLimits: { readonly maxBytes: number };
  readonly fingerprint: boolean;
}

async function accept(raw: Conn, inner: Service<Conn, void>, s: Settings): Promise<void> {
  const started = Date.now();
  const hello = await readHello(raw, s);
  const { extensions } = raw;
  extensions.insert(ClientHelloKey, hello.hello);
  // Computed on first read: most services never look, and the hashing costs more than the parsing.
  if (s.fingerprint) extensions.insertLazy(Fingerprints, fingerprintsOf, hello.hello);
  if (hello.hello.serverName !== undefined) extensions.insert(Sni, hello.hello.serverName);

  let config: TlsServerConfig;
  let context: ReturnType<typeof secureContextOf>;
  try {
    config = typeof s.config === "function" ? await s.config(hello.hello, raw) : s.config;
    context = secureContextOf(config);
  } catch (error) {
    const description =
      error instanceof NoCertificateError
        ? AlertDescription.unrecognizedName
        : AlertDescription.internalError;
    closeConnection(hello.conn.stream, alertRecord(description));
    throw error;
  }

  const alpn = chooseAlpn(config.alpn, hello.hello.alpn);
  const clientAuth = config.clientAuth;
  // From here the TLS socket reads the raw stream and reports its failures (the handshake's error, then the
  // inner service's stream errors); the raw stream's own error events must not crash the process.
  hello.conn.stream.on("error", ignore);
  const socket = new TLSSocket(hello.conn.stream, {
    isServer: true,
    secureContext: context,
    requestCert: clientAuth !== undefined,
    rejectUnauthorized: clientAuth !== undefined && clientAuth.required !== false,
    ...alpnOptions(config.alpn, hello.hello.alpn, alpn),
  });
  await handshake(socket, hello.conn, Math.max(0, s.timeout - (Date.now() - started)));
  if (clientAuth !== undefined) checkClientCertificate(socket, clientAuth.required !== false, hello.conn);
  const facts = sessionFacts(socket, hello.hello.serverName, clientAuth !== undefined);
  extensions.insert(TlsSessionKey, facts);
  if (facts.alpn !== undefined) extensions.insert(Alpn, facts.alpn);
  // A socket error is the inner service's to see through the stream; here it must only not crash the process.
  socket.on("error", ignore);
  await inner.serve(makeConn(socket, extensions));
  // The inner service is done with the connection. Whoever gave us the raw connection may now end it (a
  // listener does), and ending the raw socket under TLS would cut off what TLS still has to send: the last
  // response bytes, session tickets, close_notify. So end TLS here and wait until its writes are out.
  await finishTls(socket, s.timeout);
}

// Waiting for TLS's last writes, with the state on the socket and shared listeners (as for the handshake below).
interface Finishing {
  readonly timer: ReturnType<typeof setTimeout>;
  readonly resolve: () => void;
}
const kFinishing = Symbol("tessera.tls.finishing");
type FinishingSocket = TLSSocket & { [kFinishing]?: Finishing | undefined };

function finishTls(socket: TLSSocket, timeoutMs: number): Promise<void> {
  if (socket.destroyed || socket.writableFinished) return Promise.resolve();
  if (!socket.writableEnded) socket.end();
  return new Promise<void>((resolve) => {
    // A peer that reads nothing could hold the flush forever: give up after the handshake timeout.
    const timer = setTimeout(finished, timeoutMs, socket);
    (socket as FinishingSocket)[kFinishing] = { timer, resolve };
    socket.on("finish", onFinished);
    socket.on("close", onFinished);
  });
}

function finished(socket: FinishingSocket): void {
  const finishing = socket[kFinishing];
  if (finishing === undefined) return;
  socket[kFinishing] = undefined;
  clearTimeout(finishing.timer);
  socket.off("finish", onFinished);
  socket.off("close", onFinished);
  finishing.resolve();
}
function onFinished(this: FinishingSocket): void {
  finished(this);
}

// The protocol was chosen from the ClientHello already: hand OpenSSL just that one (in wire form), so it selects
// it natively. Only a client whose list shares nothing with ours needs the callback, whose undefined answer sends
// the no_application_protocol alert (RFC 7301 3.2).
// Keyed by protocols of the server configurations, so bounded by them.
const alpnWire = new Map<string, Buffer>();
function alpnOptions(
  server: readonly string[] | undefined,
  offered: readonly string[] | undefined,
  chosen: string | undefined,
): { ALPNProtocols?: Buffer; ALPNCallback?: () => undefined } {
  if (server === undefined || offered === undefined) return {};
  if (chosen === undefined) return { ALPNCallback: refuseAlpn };
  let wire = alpnWire.get(chosen);
  if (wire === undefined) {
    const id = Buffer.from(chosen, "latin1");
    wire = Buffer.concat([Buffer.from([id.length]), id]);
    alpnWire.set(chosen, wire);
  }
  return { ALPNProtocols: wire };
}
function refuseAlpn(): undefined {
  return undefined;
}

function fingerprintsOf(hello: ClientHello): TlsFingerprints {
  return { ja3: ja3(hello), ja4: ja4(hello) };
}

interface HelloRead {
  readonly hello: ClientHello;
  readonly conn: Conn;
}

// The peek's predicate: one shared function bound to a small per-connection state (a named closure would cost a
// connection its own property dictionary under keepNames).
interface HelloWait {
  readonly limits: ClientHelloLimits;
  read: ClientHelloRead | undefined;
}
function helloComplete(this: HelloWait, bytes: Buffer): boolean {
  this.read = readClientHello(bytes, this.limits);
  return this.read.status === "complete";
}

async function readHello(raw: Conn, s: Settings): Promise<HelloRead> {
  const wait: HelloWait = { limits: s.helloLimits, read: undefined };
  try {
    // Room for a ClientHello cut into small records (5 bytes of header each); anything beyond is an attack.
    // Bounded by the timeout and by the peer closing; the connection's own signal is not read (on a listener's
    // connection, reading it makes one per connection), as in http's auto server.
    const peeked = await peekConn(raw, {
      until: helloComplete.bind(wait),
      max: 2 * s.helloLimits.maxBytes + 1024,
      timeout: s.timeout,
      signal: neverAborts(),
    });
    const read = wait.read;
    if (peeked.status === "done" && read?.status === "complete")
      return { hello: read.hello, conn: peeked.conn };
    throw peeked.status === "limit"
      ? new ClientHelloError("too-large", "the ClientHello came in too many small records")
      : new ClientHelloError("truncated", `the peer ended after ${peeked.bytes.length} bytes`);
  } catch (error) {
    if (error instanceof ClientHelloError) {
      // Something that is not TLS at all gets no TLS alert, nor does a peer that already left; a broken hello
      // gets decode_error.
      const silent = error.reason === "not-tls" || error.reason === "truncated";
      closeConnection(raw.stream, silent ? undefined : alertRecord(AlertDescription.decodeError));
      throw error;
    }
    closeConnection(raw.stream);
    if (error instanceof PeekTimeoutError) throw new TlsHandshakeTimeoutError(s.timeout);
    throw error;
  }
}

// Waiting for the server handshake: the state rides on the socket and the listeners are shared functions, so a
// connection costs no closures here (this runs once per connection, on the hot path).
interface Waiting {
  readonly raw: Conn;
  readonly timeoutMs: number;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}
const kWaiting = Symbol("tessera.tls.handshake");
type WaitingSocket = TLSSocket & { [kWaiting]?: Waiting | undefined };

function handshake(socket: TLSSocket, raw: Conn, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(onHandshakeTimeout, timeoutMs, socket);
    (socket as WaitingSocket)[kWaiting] = { raw, timeoutMs, timer, resolve, reject };
    socket.on("secure", onHandshakeSecure);
    socket.on("error", onHandshakeError);
    // On a half-open connection (a listener's sockets are), a peer that leaves mid-handshake is an 'end' with
    // no 'close' after it: both mean the handshake will not finish.
    socket.on("end", onHandshakeClose);
    socket.on("close", onHandshakeClose);
  });
}

function settle(socket: WaitingSocket): Waiting | undefined {
  const waiting = socket[kWaiting];
  if (waiting === undefined) return undefined;
  socket[kWaiting] = undefined;
  clearTimeout(waiting.timer);
  socket.off("secure", onHandshakeSecure);
  socket.off("error", onHandshakeError);
  socket.off("end", onHandshakeClose);
  socket.off("close", onHandshakeClose);
  return waiting;
}

function failHandshake(socket: WaitingSocket, error: Error): void {
  const waiting = settle(socket);
  if (waiting === undefined) return;
  socket.on("error", ignore);
  socket.destroy();
  waiting.raw.stream.destroy();
  waiting.reject(error);
}

function onHandshakeSecure(this: WaitingSocket): void {
  settle(this)?.resolve();
}
function onHandshakeError(this: WaitingSocket, error: Error): void {
  failHandshake(this, toHandshakeError(error, "TLS server"));
}
function onHandshakeClose(this: WaitingSocket): void {
  failHandshake(this, new TlsHandshakeError("the connection closed during the TLS handshake"));
}
function onHandshakeTimeout(socket: WaitingSocket): void {
  const waiting = socket[kWaiting];
  if (waiting !== undefined) failHandshake(socket, new TlsHandshakeTimeoutError(waiting.timeoutMs));
}

// node:tls accepts any client certificate during the handshake and leaves the verdict to the server object
// (tls.Server's 'secure' handler reads the handle's verifyError). A bare TLSSocket has no server object, so
// the verdict is read here the same way.
function checkClientCertificate(socket: TLSSocket, required: boolean, raw: Conn): void {
  const handle = (socket as unknown as { _handle?: { verifyError(): Error | null } })._handle;
  const verifyError = handle === undefined ? new Error("the TLS handle is gone") : handle.verifyError();
  if (verifyError === null) {
    socket.authorized = true;
    return;
  }
  socket.authorizationError = verifyError;
  if (!required) return;
  socket.on("error", ignore);
  socket.destroy();
  raw.stream.destroy();
  throw toHandshakeError(verifyError, "TLS server (client certificate)");
}

function ignore(): void {}
