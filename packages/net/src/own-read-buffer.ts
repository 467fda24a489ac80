import { Socket } from "node:net";
import type { Duplex } from "node:stream";

/**
 * Called with each read of a socket switched by {@link readIntoOwnBuffer}: `n` bytes at the start of `buffer`.
 * Return false to stop reading (resume with `socket.resume()`).
 */
export type OwnBufferReader = (n: number, buffer: Buffer) => boolean;

// The fields behind `net.connect({ onread })`: a socket whose `kBuffer` is set reads into that buffer and hands
// each read to `kBufferCb` instead of pushing a fresh 64 KiB Buffer into the stream. Node offers this only when it
// creates the socket, and never for accepted ones, so a relay finds the fields on an existing socket and sets
// them itself. Internal, hence feature-detected once: if a Node version lacks any piece, nothing is switched.
interface OwnReadSymbols {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}
let symbols: OwnReadSymbols | null | undefined;

function findSymbols(socket: Socket): OwnReadSymbols | null {
  const byName = new Map<string, symbol>();
  for (const key of Object.getOwnPropertySymbols(socket)) {
    if (key.description !== undefined) byName.set(key.description, key);
  }
  const buffer = byName.get("kBuffer");
  const callback = byName.get("kBufferCb");
  const generator = byName.get("kBufferGen");
  return buffer && callback && generator ? { buffer, callback, generator } : null;
}

/**
 * A plain TCP or Unix socket made by node:net (not a TLS socket, not a wrapper stream): one whose write is done
 * with the bytes once nothing is left queued, because the kernel copied them.
 */
export function isPlainSocket(stream: Duplex): stream is Socket {
  return Object.getPrototypeOf(stream) === Socket.prototype;
}

interface SocketHandle {
  useUserBuffer?: (buffer: Uint8Array) => void;
}

/**
 * Switch a plain TCP or Unix socket (not a TLS socket, not a wrapper stream) to reading into `buffer`: from now on
 * every read lands in the same memory and goes to `reader`, not to 'data' events. A relay moving bulk data that
 * way does not allocate, and later page-fault in, a fresh 64 KiB buffer per read. 'end', 'error', 'close',
 * timeouts, `pause()` and `resume()` keep working; chunks already buffered in the stream still come as 'data'.
 *
 * The caller owns `buffer` between reads: a chunk handed on must be done with (written out) before reading
 * resumes. `next`, when given, is asked after every read for the buffer the next read goes into (it may change
 * size with the traffic). Returns false, changing nothing, when `stream` cannot be switched.
 */
export function readIntoOwnBuffer(
  stream: Duplex,
  buffer: Buffer,
  reader: OwnBufferReader,
  next?: () => Buffer,
): boolean {
  if (!isPlainSocket(stream)) return false;
  const socket = stream;
  const handle = (socket as unknown as { _handle?: SocketHandle | null })._handle;
  if (handle == null || typeof handle.useUserBuffer !== "function" || socket.destroyed) return false;
  if (symbols === undefined) symbols = findSymbols(socket);
  if (symbols === null) return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  if (fields[symbols.buffer] != null) return false;
  fields[symbols.buffer] = buffer;
  fields[symbols.callback] = reader;
  fields[symbols.generator] = next ?? null;
  handle.useUserBuffer(buffer);
  return true;
}
