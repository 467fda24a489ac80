import type { Duplex } from "node:stream";
import type { Authority, Conn } from "@tessera/net";
import { rewind, toSocketError } from "@tessera/net";
import { UNSPECIFIED } from "./address.js";
import type { ServerSettings } from "./command-context.js";
import { Method } from "./constants.js";
import {
  Socks5AuthError,
  Socks5HandshakeTimeoutError,
  Socks5NoAcceptableMethodError,
  Socks5ProtocolError,
} from "./errors.js";
import { Socks5Username } from "./keys.js";
import { replyCodeFor } from "./reply-code.js";
import {
  encodeAuthStatus,
  encodeMessage,
  encodeMethodSelection,
  MAX_MESSAGE,
  parseCredentials,
  parseGreeting,
  parseMessage,
} from "./wire.js";

/** Where in the handshake a failure happened: it decides what (if anything) the client is answered. */
export type HandshakePhase = "greeting" | "auth" | "request";

/** A request the handshake read, and the stream to go on with (pipelined bytes first). */
export interface HandshakeResult {
  readonly command: number;
  readonly target: Authority;
  readonly stream: Duplex;
}

/** A failed handshake: the typed error, the phase it failed in, and the bytes the client must still get. */
export class HandshakeFailure {
  readonly error: unknown;
  readonly phase: HandshakePhase;
  /** Undefined: close without answering. */
  readonly answer: Buffer | undefined;
  constructor(error: unknown, phase: HandshakePhase, answer: Buffer | undefined) {
    this.error = error;
    this.phase = phase;
    this.answer = answer;
  }
}

const kHandshake = Symbol("tessera.socks5.handshake");
type Tracked = Duplex & { [kHandshake]?: ServerHandshake };
const EMPTY = Buffer.alloc(0);

// Stream events reach the handshake through the stream (`this` of a shared handler), so a connection's
// handshake allocates no event-handler closures: this runs once per accepted connection.
function onData(this: Tracked, chunk: Buffer): void {
  this[kHandshake]?.received(chunk);
}
function onEnd(this: Tracked): void {
  this[kHandshake]?.peerEnded();
}
function onClose(this: Tracked): void {
  this[kHandshake]?.fail(truncated());
}
function truncated(): Socks5ProtocolError {
  return new Socks5ProtocolError("truncated", "the client closed the connection during the handshake");
}
function onError(this: Tracked, error: Error): void {
  this[kHandshake]?.fail(toSocketError(error));
}
function onTimeout(handshake: ServerHandshake): void {
  handshake.fail(new Socks5HandshakeTimeoutError(handshake.timeoutMs));
}

/**
 * The server side of the handshake as one state machine per connection: greeting, method choice,
 * username/password (RFC 1929) through the authenticator, and the request. Reads in flowing mode ('data' hands
 * each chunk over as it arrives: no 'readable' round trip and read() per message, which cost a few microseconds
 * per connection), parses whatever byte split arrives (see wire.ts), answers as it goes, and stops at the end of
 * the request: the stream is paused and the bytes after the request are put back in front of it. While the
 * authenticator decides, the stream is paused too. Bounded by the handshake timeout and by the longest message.
 */
export class ServerHandshake {
  readonly timeoutMs: number;
  readonly #conn: Conn;
  readonly #settings: ServerSettings;
  #stream: Tracked;
  #phase: HandshakePhase = "greeting";
  #seen: Buffer = EMPTY;
  /** Waiting for the authenticator: bytes stay buffered meanwhile. */
  #busy = false;
  /** The client ended its side while the authenticator decided: what it sent before must still be parsed. */
  #ended = false;
  #done = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolve!: (result: HandshakeResult) => void;
  #reject!: (failure: HandshakeFailure) => void;

  constructor(conn: Conn, settings: ServerSettings) {
    this.#conn = conn;
    this.#settings = settings;
    this.#stream = conn.stream as Tracked;
    this.timeoutMs = settings.handshakeTimeout;
  }

  /** Run the handshake; rejects with a {@link HandshakeFailure}. */
  run(): Promise<HandshakeResult> {
    const promise = new Promise<HandshakeResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const stream = this.#stream;
    if (stream.destroyed || stream.readableEnded) {
      this.fail(new Socks5ProtocolError("truncated", "the connection was closed before the handshake"));
      return promise;
    }
    stream[kHandshake] = this;
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("close", onClose);
    stream.on("error", onError);
    if (Number.isFinite(this.timeoutMs)) this.#timer = setTimeout(onTimeout, this.timeoutMs, this);
    // A stream paused before (by a peek, say) does not start flowing when a 'data' listener comes.
    stream.resume();
    return promise;
  }

