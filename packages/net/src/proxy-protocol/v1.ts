import { inetSocketAddress, isIPv4, isIPv6 } from "../address.js";
import { ProxyHeaderEncodeError, ProxyHeaderError, ProxyHeaderTooLargeError } from "../errors.js";
import type { InetSocketAddress } from "../keys.js";
import { PROXY_V1_MAX_LENGTH, type ProxyHeader } from "./header.js";

// Version 1, the text form: `PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n`, at most 107 bytes. Strict:
// single spaces, CRLF (a bare LF or CR is an error), printable ASCII only, ports without leading zeros,
// addresses of the protocol's family. `PROXY UNKNOWN` may be followed by anything up to the CRLF (ignored).

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const PORT = /^(?:0|[1-9]\d{0,4})$/;

/** The v1 header at the start of `bytes` (which starts with `"PROXY "`), or undefined if more bytes are needed. */
export function parseV1(bytes: Uint8Array): { header: ProxyHeader; length: number } | undefined {
  const n = Math.min(bytes.length, PROXY_V1_MAX_LENGTH);
  // Errors are reported in the order of their position in the line, so any split of the same bytes gives
  // the same error: before blaming byte i, the protocol token in the bytes before it is checked.
  const failAt = (i: number, error: Error): never => {
    checkProtocolSoFar(bytes.subarray(0, i));
    throw error;
  };
  let cr = -1;
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if (c === CR) {
      cr = i;
      break;
    }
    if (c === LF) failAt(i, new ProxyHeaderError("v1-syntax", "a bare LF ends the line (CRLF required)"));
    if (c < SPACE || c > 0x7e) {
      failAt(
        i,
        new ProxyHeaderError("v1-syntax", `byte 0x${c.toString(16)} at offset ${i} is not printable ASCII`),
      );
    }
  }
  if (cr < 0) {
    checkProtocolSoFar(bytes);
    if (bytes.length >= PROXY_V1_MAX_LENGTH)
      throw new ProxyHeaderTooLargeError(PROXY_V1_MAX_LENGTH, bytes.length);
    return undefined;
  }
  checkProtocolSoFar(bytes.subarray(0, cr + 1));
  // The line with its CRLF must fit in 107 bytes.
  if (cr + 2 > PROXY_V1_MAX_LENGTH) throw new ProxyHeaderTooLargeError(PROXY_V1_MAX_LENGTH, cr + 2);
  if (cr + 1 >= bytes.length) return undefined; // the LF is next
  if (bytes[cr + 1] !== LF) throw new ProxyHeaderError("v1-syntax", "a CR not followed by LF");
  const line = Buffer.from(bytes.buffer, bytes.byteOffset, cr).toString("latin1");
  return { header: parseLine(line), length: cr + 2 };
}

// Fail early on a protocol we will never accept, instead of waiting for the CRLF (or the 107-byte limit).
function checkProtocolSoFar(bytes: Uint8Array): void {
  const end = Math.min(bytes.length, PROXY_V1_MAX_LENGTH);
  const seen = Buffer.from(bytes.buffer, bytes.byteOffset, end).toString("latin1");
  const match = /^PROXY ([^ \r]*)([ \r])?/.exec(seen);
  if (match === null) return;
  const protocol = match[1]!;
  const complete = match[2] !== undefined; // a space or the CR followed it
  if (complete && protocol === "") throw new ProxyHeaderError("v1-syntax", "no protocol after PROXY");
  const known = ["TCP4", "TCP6", "UNKNOWN"];
  const ok = complete ? known.includes(protocol) : known.some((k) => k.startsWith(protocol));
  if (!ok) throw new ProxyHeaderError("v1-protocol", `protocol ${JSON.stringify(protocol)}`);
}

// `line` starts with "PROXY " and its protocol is TCP4, TCP6 or UNKNOWN (checkProtocolSoFar saw the whole line).
function parseLine(line: string): ProxyHeader {
  const parts = line.split(" ");
  const protocol = parts[1];
  if (protocol === "UNKNOWN") {
    return { version: 1, command: "proxy", family: "unspec", transport: "unspec", tlvs: [] };
  }
  if (parts.length !== 6 || parts.includes("")) {
    throw new ProxyHeaderError(
      "v1-syntax",
      "expected PROXY <proto> <src> <dst> <sport> <dport>, single spaces",
    );
  }
  const [, , src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const valid = protocol === "TCP4" ? isIPv4 : isIPv6;
  for (const address of [src, dst]) {
    if (!valid(address)) {
      throw new ProxyHeaderError("v1-address", `${JSON.stringify(address)} is not an ${protocol} address`);
    }
  }
  const port = (text: string): number => {
    const value = PORT.test(text) ? Number(text) : Number.NaN;
    if (!(value <= 65535)) throw new ProxyHeaderError("v1-port", `${JSON.stringify(text)} is not a port`);
    return value;
  };
  return {
    version: 1,
    command: "proxy",
    family: protocol === "TCP4" ? "IPv4" : "IPv6",
    transport: "stream",
    source: inetSocketAddress(src, port(sport)),
    destination: inetSocketAddress(dst, port(dport)),
    tlvs: [],
  };
}

/**
 * The v1 line for a TCP connection from `source` to `destination`, or `PROXY UNKNOWN` without addresses.
 * An IPv4 address paired with an IPv6 one is sent as IPv4-mapped IPv6 (`TCP6`), as v1 has one family per line.
 */
export function encodeV1(source?: InetSocketAddress, destination?: InetSocketAddress): Buffer {
  if (source === undefined || destination === undefined) {
    if (source !== destination) throw new ProxyHeaderEncodeError("give both addresses or neither");
    return Buffer.from("PROXY UNKNOWN\r\n", "latin1");
  }
  const six = source.family === "IPv6" || destination.family === "IPv6";
  const host = (a: InetSocketAddress): string => (six && a.family === "IPv4" ? `::ffff:${a.host}` : a.host);
  for (const a of [source, destination]) {
    if (!(a.family === "IPv4" ? isIPv4(a.host) : isIPv6(a.host))) {
      throw new ProxyHeaderEncodeError(`${JSON.stringify(a.host)} is not an ${a.family} literal`);
    }
    if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) {
      throw new ProxyHeaderEncodeError(`port ${a.port} is out of range`);
    }
  }
  const line = `PROXY ${six ? "TCP6" : "TCP4"} ${host(source)} ${host(destination)} ${source.port} ${destination.port}\r\n`;
  return Buffer.from(line, "latin1");
}
