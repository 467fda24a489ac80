import type { Duplex } from "node:stream";
import { ConnectionClosedError, type Peeked, peek } from "@tessera/net";
import { Socks5ProtocolError } from "./errors.js";
import { MAX_MESSAGE, type MessageParser, type Parsed } from "./wire.js";

/** A message read from a stream, and the stream to go on with (it yields the bytes that came after it). */
export interface ReadMessage<T> {
  readonly value: T;
  readonly stream: Duplex;
}

/**
 * Read one message from `stream` with `parse`, whatever the byte split: net's `peek` waits until `parse` decides,
 * then the message's bytes are taken off the stream and the bytes after it (a client that pipelines its request,
 * or its first data, without waiting) stay in front of it, so nothing is lost: read on from the returned stream.
 * Only the bytes of one message are ever held (at most {@link MAX_MESSAGE} plus one chunk).
 *
 * Rejects with the parser's Socks5ProtocolError, with a "truncated" one if the peer ends or closes first, with a
 * typed socket error if the stream fails, and with the signal's reason when it aborts.
 */
export async function readMessage<T>(
  stream: Duplex,
  parse: MessageParser<T>,
  signal: AbortSignal,
): Promise<ReadMessage<T>> {
  let parsed: Parsed<T> | undefined;
  let peeked: Peeked;
  try {
    peeked = await peek(stream, {
      until: (seen) => {
        parsed = parse(seen);
        return parsed !== undefined;
      },
      // One byte past the longest message: a parser that has not decided by then never will.
      max: MAX_MESSAGE + 1,
      signal,
    });
  } catch (error) {
    if (error instanceof ConnectionClosedError) throw truncated(0);
    throw error;
  }
  if (parsed === undefined) {
    if (peeked.status === "end") throw truncated(peeked.bytes.length);
    // Unreachable with the parsers of wire.ts (each decides within MAX_MESSAGE); a guard for others.
    throw new Socks5ProtocolError("unexpected", "a SOCKS5 message longer than any valid one");
  }
  // Peek put every byte back (in place: the stream had not ended); take the message's off again.
  peeked.stream.read(parsed.length);
  return { value: parsed.value, stream: peeked.stream };
}

function truncated(seen: number): Socks5ProtocolError {
  return new Socks5ProtocolError(
    "truncated",
    seen === 0
      ? "the peer closed the connection before sending a message"
      : `the peer closed the connection in the middle of a message (${seen} bytes)`,
  );
}
