// Four-digit lowercase hex for 16-bit values, made once per value and kept: fingerprints format the same few
// hundred cipher, extension and algorithm codes over and over.
const cache: (string | undefined)[] = [];

export function hex4(value: number): string {
  let text = cache[value];
  if (text === undefined) {
    text = value.toString(16).padStart(4, "0");
    cache[value] = text;
  }
  return text;
}
