import type { Duplex } from "node:stream";
import { type Extensible, Extensions } from "@tessera/core";

/**
 * A connection: a byte stream plus the extensions that say what is known about it (peer address, SNI,
 * negotiated ALPN, cancellation signal, ...). TCP, Unix, TLS, SOCKS5 and in-memory connections are all `Conn`s,
 * so any protocol runs over any of them. A 1:1 wrap (TLS over TCP) makes a new `Conn` sharing the same
 * extensions; see {@link conn}.
 */
export interface Conn extends Extensible {
  readonly stream: Duplex;
  readonly extensions: Extensions;
  /** A copy sharing the stream but carrying `extensions` (for layers that fork, like retry). */
  withExtensions(extensions: Extensions): this;
}

// One small class rather than object literals: every Conn has the same shape (one hidden class), and
// `withExtensions` lives once on the prototype instead of once per connection.
class BasicConn implements Conn {
  readonly stream: Duplex;
  readonly extensions: Extensions;
  constructor(stream: Duplex, extensions: Extensions) {
    this.stream = stream;
    this.extensions = extensions;
  }
  withExtensions(extensions: Extensions): this {
    return new BasicConn(this.stream, extensions) as this;
  }
}

/**
 * Make a connection from a stream and (optionally) the extensions it carries.
 *
 * @example
 * ```ts
 * const tcp = conn(socket, new Extensions().insert(PeerAddr, { family: "IPv4", host: "10.0.0.1", port: 5000 }));
 * const tls = conn(tlsSocket, tcp.extensions); // a 1:1 wrap shares the extensions
 * ```
 */
export function conn(stream: Duplex, extensions: Extensions = new Extensions()): Conn {
  return new BasicConn(stream, extensions);
}
