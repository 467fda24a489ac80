import type { Duplex } from "node:stream";
import { TLSSocket } from "node:tls";
import { type Layer, layer, neverAborts, type Service } from "@tessera/core";
import { Alpn, type Conn, conn as makeConn, type Peeked, peek, Sni } from "@tessera/net";
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
  const maxBytes = options.maxClientHelloBytes ?? DEFAULT_MAX_CLIENT_HELLO;
  const settings: Settings = {
    config: options.config,
    timeout: options.handshakeTimeout ?? 10_000,
    helloLimits: { maxBytes },
    // Room for a ClientHello cut into small records (5 bytes of header each); anything beyond is an attack.
    peekMax: 2 * maxBytes + 1024,
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
  readonly peekMax: number;
  readonly fingerprint: boolean;
}

// One connection runs through here: each allocation, listener, timer and await costs every handshake a share of
// the server's CPU (bench/tls compares it with a plain node:tls server), so the steps are inline and the helpers
// shared functions.
async function accept(raw: Conn, inner: Service<Conn, void>, s: Settings): Promise<void> {
  const h = new Handshake(s.helloLimits, raw.stream, s.timeout);
  let peeked: Peeked;
  try {
    // Bounded by the handshake's timer (which destroys the stream) and by the peer closing; the connection's own
    // signal is not read (on a listener's connection, reading it makes one per connection), as in http's auto
    // server.
    peeked = await peek(raw.stream, { until: helloComplete.bind(h), max: s.peekMax, signal: neverAborts() });
  } catch (error) {
    clearTimeout(h.timer);
    throw helloFailed(raw, h.timedOut ? new TlsHandshakeTimeoutError(s.timeout) : error);
  }
  const read = h.read;
  if (peeked.status !== "done" || read?.status !== "complete") {
    clearTimeout(h.timer);
    throw helloFailed(
      raw,
      peeked.status === "limit"
        ? new ClientHelloError("too-large", "the ClientHello came in too many small records")
        : new ClientHelloError("truncated", `the peer ended after ${peeked.bytes.length} bytes`),
    );
  }
  const hello = read.hello;
  const stream = peeked.stream;
  h.raw = stream;
  const { extensions } = raw;
  extensions.insert(ClientHelloKey, hello);
  // Computed on first read: most services never look, and the hashing costs more than the parsing.
  if (s.fingerprint) extensions.insertLazy(Fingerprints, fingerprintsOf, hello);
  if (hello.serverName !== undefined) extensions.insert(Sni, hello.serverName);

  let config: TlsServerConfig;
  let context: ReturnType<typeof secureContextOf>;
  try {
    config = typeof s.config === "function" ? await chosenInTime(s.config(hello, raw), h) : s.config;
    context = secureContextOf(config);
  } catch (error) {
    clearTimeout(h.timer);
    const description =
      error instanceof NoCertificateError
        ? AlertDescription.unrecognizedName
        : AlertDescription.internalError;
    closeConnection(stream, alertRecord(description));
    throw error;
  }
  // A configuration chosen asynchronously (a certificate issued on the fly, say) may have taken the whole time.
  if (h.timedOut) throw new TlsHandshakeTimeoutError(s.timeout);

  const clientAuth = config.clientAuth;
  // From here the TLS socket reads the raw stream and reports its failures (the handshake's error, then the
  // inner service's stream errors); the raw stream's own error events must not crash the process.
  stream.on("error", ignore);
  const socket = new TLSSocket(stream, {
    isServer: true,
    secureContext: context,
    requestCert: clientAuth !== undefined,
    rejectUnauthorized: clientAuth !== undefined && clientAuth.required !== false,
    ...alpnOptions(config.alpn, hello.alpn),
  });
  h.next = { inner, conn: raw, clientAuth, serverName: hello.serverName };
  // Settles once the inner service is done (see `served`).
  await secured(socket, h);
}

