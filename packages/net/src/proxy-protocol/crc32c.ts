// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the PROXY protocol v2 CRC32C TLV.
// Table-driven, one byte at a time: headers are at most a few KiB, so slicing-by-8 would buy nothing.

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * Continue a CRC32C over `bytes`. Start with `crc = 0`; feeding a message in pieces gives the same result as
 * feeding it whole.
 *
 * @example
 * ```ts
 * crc32c(Buffer.from("123456789")); // 0xe3069283 (the standard check value)
 * ```
 */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
