import type { Duplex } from "node:stream";

/** TLS alert descriptions this package sends itself (RFC 8446 6.2). */
export const AlertDescription = {
  handshakeFailure: 40,
  decodeError: 50,
  internalError: 80,
  unrecognizedName: 112,
} as const;

/** A fatal alert record, in the record version most stacks accept before a version is agreed. */
export function alertRecord(description: number): Buffer {
  return Buffer.from([21, 3, 1, 0, 2, 2, description]);
}

// A peer that does not read its alert gets this long before the connection goes anyway.
const ALERT_GRACE_MS = 1000;

/**
 * Close a connection that will never carry TLS: send `alert` first when given, then end; destroy once the bytes
 * are out, or after a second if the peer does not read them. The stream is always destroyed in the end.
 */
export function closeConnection(stream: Duplex, alert?: Buffer): void {
  if (stream.destroyed) return;
  stream.on("error", ignore);
  if (alert === undefined || !stream.writable) {
    stream.destroy();
    return;
  }
  const timer = setTimeout(() => stream.destroy(), ALERT_GRACE_MS);
  timer.unref?.();
  stream.end(alert, () => {
    clearTimeout(timer);
    stream.destroy();
  });
}

function ignore(): void {}
