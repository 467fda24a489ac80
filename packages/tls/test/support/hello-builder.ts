// Builds ClientHello bytes by hand for tests: a message, then records around it (optionally split).

export interface HelloSpec {
  readonly version?: number;
  readonly sessionId?: Buffer;
  readonly ciphers?: readonly number[];
  readonly compression?: readonly number[];
  /** Extensions in wire order; undefined leaves the extensions block out entirely. */
  readonly extensions?: ReadonlyArray<readonly [number, Buffer]>;
}

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
export const vec16 = (b: Buffer): Buffer => Buffer.concat([u16(b.length), b]);
export const vec8 = (b: Buffer): Buffer => Buffer.concat([Buffer.from([b.length]), b]);
export const u16s = (values: readonly number[]): Buffer => Buffer.concat(values.map(u16));

export const ext = {
  sni: (name: string): readonly [number, Buffer] => [
    0,
    vec16(Buffer.concat([Buffer.from([0]), vec16(Buffer.from(name, "latin1"))])),
  ],
  alpn: (...ids: string[]): readonly [number, Buffer] => [
    16,
    vec16(Buffer.concat(ids.map((id) => vec8(Buffer.from(id, "latin1"))))),
  ],
  versions: (...v: number[]): readonly [number, Buffer] => [43, vec8(u16s(v))],
  groups: (...g: number[]): readonly [number, Buffer] => [10, vec16(u16s(g))],
  pointFormats: (...p: number[]): readonly [number, Buffer] => [11, vec8(Buffer.from(p))],
  sigAlgs: (...s: number[]): readonly [number, Buffer] => [13, vec16(u16s(s))],
  raw: (type: number, data: Buffer = Buffer.alloc(0)): readonly [number, Buffer] => [type, data],
};

/** The handshake message (type 1, 3-byte length, body). */
export function helloMessage(spec: HelloSpec = {}): Buffer {
  const parts = [
    u16(spec.version ?? 0x0303),
    Buffer.alloc(32, 7),
    vec8(spec.sessionId ?? Buffer.alloc(0)),
    vec16(u16s(spec.ciphers ?? [0x1301, 0xc02f])),
    vec8(Buffer.from(spec.compression ?? [0])),
  ];
  if (spec.extensions !== undefined) {
    parts.push(vec16(Buffer.concat(spec.extensions.map(([t, d]) => Buffer.concat([u16(t), vec16(d)])))));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([
    Buffer.from([1, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]),
    body,
  ]);
}

/** Wrap a handshake message in handshake records of at most `fragment` bytes each. */
export function records(message: Buffer, fragment = 1 << 14, version = 0x0301): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; at < message.length; at += fragment) {
    const piece = message.subarray(at, at + fragment);
    out.push(Buffer.from([22, version >> 8, version & 0xff, piece.length >> 8, piece.length & 0xff]), piece);
  }
  return Buffer.concat(out);
}
