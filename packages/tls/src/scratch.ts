// One scratch buffer for the fingerprints' text (JA3's decimal lists, JA4's hex lists): they build it as ASCII
// bytes, hash the bytes and read the string once, instead of concatenating a string per value. Each use is
// synchronous and done with it before returning, so one buffer serves them all; it grows to the largest need.
let scratch = Buffer.allocUnsafe(2048);

/** The scratch buffer, at least `size` bytes long. Valid until the next call. */
export function scratchText(size: number): Buffer {
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, 2 * scratch.length));
  return scratch;
}
