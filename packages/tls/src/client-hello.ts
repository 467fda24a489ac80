import { ClientHelloError } from "./errors.js";

/** One extension of a ClientHello, in wire order. `data` is its body (a view into the hello's `raw`). */
export interface HelloExtension {
  readonly type: number;
  readonly data: Buffer;
}

/**
 * What a client offered in its ClientHello. Lists keep wire order and GREASE values (fingerprints drop them);
 * `undefined` means the extension was absent, an empty array that it was present and empty.
 */
export interface ClientHello {
  /** The record layer version of the first record (0x0301 from most clients). */
  readonly recordVersion: number;
  /** `legacy_version` (0x0303 for TLS 1.2 and 1.3 clients). */
  readonly version: number;
  readonly random: Buffer;
  readonly sessionId: Buffer;
  readonly cipherSuites: readonly number[];
  readonly compressionMethods: readonly number[];
  readonly extensions: readonly HelloExtension[];
  /** server_name (0): the host_name entry. */
  readonly serverName: string | undefined;
  /** application_layer_protocol_negotiation (16), as latin1 strings (a protocol id is bytes, not text). */
  readonly alpn: readonly string[] | undefined;
  /** supported_versions (43). */
  readonly supportedVersions: readonly number[] | undefined;
  /** supported_groups (10). */
  readonly supportedGroups: readonly number[] | undefined;
  /** ec_point_formats (11). */
  readonly ecPointFormats: readonly number[] | undefined;
  /** signature_algorithms (13). */
  readonly signatureAlgorithms: readonly number[] | undefined;
  /** The whole handshake message (type, length, body), e.g. for fingerprints or logging. */
  readonly raw: Buffer;
}

/** Where {@link readClientHello} got to. */
export type ClientHelloRead =
  | { readonly status: "incomplete" }
  /** `length`: how many bytes of the input the records holding the ClientHello took. */
  | { readonly status: "complete"; readonly hello: ClientHello; readonly length: number };

export interface ClientHelloLimits {
  /** The largest ClientHello message accepted (handshake header included). Default 16 KiB. */
  readonly maxBytes?: number;
}

export const DEFAULT_MAX_CLIENT_HELLO = 16 * 1024;
const RECORD_HEADER = 5;
const MAX_RECORD = 1 << 14;
const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const INCOMPLETE: ClientHelloRead = { status: "incomplete" };

export const ExtensionType = {
  serverName: 0,
  supportedGroups: 10,
  ecPointFormats: 11,
  signatureAlgorithms: 13,
  alpn: 16,
  supportedVersions: 43,
} as const;

// The extensions whose contents are parsed; the others are kept as bytes.
const PARSED: ReadonlySet<number> = new Set(Object.values(ExtensionType));

/**
 * Read a ClientHello from the first bytes a client sent: the record layer is reassembled (a ClientHello may
 * span records, a record may hold only a few bytes of it), then the message is parsed. Incremental: call it
 * again with more bytes while it says `"incomplete"`. Throws a {@link ClientHelloError} as soon as the bytes
 * cannot become a valid ClientHello, so a peer cannot make us wait or buffer for nothing.
 *
 * @example
 * ```ts
 * const read = readClientHello(firstBytes);
 * if (read.status === "complete") console.log(read.hello.serverName, read.hello.alpn);
 * ```
 */
