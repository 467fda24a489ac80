import { prng } from "../../../../test-support/prng.js";
import { type Frame, FrameReader, type FrameReaderOptions, type Http2Error } from "../../src/index.js";

// The seeded PRNG all packages' randomized tests share (mulberry32): failures reproduce from the seed.
export { prng };

/** A frame as plain data (payload as hex), for comparing the results of different byte splits. */
export function summary(frame: Frame): Record<string, unknown> {
  return {
    type: frame.type,
    flags: frame.flags,
    streamId: frame.streamId,
    length: frame.length,
    payload: frame.payload.toString("hex"),
    data: frame.data.toString("hex"),
    padLength: frame.padLength,
    dependency: frame.dependency,
    weight: frame.weight,
    exclusive: frame.exclusive,
    errorCode: frame.errorCode,
    lastStreamId: frame.lastStreamId,
    windowIncrement: frame.windowIncrement,
    promisedStreamId: frame.promisedStreamId,
    settings: [...frame.settings],
    continuations: frame.continuations,
  };
}

export interface Outcome {
  frames: Record<string, unknown>[];
  streamErrors: { code: string; streamId: number; errorCode: number }[];
  error: { name: string; code: string; scope: string; errorCode: number; message: string } | null;
}

/** Reads `bytes` cut into the given chunks and records what came out (frames, stream errors, the final error). */
export function readChunks(chunks: readonly Buffer[], options?: FrameReaderOptions): Outcome {
  const out: Outcome = { frames: [], streamErrors: [], error: null };
  const reader = new FrameReader(
    {
      onFrame: (frame) => out.frames.push(summary(frame)),
      onStreamError: (err) =>
        out.streamErrors.push({ code: err.code, streamId: err.streamId, errorCode: err.errorCode }),
    },
    options,
  );
  try {
    for (const chunk of chunks) reader.push(chunk);
  } catch (err) {
    const e = err as Http2Error;
    out.error = { name: e.name, code: e.code, scope: e.scope, errorCode: e.errorCode, message: e.message };
  }
  return out;
}

/** Cuts `bytes` at the given offsets. */
export function cut(bytes: Buffer, at: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const to of [...at].sort((a, b) => a - b)) {
    out.push(bytes.subarray(from, to));
    from = to;
  }
  out.push(bytes.subarray(from));
  return out;
}

/** Every byte in its own chunk (copied, so no chunk shares memory with another). */
export function byteByByte(bytes: Buffer): Buffer[] {
  return Array.from(bytes, (b) => Buffer.from([b]));
}

/** Random cuts, chunks copied into fresh buffers. */
export function randomSplit(bytes: Buffer, random: () => number, maxCuts = 20): Buffer[] {
  const n = Math.floor(random() * maxCuts);
  const at = Array.from({ length: n }, () => Math.floor(random() * (bytes.length + 1)));
  return cut(bytes, at).map((c) => Buffer.from(c));
}
