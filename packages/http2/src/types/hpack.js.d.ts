// The parts of hpack.js 2.1.6 (untyped CommonJS) that this package uses, as read from its source. We drive its
// bit-level codec and tables ourselves instead of its stream-based Compressor/Decompressor (see hpack-decoder.ts).
declare module "hpack.js" {
  /** A table entry; static entries and dynamic ones have the same shape. totalSize = name + value + 32. */
  export interface HpackEntry {
    name: string;
    value: string;
    nameSize: number;
    totalSize: number;
  }
  export interface HpackTable {
    dynamic: HpackEntry[];
    size: number;
    maxSize: number;
    protocolMaxSize: number;
    length: number;
    lookup(index: number): HpackEntry;
    add(name: string, value: string, nameSize: number, valueSize: number): void;
    updateSize(size: number): void;
  }
  /** obuf's OffsetBuffer: reads across pushed chunks; throws a TypeError when read past its end. */
  export interface HpackInput {
    size: number;
    use(buf: Buffer, offset: number, size: number): void;
    peekUInt8(): number;
    readUInt8(): number;
  }
  export interface HpackBitDecoder {
    buffer: HpackInput;
    bitOffset: number;
    decodeInt(): number;
    decodeStr(): Buffer | number[];
  }
  export interface HpackBitEncoder {
    encodeBit(bit: number): void;
    encodeBits(bits: number, length: number): void;
    encodeInt(value: number): void;
    encodeStr(octets: number[], huffman: boolean): void;
    render(): Buffer[];
  }
  const hpack: {
    decoder: { create(): HpackBitDecoder };
    encoder: { create(): HpackBitEncoder };
    table: { create(options: { maxSize: number; lookupDepth?: number }): HpackTable };
    /** encode[octet] = [bit length, code]; index 256 is EOS. */
    huffman: { encode: readonly (readonly [number, number])[] };
    "static-table": { table: readonly HpackEntry[] };
  };
  export default hpack;
}
