// Field offsets are handed out as views of a shared Int32Array slab. A fresh small Int32Array costs V8 an
// off-heap allocation (about 0.7 µs here, as much as parsing the whole head); a view of a slab costs a tenth of
// that. This is the trade-off Node's Buffer pool makes: a view keeps its whole slab alive, so the slab is small.

const SLAB_INTS = 2048; // 8 KiB, the size of Node's Buffer pool
let slab = new Int32Array(SLAB_INTS);
let used = 0;

/** A copy of the first `n` ints of `src`, as a view of the shared slab (or a new array when `n` is large). */
export function copyOffsets(src: Int32Array, n: number): Int32Array {
  if (n === 0) return EMPTY_OFFSETS;
  if (n > SLAB_INTS >>> 2) return src.slice(0, n);
  if (used + n > SLAB_INTS) {
    slab = new Int32Array(SLAB_INTS);
    used = 0;
  }
  const out = slab.subarray(used, used + n);
  for (let i = 0; i < n; i++) out[i] = src[i]!;
  used += n;
  return out;
}

const EMPTY_OFFSETS = new Int32Array(0);
