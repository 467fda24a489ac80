// Buffer#latin1Slice is Node's undocumented but long-standing fast path behind toString("latin1"); calling it
// directly skips the encoding switch and argument checks, about a third faster for short header strings.

interface Latin1Buffer {
  latin1Slice(start: number, end: number): string;
  latin1Write(s: string, offset: number, length: number): number;
}

const hasFastPath =
  typeof (Buffer.prototype as unknown as Partial<Latin1Buffer>).latin1Slice === "function" &&
  typeof (Buffer.prototype as unknown as Partial<Latin1Buffer>).latin1Write === "function";

/** The bytes `[start, end)` of `buf` as a latin1 string (one char per byte, obs-text kept as U+0080-U+00FF). */
export const latin1Slice: (buf: Buffer, start: number, end: number) => string = hasFastPath
  ? (buf, start, end) => (buf as unknown as Latin1Buffer).latin1Slice(start, end)
  : (buf, start, end) => buf.toString("latin1", start, end);

/** Writes `s` (every char <= 0xFF) into `buf` at `offset` as latin1; returns the bytes written. */
export const latin1Write: (buf: Buffer, s: string, offset: number) => number = hasFastPath
  ? (buf, s, offset) => (buf as unknown as Latin1Buffer).latin1Write(s, offset, s.length)
  : (buf, s, offset) => buf.write(s, offset, s.length, "latin1");