// The rest of a connection, started from the TLS socket's 'secure' event itself (not a promise turn later): the
// inner service runs in the same turn as the handshake's last flight, as a node:tls server's 'secureConnection'
// does, so what it writes first (or its end) can leave with the session tickets rather than in writes of its own.
async function served(socket: TLSSocket, h: Handshake, next: AfterHandshake): Promise<void> {
  const clientAuth = next.clientAuth;
  if (clientAuth !== undefined) checkClientCertificate(socket, clientAuth.required !== false, h.raw);
  const extensions = next.conn.extensions;
  const facts = sessionFacts(socket, next.serverName, clientAuth !== undefined);
  extensions.insert(TlsSessionKey, facts);
  if (facts.alpn !== undefined) extensions.insert(Alpn, facts.alpn);
  // A socket error is the inner service's to see through the stream; here it must only not crash the process.
  socket.on("error", ignore);
  await next.inner.serve(makeConn(socket, extensions));
  // The inner service is done with the connection. Whoever gave us the raw connection may now end it (a
  // listener does), and ending the raw socket under TLS would cut off what TLS still has to send: the last
  // response bytes, session tickets, close_notify. So end TLS here and wait until its writes are out.
  await finishTls(socket, h.timeoutMs);
}

// Close a connection whose ClientHello did not arrive whole or well-formed, and say why.
function helloFailed(raw: Conn, error: unknown): unknown {
  if (error instanceof ClientHelloError) {
    // Something that is not TLS at all gets no TLS alert, nor does a peer that already left; a broken hello
    // gets decode_error.
    const silent = error.reason === "not-tls" || error.reason === "truncated";
    closeConnection(raw.stream, silent ? undefined : alertRecord(AlertDescription.decodeError));
    return error;
  }
  closeConnection(raw.stream);
  return error;
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

// The protocol is chosen from the ClientHello (see `chooseAlpn`): hand OpenSSL just that one (in wire form), so it
// selects it natively. Only a client whose list shares nothing with ours needs the callback, whose undefined
// answer sends the no_application_protocol alert (RFC 7301 3.2). The option objects are made once per protocol
// (node:tls copies what it keeps). The cache is capped: a configuration function may build its ALPN list from
// the client's offer (a MITM mirroring it, say), and then the protocols are the peers' to choose.
const NO_ALPN: { ALPNProtocols?: Buffer; ALPNCallback?: () => undefined } = {};
const REFUSE_ALPN = { ALPNCallback: refuseAlpn };
const MAX_CACHED_ALPN = 64;
const alpnWire = new Map<string, { ALPNProtocols: Buffer }>();
function alpnOptions(
  server: readonly string[] | undefined,
  offered: readonly string[] | undefined,
): { ALPNProtocols?: Buffer; ALPNCallback?: () => undefined } {
  const chosen = chooseAlpn(server, offered);
  if (chosen === undefined) return server === undefined || offered === undefined ? NO_ALPN : REFUSE_ALPN;
  let options = alpnWire.get(chosen);
  if (options === undefined) {
    const id = Buffer.from(chosen, "latin1");
    options = { ALPNProtocols: Buffer.concat([Buffer.from([id.length]), id]) };
    if (alpnWire.size < MAX_CACHED_ALPN) alpnWire.set(chosen, options);
  }
  return options;
}
function refuseAlpn(): undefined {
  return undefined;
}

function fingerprintsOf(hello: ClientHello): TlsFingerprints {
  return { ja3: ja3(hello), ja4: ja4(hello) };
}

// One connection's handshake, ClientHello included: its deadline (one timer for both parts), the ClientHello as the
// peek's predicate read it, then the wait for the TLS socket's 'secure'. The state rides on the socket and the
// listeners and the predicate are shared functions, so a connection costs no closures here.
class Handshake {
  read: ClientHelloRead | undefined = undefined;
  /** The stream under TLS, destroyed when the handshake fails or times out. */
  raw: Duplex;
  socket: WaitingSocket | undefined = undefined;
  timedOut = false;
  next: AfterHandshake | undefined = undefined;
  resolve: ((done: Promise<void>) => void) | undefined = undefined;
  reject: ((error: Error) => void) | undefined = undefined;
  readonly limits: ClientHelloLimits;
  readonly timeoutMs: number;
  readonly timer: ReturnType<typeof setTimeout>;
  constructor(limits: ClientHelloLimits, raw: Duplex, timeoutMs: number) {
    this.limits = limits;
    this.raw = raw;
    this.timeoutMs = timeoutMs;
    this.timer = setTimeout(onHandshakeTimeout, timeoutMs, this);
  }
}
// What `served` needs once the handshake is done.
interface AfterHandshake {
  readonly inner: Service<Conn, void>;
  readonly conn: Conn;
  readonly clientAuth: TlsServerConfig["clientAuth"];
  readonly serverName: string | undefined;
}
const kWaiting = Symbol("tessera.tls.handshake");
type WaitingSocket = TLSSocket & { [kWaiting]?: Handshake | undefined };

// The peek's predicate, bound to the connection's Handshake.
function helloComplete(this: Handshake, bytes: Buffer): boolean {
  this.read = readClientHello(bytes, this.limits);
  return this.read.status === "complete";
}

// Before the TLS socket exists, destroying the stream ends the wait for the ClientHello (the peek fails with it,
// and accept reports the timeout); a configuration function still working is given up on through `reject`.
function onHandshakeTimeout(h: Handshake): void {
  h.timedOut = true;
  if (h.socket !== undefined) failHandshake(h.socket, new TlsHandshakeTimeoutError(h.timeoutMs));
  else {
    h.raw.destroy();
    h.reject?.(new TlsHandshakeTimeoutError(h.timeoutMs));
  }
}

// The configuration a function chose, or the handshake's timeout if that comes first: a function that never
// answers (a stuck certificate lookup) must not keep the connection's promise pending forever.
function chosenInTime(
  chosen: TlsServerConfig | Promise<TlsServerConfig>,
  h: Handshake,
): TlsServerConfig | Promise<TlsServerConfig> {
  if (!(chosen instanceof Promise)) return chosen;
  return new Promise<TlsServerConfig>((resolve, reject) => {
    h.reject = reject;
    chosen.then(resolve, reject);
  });
}

function secured(socket: TLSSocket, h: Handshake): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    h.resolve = resolve;
    h.reject = reject;
    h.socket = socket;
    (socket as WaitingSocket)[kWaiting] = h;
    socket.on("secure", onHandshakeSecure);
    socket.on("error", onHandshakeError);
    // On a half-open connection (a listener's sockets are), a peer that leaves mid-handshake is an 'end' with
    // no 'close' after it: both mean the handshake will not finish.
    socket.on("end", onHandshakeClose);
    socket.on("close", onHandshakeClose);
  });
}