export function readClientHello(bytes: Uint8Array, limits: ClientHelloLimits = {}): ClientHelloRead {
  const max = limits.maxBytes ?? DEFAULT_MAX_CLIENT_HELLO;
  const input = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const fragments: Buffer[] = [];
  let collected = 0;
  let needed = -1; // the whole message length once the handshake header has arrived
  let offset = 0;
  while (true) {
    if (input.length - offset < RECORD_HEADER) {
      checkPartialHeader(input, offset, fragments.length === 0);
      return INCOMPLETE;
    }
    const type = input[offset]!;
    const major = input[offset + 1]!;
    const length = input.readUInt16BE(offset + 3);
    if (type !== HANDSHAKE || major !== 3) {
      if (fragments.length === 0) throw new ClientHelloError("not-tls", describeStart(input, offset));
      throw new ClientHelloError("unexpected-record", `record type ${type} inside the ClientHello`);
    }
    if (length === 0 || length > MAX_RECORD) {
      throw new ClientHelloError("bad-record", `a handshake record of ${length} bytes`);
    }
    const bodyStart = offset + RECORD_HEADER;
    const available = Math.min(length, input.length - bodyStart);
    fragments.push(input.subarray(bodyStart, bodyStart + available));
    collected += available;
    if (needed < 0 && collected >= 4) {
      const head = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
      if (head[0] !== CLIENT_HELLO) {
        throw new ClientHelloError("not-client-hello", `handshake message type ${head[0]}`);
      }
      needed = 4 + head.readUIntBE(1, 3);
      if (needed > max) throw new ClientHelloError("too-large", `${needed} bytes (at most ${max})`);
    } else if (needed < 0 && collected > 0 && fragments[0]![0] !== CLIENT_HELLO) {
      throw new ClientHelloError("not-client-hello", `handshake message type ${fragments[0]![0]}`);
    }
    if (needed >= 0 && collected >= needed) {
      const message = (fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments)).subarray(0, needed);
      // Bytes of the record after the ClientHello (another handshake message) are allowed: a TLS 1.2 client
      // never sends them, but the record boundary is what `length` reports.
      const end = bodyStart + length;
      const hello = parseClientHelloMessage(message, input.readUInt16BE(1));
      return { status: "complete", hello, length: Math.min(end, input.length) };
    }
    if (available < length) return INCOMPLETE;
    offset = bodyStart + length;
  }
}

// Reject early what can never become TLS, even before a whole record header arrived (one byte is enough to
// tell plain HTTP from TLS).
function checkPartialHeader(input: Buffer, offset: number, first: boolean): void {
  if (input.length > offset && input[offset] !== HANDSHAKE) {
    if (first) throw new ClientHelloError("not-tls", describeStart(input, offset));
    throw new ClientHelloError("unexpected-record", `record type ${input[offset]} inside the ClientHello`);
  }
  if (input.length > offset + 1 && input[offset + 1] !== 3) {
    throw new ClientHelloError(first ? "not-tls" : "unexpected-record", describeStart(input, offset));
  }
}

function describeStart(input: Buffer, offset: number): string {
  const head = input.subarray(offset, offset + 8);
  return `the connection starts with ${head.toString("hex")} (${JSON.stringify(head.toString("latin1"))})`;
}

