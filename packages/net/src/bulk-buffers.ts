/** The size of the buffers bulk relay directions read into: fewer, larger reads than Node's 64 KiB. */
export const BULK_BUFFER_SIZE = 256 * 1024;
// Spare bulk buffers kept for the next burst (a few MiB at most); the rest go to the garbage collector. A
// direction that alternates between bursts and pauses takes one back instead of allocating, and page-faulting
// in, fresh memory each time.
const MAX_SPARE = 16;
const spare: Buffer[] = [];

/** A bulk buffer: a spare one or a new one. Its bytes are whatever was there. */
export function takeBulkBuffer(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafe(BULK_BUFFER_SIZE);
}

/** Return a buffer from {@link takeBulkBuffer} that nothing (no pending write) refers to any more. */
export function giveBackBulkBuffer(buffer: Buffer): void {
  if (spare.length < MAX_SPARE) spare.push(buffer);
}

/** How many spare buffers are kept now (for tests). */
export function spareBulkBuffers(): number {
  return spare.length;
}