function settle(socket: WaitingSocket): Handshake | undefined {
  const h = socket[kWaiting];
  if (h === undefined) return undefined;
  socket[kWaiting] = undefined;
  clearTimeout(h.timer);
  socket.off("secure", onHandshakeSecure);
  socket.off("error", onHandshakeError);
  socket.off("end", onHandshakeClose);
  socket.off("close", onHandshakeClose);
  return h;
}

function failHandshake(socket: WaitingSocket, error: Error): void {
  const h = settle(socket);
  if (h === undefined) return;
  socket.on("error", ignore);
  socket.destroy();
  h.raw.destroy();
  h.reject?.(error);
}

function onHandshakeSecure(this: WaitingSocket): void {
  const h = settle(this);
  if (h?.next !== undefined) h.resolve?.(served(this, h, h.next));
}
function onHandshakeError(this: WaitingSocket, error: Error): void {
  failHandshake(this, toHandshakeError(error, "TLS server"));
}
function onHandshakeClose(this: WaitingSocket): void {
  failHandshake(this, new TlsHandshakeError("the connection closed during the TLS handshake"));
}

// node:tls accepts any client certificate during the handshake and leaves the verdict to the server object
// (tls.Server's 'secure' handler reads the handle's verifyError). A bare TLSSocket has no server object, so
// the verdict is read here the same way.
function checkClientCertificate(socket: TLSSocket, required: boolean, raw: Duplex): void {
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
  raw.destroy();
  throw toHandshakeError(verifyError, "TLS server (client certificate)");
}

function ignore(): void {}