/** A bounds-checked reader over one buffer; every overrun is a "malformed" ClientHelloError. */
class Reader {
  readonly #buf: Buffer;
  #pos: number;
  readonly #end: number;
  readonly #what: string;
  constructor(buf: Buffer, what: string, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
    this.#what = what;
  }
  get remaining(): number {
    return this.#end - this.#pos;
  }
  #need(n: number): number {
    if (this.#end - this.#pos < n) {
      throw new ClientHelloError("malformed", `${this.#what}: needs ${n} more bytes, has ${this.remaining}`);
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }
  u8(): number {
    return this.#buf[this.#need(1)]!;
  }
  u16(): number {
    return this.#buf.readUInt16BE(this.#need(2));
  }
  bytes(n: number): Buffer {
    const at = this.#need(n);
    return this.#buf.subarray(at, at + n);
  }
  /** A sub-reader over a vector with a `lengthBytes`-byte length prefix. */
  vector(lengthBytes: 1 | 2, what: string): Reader {
    const n = lengthBytes === 1 ? this.u8() : this.u16();
    const at = this.#need(n);
    return new Reader(this.#buf, what, at, at + n);
  }
  u16List(what: string, lengthBytes: 1 | 2 = 2): number[] {
    const r = this.vector(lengthBytes, what);
    if (r.remaining % 2 !== 0) throw new ClientHelloError("malformed", `${what}: odd length`);
    const out: number[] = [];
    while (r.remaining > 0) out.push(r.u16());
    return out;
  }
  end(): void {
    if (this.remaining !== 0) {
      throw new ClientHelloError("malformed", `${this.#what}: ${this.remaining} bytes left over`);
    }
  }
}

/**
 * Parse one ClientHello handshake message (type, 3-byte length, body), without the record layer.
 * Throws a {@link ClientHelloError} when it is malformed.
 */
export function parseClientHelloMessage(message: Buffer, recordVersion = 0x0301): ClientHello {
  if (message[0] !== CLIENT_HELLO) {
    throw new ClientHelloError("not-client-hello", `handshake message type ${message[0]}`);
  }
  const raw = Buffer.from(message);
  const top = new Reader(raw, "ClientHello", 0);
  top.u8();
  const bodyLength = (top.u8() << 16) | top.u16();
  const r = new Reader(raw, "ClientHello", 4, 4 + bodyLength);
  if (raw.length !== 4 + bodyLength) {
    throw new ClientHelloError(
      "malformed",
      `message is ${raw.length} bytes, its header says ${4 + bodyLength}`,
    );
  }
  const version = r.u16();
  const random = r.bytes(32);
  const sessionIdReader = r.vector(1, "session_id");
  if (sessionIdReader.remaining > 32) throw new ClientHelloError("malformed", "session_id longer than 32");
  const sessionId = sessionIdReader.bytes(sessionIdReader.remaining);
  const cipherSuites = r.u16List("cipher_suites");
  if (cipherSuites.length === 0) throw new ClientHelloError("malformed", "no cipher suites");
  const compression = r.vector(1, "compression_methods");
  const compressionMethods = [...compression.bytes(compression.remaining)];
  if (compressionMethods.length === 0) throw new ClientHelloError("malformed", "no compression methods");

  const extensions: HelloExtension[] = [];
  let serverName: string | undefined;
  let alpn: string[] | undefined;
  let supportedVersions: number[] | undefined;
  let supportedGroups: number[] | undefined;
  let ecPointFormats: number[] | undefined;
  let signatureAlgorithms: number[] | undefined;
  // An SSL 3.0 / early TLS hello may end here: extensions are optional.
  if (r.remaining > 0) {
    const list = r.vector(2, "extensions");
    r.end();
    const seen = new Set<number>();
    while (list.remaining > 0) {
      const type = list.u16();
      const body = list.vector(2, "extension");
      const data = body.bytes(body.remaining);
      if (seen.has(type)) throw new ClientHelloError("malformed", `extension ${type} appears twice`);
      seen.add(type);
      extensions.push({ type, data });
      if (!PARSED.has(type)) continue;
      const e = new Reader(data, "extension");
      switch (type) {
        case ExtensionType.serverName:
          // An empty server_name is allowed (a server's answer uses it; a client should not, but some do).
          if (data.length > 0) serverName = parseServerName(e);
          break;
        case ExtensionType.alpn:
          alpn = parseAlpn(e);
          break;
        case ExtensionType.supportedVersions:
          supportedVersions = e.u16List("supported_versions", 1);
          e.end();
          break;
        case ExtensionType.supportedGroups:
          supportedGroups = e.u16List("supported_groups");
          e.end();
          break;
        case ExtensionType.ecPointFormats: {
          const v = e.vector(1, "ec_point_formats");
          ecPointFormats = [...v.bytes(v.remaining)];
          e.end();
          break;
        }
        case ExtensionType.signatureAlgorithms:
          signatureAlgorithms = e.u16List("signature_algorithms");
          e.end();
          break;
      }
    }
  }
  return {
    recordVersion,
    version,
    random,
    sessionId,
    cipherSuites,
    compressionMethods,
    extensions,
    serverName,
    alpn,
    supportedVersions,
    supportedGroups,
    ecPointFormats,
    signatureAlgorithms,
    raw,
  };
}

function parseServerName(e: Reader): string | undefined {
  const list = e.vector(2, "server_name list");
  e.end();
  let name: string | undefined;
  while (list.remaining > 0) {
    const type = list.u8();
    const value = list.vector(2, "server_name entry");
    const bytes = value.bytes(value.remaining);
    // RFC 6066: at most one host_name; other name types are skipped.
    if (type === 0) {
      if (name !== undefined) throw new ClientHelloError("malformed", "two host_name entries in server_name");
      if (bytes.length === 0) throw new ClientHelloError("malformed", "empty host_name");
      name = bytes.toString("latin1");
    }
  }
  return name;
}

function parseAlpn(e: Reader): string[] {
  const list = e.vector(2, "ALPN list");
  e.end();
  const out: string[] = [];
  while (list.remaining > 0) {
    const id = list.vector(1, "ALPN protocol");
    if (id.remaining === 0) throw new ClientHelloError("malformed", "empty ALPN protocol name");
    out.push(id.bytes(id.remaining).toString("latin1"));
  }
  if (out.length === 0) throw new ClientHelloError("malformed", "empty ALPN list");
  return out;
}
