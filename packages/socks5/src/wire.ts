import { formatIpv4, formatIpv6 } from "@tessera/net";
import { addressLength, type Socks5Address, writeAddress } from "./address.js";
import { AddressType, SOCKS_VERSION, USERPASS_VERSION } from "./constants.js";
import { Socks5ProtocolError } from "./errors.js";

// The messages of RFC 1928 and RFC 1929: parsers and encoders. A parser is given every byte received so far
// and returns the message and how many bytes it took, `undefined` while the message is incomplete, or throws a
// Socks5ProtocolError as soon as a byte is wrong (a bad version is refused at the first byte). Fed the same
// bytes in any split it gives the same answer (see message-reader.ts), and no message is longer than 513 bytes,
// so nothing grows without bound.

/** A parsed message and its length in bytes; bytes after it belong to what follows. */
export interface Parsed<T> {
  readonly value: T;
  readonly length: number;
}

/** A parser of one message (see above). */
export type MessageParser<T> = (bytes: Buffer) => Parsed<T> | undefined;

/** The longest SOCKS5 message: an RFC 1929 request with a 255-byte user name and password. */
export const MAX_MESSAGE = 1 + 1 + 255 + 1 + 255;

/** The client's greeting: the authentication methods it offers. */
export interface Greeting {
  readonly methods: readonly number[];
}

/** A request (client to server) or a reply (server to client): they share one layout. */
export interface Socks5Message {
  /** The command of a request, the reply code of a reply. */
  readonly code: number;
  readonly address: Socks5Address;
}

/** The RFC 1929 request. User name and password are octets; they are read as UTF-8. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

function checkVersion(bytes: Buffer, expected: number, what: string): void {
  if (bytes.length > 0 && bytes[0] !== expected) {
    throw new Socks5ProtocolError("version", `${what}: version ${bytes[0]}, expected ${expected}`);
  }
}

/** `VER NMETHODS METHODS...` */
export const parseGreeting: MessageParser<Greeting> = (bytes) => {
  checkVersion(bytes, SOCKS_VERSION, "greeting");
  if (bytes.length < 2) return undefined;
  const count = bytes[1]!;
  if (count === 0) throw new Socks5ProtocolError("no-methods", "greeting: the client offers no method");
  if (bytes.length < 2 + count) return undefined;
  return { value: { methods: [...bytes.subarray(2, 2 + count)] }, length: 2 + count };
};

/** `VER METHOD`: the server's choice of method. */
export const parseMethodSelection: MessageParser<number> = (bytes) => {
  checkVersion(bytes, SOCKS_VERSION, "method selection");
  if (bytes.length < 2) return undefined;
  return { value: bytes[1]!, length: 2 };
};

/** `VER ULEN UNAME PLEN PASSWD` (RFC 1929). Lengths of 0 are read as empty strings; the authenticator judges. */
export const parseCredentials: MessageParser<Credentials> = (bytes) => {
  checkVersion(bytes, USERPASS_VERSION, "username/password request");
  if (bytes.length < 2) return undefined;
  const ulen = bytes[1]!;
  if (bytes.length < 2 + ulen + 1) return undefined;
  const plen = bytes[2 + ulen]!;
  const end = 2 + ulen + 1 + plen;
  if (bytes.length < end) return undefined;
  return {
    value: {
      username: bytes.toString("utf8", 2, 2 + ulen),
      password: bytes.toString("utf8", 3 + ulen, end),
    },
    length: end,
  };
};

/** `VER STATUS` of RFC 1929: 0 is success. */
export const parseAuthStatus: MessageParser<number> = (bytes) => {
  checkVersion(bytes, USERPASS_VERSION, "username/password status");
  if (bytes.length < 2) return undefined;
  return { value: bytes[1]!, length: 2 };
};

/**
 * `ATYP ADDR PORT` at `offset`: the address and the offset after it, or undefined while incomplete.
 */
