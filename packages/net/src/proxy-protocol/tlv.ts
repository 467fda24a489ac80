import { ProxyHeaderEncodeError, ProxyHeaderError } from "../errors.js";
import {
  PROXY_UNIQUE_ID_MAX,
  type ProxySsl,
  ProxySslClient,
  type ProxySslInit,
  type ProxyTlv,
  ProxyTlvType as T,
} from "./header.js";

// TLVs of a v2 header: `type` (1 byte), `length` (2 bytes, big-endian), `value`. Parsed strictly: a TLV that
// runs past the end, a known TLV with a bad length or encoding, or a known TLV given twice (two AUTHORITY values
// that two readers could pick differently) is an error, never a guess.

/** The TLVs of one header, and the decoded fields of the known ones. */
export interface DecodedTlvs {
  readonly tlvs: ProxyTlv[];
  alpn?: string;
  authority?: string;
  uniqueId?: Buffer;
  ssl?: ProxySsl;
  netns?: string;
  /** Where the CRC32C TLV's value sits in the header (to zero it for the check), and its value. */
  crc32c?: { readonly offset: number; readonly value: number };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function text(value: Buffer, what: string, reason: "v2-tlv" | "v2-ssl-tlv"): string {
  try {
    return utf8.decode(value);
  } catch {
    throw new ProxyHeaderError(reason, `${what} is not valid UTF-8`);
  }
}

function ascii(value: Buffer, what: string, reason: "v2-tlv" | "v2-ssl-tlv"): string {
  for (const byte of value) {
    if (byte < 0x20 || byte > 0x7e) throw new ProxyHeaderError(reason, `${what} is not printable US-ASCII`);
  }
  return value.toString("latin1");
}

/** Walk `bytes[start, end)` as TLVs; `onTlv` gets each with the offset of its value. */
function walk(
  bytes: Buffer,
  start: number,
  end: number,
  reason: "v2-tlv" | "v2-ssl-tlv",
  onTlv: (type: number, value: Buffer, offset: number) => void,
): ProxyTlv[] {
  const tlvs: ProxyTlv[] = [];
  let at = start;
  while (at < end) {
    if (end - at < 3) throw new ProxyHeaderError(reason, `${end - at} stray bytes where a TLV should start`);
    const type = bytes[at]!;
    const length = bytes.readUInt16BE(at + 1);
    const offset = at + 3;
    if (offset + length > end) {
      throw new ProxyHeaderError(
        reason,
        `TLV 0x${type.toString(16)} of ${length} bytes runs past the header`,
      );
    }
    // A copy: a header's values must not pin the (possibly large) chunk they arrived in.
    const value = Buffer.from(bytes.subarray(offset, offset + length));
    onTlv(type, value, offset);
    tlvs.push({ type, value });
    at = offset + length;
  }
  return tlvs;
}

function decodeSsl(value: Buffer): ProxySsl {
  if (value.length < 5)
    throw new ProxyHeaderError("v2-ssl-tlv", `the SSL TLV has ${value.length} bytes, not 5+`);
  const client = value[0]!;
  const verify = value.readUInt32BE(1);
  const fields: { version?: string; cn?: string; cipher?: string; sigAlg?: string; keyAlg?: string } = {};
  const seen = new Set<number>();
  const tlvs = walk(value, 5, value.length, "v2-ssl-tlv", (type, sub) => {
    const name = SSL_FIELDS[type];
    if (name === undefined) return;
    if (seen.has(type))
      throw new ProxyHeaderError("v2-ssl-tlv", `sub-TLV 0x${type.toString(16)} given twice`);
    seen.add(type);
    fields[name] =
      type === T.SSL_CN ? text(sub, "SSL_CN", "v2-ssl-tlv") : ascii(sub, `SSL ${name}`, "v2-ssl-tlv");
  });
  const certPresented = (client & (ProxySslClient.CERT_CONN | ProxySslClient.CERT_SESS)) !== 0;
  return {
    client,
    verify,
    ssl: (client & ProxySslClient.SSL) !== 0,
    certConn: (client & ProxySslClient.CERT_CONN) !== 0,
    certSession: (client & ProxySslClient.CERT_SESS) !== 0,
    verified: certPresented && verify === 0,
    ...fields,
    tlvs,
  };
}

const SSL_FIELDS: Record<number, "version" | "cn" | "cipher" | "sigAlg" | "keyAlg"> = {
  [T.SSL_VERSION]: "version",
  [T.SSL_CN]: "cn",
  [T.SSL_CIPHER]: "cipher",
  [T.SSL_SIG_ALG]: "sigAlg",
  [T.SSL_KEY_ALG]: "keyAlg",
};

// Known TLVs that may appear once. NOOP may repeat (it is padding); unknown types are kept as they are.
const SINGLE = new Set<number>([T.ALPN, T.AUTHORITY, T.CRC32C, T.UNIQUE_ID, T.SSL, T.NETNS]);

/** Parse the TLVs in `header[start, end)`. Offsets are relative to `header`. */
export function decodeTlvs(header: Buffer, start: number, end: number): DecodedTlvs {
  const out: Omit<DecodedTlvs, "tlvs"> = {};
  const seen = new Set<number>();
  const tlvs = walk(header, start, end, "v2-tlv", (type, value, offset) => {
    if (SINGLE.has(type)) {
      if (seen.has(type)) throw new ProxyHeaderError("v2-tlv", `TLV 0x${type.toString(16)} given twice`);
      seen.add(type);
    }
    switch (type) {
      case T.ALPN:
        out.alpn = value.toString("latin1");
        break;
      case T.AUTHORITY:
        out.authority = text(value, "AUTHORITY", "v2-tlv");
        break;
      case T.CRC32C:
        if (value.length !== 4)
          throw new ProxyHeaderError("v2-tlv", `CRC32C has ${value.length} bytes, not 4`);
        out.crc32c = { offset, value: value.readUInt32BE(0) };
        break;
      case T.UNIQUE_ID:
        if (value.length > PROXY_UNIQUE_ID_MAX) {
          throw new ProxyHeaderError(
            "v2-tlv",
            `UNIQUE_ID has ${value.length} bytes, more than ${PROXY_UNIQUE_ID_MAX}`,
          );
        }
        out.uniqueId = value;
        break;
      case T.SSL:
        out.ssl = decodeSsl(value);
        break;
      case T.NETNS:
        out.netns = ascii(value, "NETNS", "v2-tlv");
        break;
    }
  });
  return { tlvs, ...out };
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

/** One TLV on the wire. */
export function encodeTlv(type: number, value: Uint8Array | string): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  if (!Number.isInteger(type) || type < 0 || type > 0xff) {
    throw new ProxyHeaderEncodeError(`TLV type ${type} is not a byte`);
  }
  if (bytes.length > 0xffff)
    throw new ProxyHeaderEncodeError(`TLV 0x${type.toString(16)} is over 65535 bytes`);
  const out = Buffer.allocUnsafe(3 + bytes.length);
  out[0] = type;
  out.writeUInt16BE(bytes.length, 1);
  out.set(bytes, 3);
  return out;
}

/** The SSL TLV with its sub-TLVs. */
export function encodeSsl(ssl: ProxySslInit): Buffer {
  const head = Buffer.allocUnsafe(5);
  head[0] = ssl.client ?? ProxySslClient.SSL;
  head.writeUInt32BE((ssl.verify ?? 0) >>> 0, 1);
  const subs: Buffer[] = [head];
  const add = (type: number, value: string | undefined): void => {
    if (value !== undefined) subs.push(encodeTlv(type, value));
  };
  add(T.SSL_VERSION, ssl.version);
  add(T.SSL_CN, ssl.cn);
  add(T.SSL_CIPHER, ssl.cipher);
  add(T.SSL_SIG_ALG, ssl.sigAlg);
  add(T.SSL_KEY_ALG, ssl.keyAlg);
  for (const tlv of ssl.tlvs ?? []) subs.push(encodeTlv(tlv.type, tlv.value));
  return encodeTlv(T.SSL, Buffer.concat(subs));
}
