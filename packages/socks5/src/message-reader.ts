import type { Duplex } from "node:stream";
import { abortReason } from "@tessera/core";
import { rewind, toSocketError } from "@tessera/net";
import { Socks5ProtocolError } from "./errors.js";
import { MAX_MESSAGE, type MessageParser } from "./wire.js";

/** A message read from a stream, and the stream to go on with (it yields the bytes that came after it). */
export interface ReadMessage<T> {
  readonly value: T;
  readonly stream: Duplex;
}

const EMPTY = Buffer.alloc(0);

/**
 * Read one message from `stream` with `parse`, whatever the byte split. Bytes that arrived after the message
 * (a client that pipelines its request, or its first data, without waiting) are put back in front of the
 * stream with `rewind`, so nothing is lost: read on from the returned stream. Only the bytes of one message
 * are ever held (at most {@link MAX_MESSAGE} plus one chunk).
 *
 * Rejects with the parser's Socks5ProtocolError, with a "truncated" one if the peer ends first, with a typed
 * socket error if the stream fails, and with the signal's reason when it aborts.
 */
export function readMessage<T>(
  stream: Duplex,
  parse: MessageParser<T>,
  signal: AbortSignal,
): Promise<ReadMessage<T>> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  if (stream.readableEnded || stream.destroyed) {
    return Promise.reject(new Socks5ProtocolError("truncated", "the connection was closed before a message"));
  }
  return new Promise<ReadMessage<T>>((resolve, reject) => {
    let seen: Buffer = EMPTY;
    const cleanup = (): void => {
      stream.off("readable", onReadable);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.off("close", onEnd);
      signal.removeEventListener("abort", onAbort);
    };
    const fail = (error: Error): void => {
      cleanup();
      reject(error);
    };
    function onReadable(): void {
      for (;;) {
        const chunk = stream.read() as Buffer | null;
        if (chunk === null) return;
        seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
        let parsed: ReturnType<MessageParser<T>>;
        try {
          parsed = parse(seen);
        } catch (error) {
          fail(error as Error);
          return;
        }
        if (parsed !== undefined) {
          cleanup();
          // Synchronously in the same turn as read(): an EOF cannot slip in front of the bytes put back.
          const rest = seen.subarray(parsed.length);
          resolve({ value: parsed.value, stream: rewind(stream, rest) });
          return;
        }
        // Unreachable with the parsers of wire.ts (each decides within MAX_MESSAGE); a guard for others.
        if (seen.length > MAX_MESSAGE) {
          fail(new Socks5ProtocolError("unexpected", "a SOCKS5 message longer than any valid one"));
          return;
        }
      }
    }
    function onEnd(): void {
      fail(
        new Socks5ProtocolError(
          "truncated",
          seen.length === 0
            ? "the peer closed the connection before sending a message"
            : `the peer closed the connection in the middle of a message (${seen.length} bytes)`,
        ),
      );
    }
    function onError(error: Error): void {
      fail(toSocketError(error));
    }
    function onAbort(): void {
      fail(abortReason(signal));
    }
    stream.on("readable", onReadable);
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.on("close", onEnd);
    signal.addEventListener("abort", onAbort);
    // Bytes already buffered (put back by the previous message) would not fire a new 'readable' event.
    if (stream.readableLength > 0) onReadable();
  });
}