export function parseAddress(
  bytes: Buffer,
  offset: number,
): { readonly address: Socks5Address; readonly end: number } | undefined {
  if (bytes.length <= offset) return undefined;
  const type = bytes[offset]!;
  const at = offset + 1;
  let host: string;
  let kind: Socks5Address["type"];
  let portAt: number;
  if (type === AddressType.IPv4) {
    portAt = at + 4;
    if (bytes.length < portAt + 2) return undefined;
    host = formatIpv4(bytes, at);
    kind = "ipv4";
  } else if (type === AddressType.IPv6) {
    portAt = at + 16;
    if (bytes.length < portAt + 2) return undefined;
    host = formatIpv6(bytes, at);
    kind = "ipv6";
  } else if (type === AddressType.Domain) {
    if (bytes.length <= at) return undefined;
    const length = bytes[at]!;
    if (length === 0) throw new Socks5ProtocolError("empty-domain", "the domain name is empty");
    portAt = at + 1 + length;
    if (bytes.length < portAt + 2) return undefined;
    host = bytes.toString("utf8", at + 1, portAt);
    kind = "domain";
  } else {
    throw new Socks5ProtocolError("address-type", `address type ${type} is not 1, 3 or 4`);
  }
  return { address: { type: kind, host, port: bytes.readUInt16BE(portAt) }, end: portAt + 2 };
}

/** `VER CMD RSV ATYP DST.ADDR DST.PORT` (request) or `VER REP RSV ATYP BND.ADDR BND.PORT` (reply). */
export const parseMessage: MessageParser<Socks5Message> = (bytes) => {
  checkVersion(bytes, SOCKS_VERSION, "request");
  // RSV (byte 2) is reserved; like other servers we do not judge it.
  const parsed = parseAddress(bytes, 3);
  if (parsed === undefined) return undefined;
  return { value: { code: bytes[1]!, address: parsed.address }, length: parsed.end };
};

/** A UDP datagram as relayed: `RSV RSV FRAG ATYP DST.ADDR DST.PORT DATA`. */
export interface UdpDatagram {
  /** 0 for a whole datagram; fragments (1-127, high bit for the last) are not supported and are dropped. */
  readonly frag: number;
  readonly address: Socks5Address;
  readonly data: Buffer;
}

/**
 * Parse one relayed UDP datagram (a whole datagram, not a stream): throws a Socks5ProtocolError when it is
 * malformed or truncated.
 */
export function parseUdpDatagram(bytes: Buffer): UdpDatagram {
  if (bytes.length < 4) throw new Socks5ProtocolError("truncated", "the UDP header is truncated");
  const parsed = parseAddress(bytes, 3);
  if (parsed === undefined) throw new Socks5ProtocolError("truncated", "the UDP header is truncated");
  return { frag: bytes[2]!, address: parsed.address, data: bytes.subarray(parsed.end) };
}

// ---------------------------------------------------------------------------------------------------------
// Encoders

/** `VER NMETHODS METHODS...` */
export function encodeGreeting(methods: readonly number[]): Buffer {
  if (methods.length === 0 || methods.length > 255)
    throw new RangeError("a greeting offers 1 to 255 methods");
  return Buffer.from([SOCKS_VERSION, methods.length, ...methods]);
}

/** `VER METHOD` */
export function encodeMethodSelection(method: number): Buffer {
  return Buffer.from([SOCKS_VERSION, method]);
}

/** `VER ULEN UNAME PLEN PASSWD`; each field is 0 to 255 bytes of UTF-8. */
export function encodeCredentials(credentials: Credentials): Buffer {
  const user = Buffer.from(credentials.username, "utf8");
  const pass = Buffer.from(credentials.password, "utf8");
  if (user.length > 255 || pass.length > 255) {
    throw new RangeError("a SOCKS5 user name and password are at most 255 bytes each");
  }
  return Buffer.concat([
    Buffer.from([USERPASS_VERSION, user.length]),
    user,
    Buffer.from([pass.length]),
    pass,
  ]);
}

/** `VER STATUS` of RFC 1929. */
export function encodeAuthStatus(status: number): Buffer {
  return Buffer.from([USERPASS_VERSION, status]);
}

/** A request (`code` is the command) or a reply (`code` is the reply code). */
export function encodeMessage(code: number, address: Socks5Address): Buffer {
  const out = Buffer.allocUnsafe(3 + addressLength(address));
  out[0] = SOCKS_VERSION;
  out[1] = code;
  out[2] = 0;
  writeAddress(out, 3, address);
  return out;
}

/** A whole UDP datagram with its header: `RSV RSV FRAG(0) ATYP ADDR PORT DATA`. */
export function encodeUdpDatagram(address: Socks5Address, data: Uint8Array): Buffer {
  const header = 3 + addressLength(address);
  const out = Buffer.allocUnsafe(header + data.length);
  out[0] = 0;
  out[1] = 0;
  out[2] = 0;
  writeAddress(out, 3, address);
  out.set(data, header);
  return out;
}
