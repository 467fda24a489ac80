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

// The parser walks the message with plain offsets: no reader objects, no view per field. A handshake reads one
// ClientHello and every microsecond here is a share of the server's CPU per connection (bench/tls).

// An overrun: `what` needs `n` bytes at `at` but its vector ends at `end`.
function need(at: number, n: number, end: number, what: string): void {
  if (end - at < n) {
    throw new ClientHelloError("malformed", `${what}: needs ${n} more bytes, has ${end - at}`);
  }
}

function leftOver(at: number, end: number, what: string): void {
  if (at !== end) throw new ClientHelloError("malformed", `${what}: ${end - at} bytes left over`);
}

/**
 * The end of the vector whose `lengthBytes`-byte length prefix is at `at` (its body starts right after the
 * prefix), checked against `end`, the end of the enclosing vector `what`.
 */
function vectorEnd(raw: Buffer, at: number, end: number, lengthBytes: 1 | 2, what: string): number {
  need(at, lengthBytes, end, what);
  const n = lengthBytes === 1 ? raw[at]! : (raw[at]! << 8) | raw[at + 1]!;
  const start = at + lengthBytes;
  need(start, n, end, what);
  return start + n;
}

// The 16-bit values of a vector's body [start, end).
function u16s(raw: Buffer, start: number, end: number, what: string): number[] {
  if ((end - start) % 2 !== 0) throw new ClientHelloError("malformed", `${what}: odd length`);
  const out: number[] = [];
  for (let at = start; at < end; at += 2) out.push((raw[at]! << 8) | raw[at + 1]!);
  return out;
}

// An extension body [start, end) that is one vector of 16-bit values and nothing else.
function u16Vector(raw: Buffer, start: number, end: number, lengthBytes: 1 | 2, what: string): number[] {
  const listEnd = vectorEnd(raw, start, end, lengthBytes, "extension");
  const out = u16s(raw, start + lengthBytes, listEnd, what);
  leftOver(listEnd, end, "extension");
  return out;
}

// Duplicate extension types, found in O(1) each (a hello may carry thousands of empty extensions): the stamp of
// the current parse per type, allocated on first use. A parse is synchronous, so one table serves them all.
let stamps: Uint16Array | undefined;
let stamp = 0;
function nextStamp(): Uint16Array {
  if (stamps === undefined) stamps = new Uint16Array(0x10000);
  if (++stamp === 0x10000) {
    stamps.fill(0);
    stamp = 1;
  }
  return stamps;
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
  need(1, 1, raw.length, "ClientHello");
  need(2, 2, raw.length, "ClientHello");
  const end = 4 + ((raw[1]! << 16) | (raw[2]! << 8) | raw[3]!);
  if (raw.length !== end) {
    throw new ClientHelloError("malformed", `message is ${raw.length} bytes, its header says ${end}`);
  }
  const what = "ClientHello";
  need(4, 2, end, what);
  const version = (raw[4]! << 8) | raw[5]!;
  need(6, 32, end, what);
  const random = raw.subarray(6, 38);
  const sessionIdEnd = vectorEnd(raw, 38, end, 1, what);
  if (sessionIdEnd - 39 > 32) throw new ClientHelloError("malformed", "session_id longer than 32");
  const sessionId = raw.subarray(39, sessionIdEnd);
  const ciphersEnd = vectorEnd(raw, sessionIdEnd, end, 2, what);
  const cipherSuites = u16s(raw, sessionIdEnd + 2, ciphersEnd, "cipher_suites");
  if (cipherSuites.length === 0) throw new ClientHelloError("malformed", "no cipher suites");
  const compressionEnd = vectorEnd(raw, ciphersEnd, end, 1, what);
  const compressionMethods: number[] = [];
  for (let at = ciphersEnd + 1; at < compressionEnd; at++) compressionMethods.push(raw[at]!);
  if (compressionMethods.length === 0) throw new ClientHelloError("malformed", "no compression methods");

  const extensions: HelloExtension[] = [];
  let serverName: string | undefined;
  let alpn: string[] | undefined;
  let supportedVersions: number[] | undefined;
  let supportedGroups: number[] | undefined;
  let ecPointFormats: number[] | undefined;
  let signatureAlgorithms: number[] | undefined;
  // An SSL 3.0 / early TLS hello may end here: extensions are optional.
  if (compressionEnd < end) {
    const listEnd = vectorEnd(raw, compressionEnd, end, 2, what);
    leftOver(listEnd, end, what);
    const seen = nextStamp();
    let at = compressionEnd + 2;
    while (at < listEnd) {
      need(at, 2, listEnd, "extensions");
      const type = (raw[at]! << 8) | raw[at + 1]!;
      const start = at + 4;
      at = vectorEnd(raw, at + 2, listEnd, 2, "extensions");
      if (seen[type] === stamp) throw new ClientHelloError("malformed", `extension ${type} appears twice`);
      seen[type] = stamp;
      extensions.push({ type, data: raw.subarray(start, at) });
      switch (type) {
        case ExtensionType.serverName:
          // An empty server_name is allowed (a server's answer uses it; a client should not, but some do).
          if (at > start) serverName = parseServerName(raw, start, at);
          break;
        case ExtensionType.alpn:
          alpn = parseAlpn(raw, start, at);
          break;
        case ExtensionType.supportedVersions:
          supportedVersions = u16Vector(raw, start, at, 1, "supported_versions");
          break;
        case ExtensionType.supportedGroups:
          supportedGroups = u16Vector(raw, start, at, 2, "supported_groups");
          break;
        case ExtensionType.ecPointFormats: {
          const formatsEnd = vectorEnd(raw, start, at, 1, "extension");
          ecPointFormats = [];
          for (let i = start + 1; i < formatsEnd; i++) ecPointFormats.push(raw[i]!);
          leftOver(formatsEnd, at, "extension");
          break;
        }
        case ExtensionType.signatureAlgorithms:
          signatureAlgorithms = u16Vector(raw, start, at, 2, "signature_algorithms");
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

// server_name's body [start, end): a list of (name type, name) entries.
function parseServerName(raw: Buffer, start: number, end: number): string | undefined {
  const listEnd = vectorEnd(raw, start, end, 2, "extension");
  leftOver(listEnd, end, "extension");
  let name: string | undefined;
  let at = start + 2;
  while (at < listEnd) {
    need(at, 1, listEnd, "server_name list");
    const type = raw[at]!;
    const valueStart = at + 3;
    at = vectorEnd(raw, at + 1, listEnd, 2, "server_name list");
    // RFC 6066: at most one host_name; other name types are skipped.
    if (type === 0) {
      if (name !== undefined) throw new ClientHelloError("malformed", "two host_name entries in server_name");
      if (at === valueStart) throw new ClientHelloError("malformed", "empty host_name");
      name = raw.toString("latin1", valueStart, at);
    }
  }
  return name;
}

// ALPN's body [start, end): a non-empty list of non-empty protocol ids.
function parseAlpn(raw: Buffer, start: number, end: number): string[] {
  const listEnd = vectorEnd(raw, start, end, 2, "extension");
  leftOver(listEnd, end, "extension");
  const out: string[] = [];
  let at = start + 2;
  while (at < listEnd) {
    const idStart = at + 1;
    at = vectorEnd(raw, at, listEnd, 1, "ALPN list");
    if (at === idStart) throw new ClientHelloError("malformed", "empty ALPN protocol name");
    out.push(raw.toString("latin1", idStart, at));
  }
  if (out.length === 0) throw new ClientHelloError("malformed", "empty ALPN list");
  return out;
}
