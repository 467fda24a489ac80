import { inetSocketAddress } from "../address.js";
import { ProxyHeaderEncodeError, ProxyHeaderError, ProxyHeaderTooLargeError } from "../errors.js";
import { formatIpv4, formatIpv6, ipv4Bytes, ipv6Bytes } from "../ip-bytes.js";
import type { SocketAddress, UnixSocketAddress } from "../keys.js";
import { crc32c } from "./crc32c.js";
import {
  PROXY_UNIQUE_ID_MAX,
  PROXY_V2_FIXED_LENGTH,
  PROXY_V2_SIGNATURE,
  type ProxyHeader,
  type ProxyHeaderInit,
  ProxyTlvType as T,
} from "./header.js";
import { decodeTlvs, encodeSsl, encodeTlv } from "./tlv.js";

// Version 2, the binary form: the 12-byte signature, version and command (0x20 LOCAL, 0x21 PROXY), address
// family and transport, a 16-bit length, the addresses, then TLVs. The length is known after 16 bytes, so an
// oversized header is refused before it is read.

const UNIX_PATH = 108;
/** Address block sizes by family nibble: UNSPEC, INET, INET6, UNIX. */
const ADDRESS_LENGTH = [0, 12, 36, 2 * UNIX_PATH] as const;
/** The family/transport bytes the spec defines; every other value must be rejected. */
const FAMILIES = new Set([0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32]);
/** The 4 zero bytes that stand for the CRC32C value while it is computed. */
const ZERO_CHECKSUM = Buffer.alloc(4);

/**
 * The v2 header at the start of `bytes` (which start with the full signature), or undefined when more bytes are
 * needed. Throws as soon as the bytes seen are wrong (bad version byte, oversized length, ...).
 */
export function parseV2(
  bytes: Buffer,
  maxHeaderLength: number,
): { header: ProxyHeader; length: number } | undefined {
  if (bytes.length > 12) {
    const version = bytes[12]! >> 4;
    const command = bytes[12]! & 0x0f;
    if (version !== 2) throw new ProxyHeaderError("v2-version", `version ${version}, not 2`);
    if (command > 1)
      throw new ProxyHeaderError("v2-command", `command ${command}, not LOCAL (0) or PROXY (1)`);
  }
  if (bytes.length > 13 && !FAMILIES.has(bytes[13]!)) {
    throw new ProxyHeaderError(
      "v2-family",
      `family/transport byte 0x${bytes[13]!.toString(16).padStart(2, "0")}`,
    );
  }
  if (bytes.length < PROXY_V2_FIXED_LENGTH) return undefined;
  const length = PROXY_V2_FIXED_LENGTH + bytes.readUInt16BE(14);
  if (length > maxHeaderLength) throw new ProxyHeaderTooLargeError(maxHeaderLength, length);
  if (bytes.length < length) return undefined;

  // LOCAL: "the receiver must accept this connection as valid and must use the real connection endpoints and
  // discard the protocol block including the family".
  if ((bytes[12]! & 0x0f) === 0) {
    return {
      header: { version: 2, command: "local", family: "unspec", transport: "unspec", tlvs: [] },
      length,
    };
  }
  const header = bytes.subarray(0, length);
  const familyByte = header[13]!;
  const familyNibble = (familyByte >> 4) as 0 | 1 | 2 | 3;
  const addressLength = ADDRESS_LENGTH[familyNibble];
  if (length - PROXY_V2_FIXED_LENGTH < addressLength) {
    throw new ProxyHeaderError(
      "v2-address-length",
      `${length - PROXY_V2_FIXED_LENGTH} bytes after the fixed header, the family needs ${addressLength}`,
    );
  }
  const addresses = readAddresses(header, familyNibble);
  const decoded = decodeTlvs(header, PROXY_V2_FIXED_LENGTH + addressLength, length);
  const { crc32c: checksum, tlvs, ...fields } = decoded;
  if (checksum !== undefined) {
    // The checksum covers the header with its own value zeroed: feed the pieces around it, no copy.
    const before = crc32c(header.subarray(0, checksum.offset));
    const actual = crc32c(header.subarray(checksum.offset + 4), crc32c(ZERO_CHECKSUM, before));
    if (actual !== checksum.value) {
      throw new ProxyHeaderError(
        "v2-crc32c",
        `CRC32C 0x${checksum.value.toString(16).padStart(8, "0")} does not match 0x${actual.toString(16).padStart(8, "0")}`,
      );
    }
  }
  const transport = (familyByte & 0x0f) === 1 ? "stream" : (familyByte & 0x0f) === 2 ? "dgram" : "unspec";
  const family = (["unspec", "IPv4", "IPv6", "unix"] as const)[familyNibble];
  return {
    header: {
      version: 2,
      command: "proxy",
      family,
      transport,
      ...addresses,
      tlvs,
      ...fields,
      ...(checksum === undefined ? {} : { crc32c: checksum.value }),
    },
    length,
  };
}

function readAddresses(
  header: Buffer,
  family: 0 | 1 | 2 | 3,
): { source?: SocketAddress; destination?: SocketAddress } {
  const at = PROXY_V2_FIXED_LENGTH;
  switch (family) {
    case 0:
      return {};
    case 1:
      return {
        source: inetSocketAddress(formatIpv4(header, at), header.readUInt16BE(at + 8)),
        destination: inetSocketAddress(formatIpv4(header, at + 4), header.readUInt16BE(at + 10)),
      };
    case 2:
      return {
        source: inetSocketAddress(formatIpv6(header, at), header.readUInt16BE(at + 32)),
        destination: inetSocketAddress(formatIpv6(header, at + 16), header.readUInt16BE(at + 34)),
      };
    case 3:
      return { source: unixPath(header, at), destination: unixPath(header, at + UNIX_PATH) };
  }
}

