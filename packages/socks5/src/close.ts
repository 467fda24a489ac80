import type { Duplex } from "node:stream";

/**
 * Write a last message, end our side, and give the peer a moment to read it: resolves once the bytes are
 * flushed and the peer ended or closed too, or after `lingerMs`. Input that still comes is read and dropped,
 * because closing with unread input makes the kernel send a reset, which can destroy the answer in flight.
 */
export function closeWith(stream: Duplex, last: Buffer | undefined, lingerMs = 1_000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (stream.destroyed) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      stream.off("end", done);
      stream.off("close", done);
      stream.off("error", done);
      resolve();
    };
    const timer = setTimeout(done, lingerMs);
    timer.unref?.();
    stream.on("end", done);
    stream.on("close", done);
    stream.on("error", done);
    if (stream.readableEnded) {
      // The peer has ended already: once our bytes are flushed there is nothing to wait for.
      stream.once("finish", done);
    }
    stream.resume();
    if (!stream.writableEnded) stream.end(last);
  });
}
