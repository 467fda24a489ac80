// Four-digit lowercase hex for 16-bit values, made once per value and kept: fingerprints format the same few
// hundred cipher, extension and algorithm codes over and over. A Map, not a sparse array (which V8 would turn
// into a slow dictionary).
const cache = new Map<number, string>();

export function hex4(value: number): string {
  let text = cache.get(value);
  if (text === undefined) {
    text = value.toString(16).padStart(4, "0");
    cache.set(value, text);
  }
  return text;
}