// A sockaddr_un path: NUL-terminated; one that starts with NUL is a Linux abstract name, kept with its
// leading `\0` (as node:net spells it) and its NUL padding dropped.
function unixPath(header: Buffer, at: number): UnixSocketAddress {
  const field = header.subarray(at, at + UNIX_PATH);
  if (field[0] === 0) {
    let end = field.length;
    while (end > 1 && field[end - 1] === 0) end--;
    return { family: "unix", path: end <= 1 ? "" : `\0${field.toString("utf8", 1, end)}` };
  }
  const nul = field.indexOf(0);
  return { family: "unix", path: field.toString("utf8", 0, nul < 0 ? UNIX_PATH : nul) };
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

function addressBlock(init: ProxyHeaderInit): { familyNibble: number; block: Buffer } {
  const { source, destination } = init;
  if (source === undefined || destination === undefined) {
    if (source !== destination) throw new ProxyHeaderEncodeError("give both addresses or neither");
    return { familyNibble: 0, block: Buffer.alloc(0) };
  }
  if (source.family === "unix" || destination.family === "unix") {
    if (source.family !== "unix" || destination.family !== "unix") {
      throw new ProxyHeaderEncodeError("a Unix address paired with an IP address");
    }
    const block = Buffer.alloc(2 * UNIX_PATH);
    for (const [i, a] of [source, destination].entries()) {
      const path = a.path.startsWith("\0")
        ? Buffer.from(a.path.slice(1), "utf8")
        : Buffer.from(a.path, "utf8");
      const start = a.path.startsWith("\0") ? 1 : 0;
      // A path that fills all 108 bytes has no room for its NUL; sockaddr_un allows that, but readers may not.
      if (start + path.length >= UNIX_PATH)
        throw new ProxyHeaderEncodeError(`Unix path of ${path.length} bytes is too long`);
      block.set(path, i * UNIX_PATH + start);
    }
    return { familyNibble: 3, block };
  }
  for (const a of [source, destination]) {
    if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) {
      throw new ProxyHeaderEncodeError(`port ${a.port} is out of range`);
    }
  }
  const six = source.family === "IPv6" || destination.family === "IPv6";
  // A mixed pair goes as IPv6, the IPv4 one mapped (::ffff:a.b.c.d), as a header has one family.
  const bytes = (host: string, family: "IPv4" | "IPv6"): Buffer => {
    const out = six ? ipv6Bytes(family === "IPv4" ? `::ffff:${host}` : host) : ipv4Bytes(host);
    if (out === undefined)
      throw new ProxyHeaderEncodeError(`${JSON.stringify(host)} is not an ${family} literal`);
    return out;
  };
  const src = bytes(source.host, source.family);
  const dst = bytes(destination.host, destination.family);
  const ports = Buffer.allocUnsafe(4);
  ports.writeUInt16BE(source.port, 0);
  ports.writeUInt16BE(destination.port, 2);
  return { familyNibble: six ? 2 : 1, block: Buffer.concat([src, dst, ports]) };
}

function tlvsOf(init: ProxyHeaderInit): Buffer[] {
  const out: Buffer[] = [];
  if (init.alpn !== undefined)
    out.push(encodeTlv(T.ALPN, typeof init.alpn === "string" ? Buffer.from(init.alpn, "latin1") : init.alpn));
  if (init.authority !== undefined) out.push(encodeTlv(T.AUTHORITY, init.authority));
  if (init.uniqueId !== undefined) {
    const id = typeof init.uniqueId === "string" ? Buffer.from(init.uniqueId, "utf8") : init.uniqueId;
    if (id.length > PROXY_UNIQUE_ID_MAX) {
      throw new ProxyHeaderEncodeError(`UNIQUE_ID of ${id.length} bytes, more than ${PROXY_UNIQUE_ID_MAX}`);
    }
    out.push(encodeTlv(T.UNIQUE_ID, id));
  }
  if (init.ssl !== undefined) out.push(encodeSsl(init.ssl));
  if (init.netns !== undefined) out.push(encodeTlv(T.NETNS, init.netns));
  for (const tlv of init.tlvs ?? []) out.push(encodeTlv(tlv.type, tlv.value));
  if (init.noop !== undefined) {
    if (!Number.isInteger(init.noop) || init.noop < 3)
      throw new ProxyHeaderEncodeError("noop padding is at least 3 bytes");
    out.push(encodeTlv(T.NOOP, Buffer.alloc(init.noop - 3)));
  }
  return out;
}

/** The v2 header for `init`. */
export function encodeV2(init: ProxyHeaderInit): Buffer {
  const local = init.command === "local";
  const { familyNibble, block } = addressBlock(init);
  const transportNibble = familyNibble === 0 ? 0 : init.transport === "dgram" ? 2 : 1;
  const parts = [block, ...tlvsOf(init)];
  if (init.crc32c === true) parts.push(encodeTlv(T.CRC32C, Buffer.alloc(4)));
  const body = Buffer.concat(parts);
  if (body.length > 0xffff)
    throw new ProxyHeaderEncodeError(`header body of ${body.length} bytes, over 65535`);
  const out = Buffer.allocUnsafe(PROXY_V2_FIXED_LENGTH + body.length);
  PROXY_V2_SIGNATURE.copy(out, 0);
  out[12] = local ? 0x20 : 0x21;
  out[13] = (familyNibble << 4) | transportNibble;
  out.writeUInt16BE(body.length, 14);
  body.copy(out, PROXY_V2_FIXED_LENGTH);
  // The checksum covers the whole header with its own value zeroed: it is the last TLV, still all zeros.
  if (init.crc32c === true) out.writeUInt32BE(crc32c(out), out.length - 4);
  return out;
}