  /** A chunk arrived: parse what has been seen. */
  received(chunk: Buffer): void {
    if (this.#done) return;
    this.#seen = this.#seen.length === 0 ? chunk : Buffer.concat([this.#seen, chunk]);
    if (!this.#busy) this.#parse();
  }

  /**
   * The client ended its side. Every chunk is parsed as it comes, so the bytes seen are not a whole message,
   * unless the authenticator is still deciding: a client may send its request (and data) and end at once.
   */
  peerEnded(): void {
    if (this.#busy) this.#ended = true;
    else this.fail(truncated());
  }

  fail(error: unknown): void {
    if (this.#done) return;
    this.#cleanup();
    this.#reject(new HandshakeFailure(error, this.#phase, this.#answerFor(error)));
  }

  #cleanup(): void {
    this.#done = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const stream = this.#stream;
    // Whoever takes the stream next (forward, BIND, the UDP relay, closeWith) resumes it.
    stream.pause();
    stream.off("data", onData);
    stream.off("end", onEnd);
    stream.off("close", onClose);
    stream.off("error", onError);
    stream[kHandshake] = undefined;
  }

  /** Parse complete messages from the bytes seen, answering each; stops when more bytes are needed. */
  #parse(): void {
    try {
      let incomplete = false;
      while (!this.#done && !this.#busy && this.#seen.length > 0) {
        if (!this.#step()) {
          incomplete = true;
          break;
        }
      }
      // Bytes waiting behind a pending authentication are bounded by the chunk they came in (reading stops).
      if (incomplete && !this.#done && this.#seen.length > MAX_MESSAGE) {
        throw new Socks5ProtocolError("unexpected", "a SOCKS5 message longer than any valid one");
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /** One message of the current phase; false when it is still incomplete. */
  #step(): boolean {
    const stream = this.#stream;
    if (this.#phase === "greeting") {
      const parsed = parseGreeting(this.#seen);
      if (parsed === undefined) return false;
      this.#seen = this.#seen.subarray(parsed.length);
      const method = this.#choose(parsed.value.methods);
      if (method === Method.NoAcceptable) throw new Socks5NoAcceptableMethodError(parsed.value.methods);
      stream.write(encodeMethodSelection(method));
      this.#phase = method === Method.UsernamePassword ? "auth" : "request";
      return true;
    }
    if (this.#phase === "auth") {
      const parsed = parseCredentials(this.#seen);
      if (parsed === undefined) return false;
      this.#seen = this.#seen.subarray(parsed.length);
      this.#authenticate(parsed.value.username, parsed.value.password);
      return true;
    }
    const parsed = parseMessage(this.#seen);
    if (parsed === undefined) return false;
    const rest = this.#seen.subarray(parsed.length);
    this.#cleanup();
    const { code, address } = parsed.value;
    // In the same turn as the last read(): an EOF cannot slip in front of the bytes put back.
    this.#resolve({
      command: code,
      target: { host: address.host, port: address.port },
      stream: rewind(stream, rest),
    });
    return false;
  }

  #choose(offered: readonly number[]): number {
    const settings = this.#settings;
    if (settings.authenticate !== undefined && offered.includes(Method.UsernamePassword)) {
      return Method.UsernamePassword;
    }
    if (settings.allowNoAuth && offered.includes(Method.NoAuth)) return Method.NoAuth;
    return Method.NoAcceptable;
  }

  #authenticate(username: string, password: string): void {
    this.#busy = true;
    // Bytes that come meanwhile wait in the stream (at most what arrived with the credentials is held here).
    this.#stream.pause();
    let verdict: Promise<boolean>;
    try {
      verdict = this.#settings.authenticate!.serve({ username, password, conn: this.#conn });
    } catch (error) {
      verdict = Promise.reject(error);
    }
    verdict.then(
      (ok) => {
        if (this.#done) return;
        this.#busy = false;
        if (!ok) {
          this.fail(new Socks5AuthError(username));
          return;
        }
        this.#stream.write(encodeAuthStatus(0x00));
        this.#conn.extensions.insert(Socks5Username, username);
        this.#phase = "request";
        this.#parse();
        if (this.#done) return;
        if (this.#ended) this.fail(truncated());
        else this.#stream.resume();
      },
      (error: unknown) => this.fail(error),
    );
  }

  #answerFor(error: unknown): Buffer | undefined {
    if (error instanceof Socks5NoAcceptableMethodError) return encodeMethodSelection(Method.NoAcceptable);
    if (this.#phase === "auth") return encodeAuthStatus(error instanceof Socks5AuthError ? 0x01 : 0xff);
    if (this.#phase === "request") {
      // A truncated request gets no reply: the client is gone.
      if (error instanceof Socks5ProtocolError && error.reason === "truncated") return undefined;
      return encodeMessage(replyCodeFor(error), UNSPECIFIED);
    }
    return undefined;
  }
}
