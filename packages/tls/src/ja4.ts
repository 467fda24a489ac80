import { hash } from "node:crypto";
import type { ClientHello } from "./client-hello.js";
import { ExtensionType } from "./client-hello.js";
import { isGrease } from "./grease.js";
import { scratchText } from "./scratch.js";

// JA4 (TLS client fingerprint) by FoxIO, which is BSD-3-Clause licensed. Only JA4 is implemented here: JA4S,
// JA4H, JA4X and the rest of JA4+ are under a different, non-commercial licence.

/** The transport the ClientHello came over: TCP (`t`), QUIC (`q`) or DTLS (`d`). */
export type Ja4Transport = "t" | "q" | "d";

/** JA4 and its readable forms. */
export interface Ja4 {
  /** `a_b_c`, e.g. `t13d1516h2_8daaf6152771_e5627efa2ab1`. */
  readonly fingerprint: string;
  /** JA4_r: the same with the sorted lists in clear instead of hashed. */
  readonly raw: string;
}

const VERSIONS: ReadonlyMap<number, string> = new Map([
  [0x0304, "13"],
  [0x0303, "12"],
  [0x0302, "11"],
  [0x0301, "10"],
  [0x0300, "s3"],
  [0x0002, "s2"],
  [0xfeff, "d1"],
  [0xfefd, "d2"],
  [0xfefc, "d3"],
]);

// "00" to "99": JA4's two-digit counts (capped at 99).
const COUNTS: readonly string[] = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, "0"));
const count = (n: number): string => COUNTS[Math.min(n, 99)]!;

function isAlphanumeric(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

// The first and last character of the first ALPN value; "00" without ALPN. When either end is not an ASCII
// letter or digit: "99" if it is not ASCII at all (what the reference implementation prints, and what its
// tls-non-ascii-alpn vector expects), else the first and last digit of the value in hex (the JA4 spec's rule).
function alpnPart(alpn: readonly string[] | undefined): string {
  const first = alpn?.[0];
  if (first === undefined || first.length === 0) return "00";
  const a = first.charCodeAt(0);
  const z = first.charCodeAt(first.length - 1);
  if (isAlphanumeric(a) && isAlphanumeric(z)) return first[0]! + first[first.length - 1]!;
  if (a > 0x7f || z > 0x7f) return "99";
  const hex = Buffer.from(first, "latin1").toString("hex");
  return hex[0]! + hex[hex.length - 1]!;
}

function versionPart(hello: ClientHello): string {
  let version = -1;
  for (const v of hello.supportedVersions ?? []) if (!isGrease(v) && v > version) version = v;
  return VERSIONS.get(version < 0 ? hello.version : version) ?? "00";
}

// The values to sort, reused by every call (a call is synchronous); the lists' text goes into the shared scratch
// buffer as ASCII bytes and is hashed as it is. This runs per connection (bench/tls): no string per value.
let scratchValues = new Uint16Array(256);
const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1");
const COMMA = 0x2c;
const UNDERSCORE = 0x5f;
const NO_HASH = "000000000000";
const NONE: readonly number[] = [];

// `values[from..to)` as four-digit lowercase hex, comma separated, into `out` at `at`; returns the end.
function writeHexList(out: Buffer, at: number, values: Uint16Array, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    if (i > from) out[at++] = COMMA;
    const v = values[i]!;
    out[at] = HEX_DIGITS[v >> 12]!;
    out[at + 1] = HEX_DIGITS[(v >> 8) & 15]!;
    out[at + 2] = HEX_DIGITS[(v >> 4) & 15]!;
    out[at + 3] = HEX_DIGITS[v & 15]!;
    at += 4;
  }
  return at;
}

// The first 12 hex digits of the SHA-256 of `text[start..end)`; zeros for an empty list.
function hash12(text: Buffer, start: number, end: number): string {
  return start === end ? NO_HASH : hash("sha256", text.subarray(start, end), "hex").slice(0, 12);
}

/**
 * The JA4 fingerprint of a ClientHello: `a` (transport, version, SNI or not, counts, ALPN), `b` (truncated
 * SHA-256 of the sorted cipher suites), `c` (truncated SHA-256 of the sorted extensions without SNI and ALPN,
 * then the signature algorithms in wire order). GREASE values are ignored throughout.
 *
 * @example
 * ```ts
 * ja4(hello).fingerprint; // "t13d1516h2_8daaf6152771_e5627efa2ab1"
 * ```
 */
export function ja4(hello: ClientHello, transport: Ja4Transport = "t"): Ja4 {
  const suites = hello.cipherSuites;
  const extensions = hello.extensions;
  const algorithms = hello.signatureAlgorithms ?? NONE;
  const total = suites.length + extensions.length + algorithms.length;
  if (scratchValues.length < total) scratchValues = new Uint16Array(2 * total);
  const values = scratchValues;
  // Four hex digits and a separator per value.
  const text = scratchText(5 * total + 1);
  // Fixed-width hex sorts like the numbers it shows: sort the numbers (a typed array sorts numerically,
  // natively), then format. Layout: ciphers [0, ciphers), extension types [ciphers, types), algorithms after.
  let n = 0;
  for (let i = 0; i < suites.length; i++) if (!isGrease(suites[i]!)) values[n++] = suites[i]!;
  const ciphers = n;
  let extensionCount = 0;
  let sni = "i";
  for (let i = 0; i < extensions.length; i++) {
    const type = extensions[i]!.type;
    if (isGrease(type)) continue;
    extensionCount++;
    if (type === ExtensionType.serverName) sni = "d";
    else if (type !== ExtensionType.alpn) values[n++] = type;
  }
  const types = n;
  for (let i = 0; i < algorithms.length; i++) if (!isGrease(algorithms[i]!)) values[n++] = algorithms[i]!;
  values.subarray(0, ciphers).sort();
  values.subarray(ciphers, types).sort();

  const a = `${transport}${versionPart(hello)}${sni}${count(ciphers)}${count(extensionCount)}${alpnPart(hello.alpn)}`;
  const b = writeHexList(text, 0, values, 0, ciphers);
  let c = writeHexList(text, b, values, ciphers, types);
  if (n > types) {
    text[c++] = UNDERSCORE;
    c = writeHexList(text, c, values, types, n);
  }
  return {
    fingerprint: `${a}_${hash12(text, 0, b)}_${hash12(text, b, c)}`,
    raw: `${a}_${text.toString("latin1", 0, b)}_${text.toString("latin1", b, c)}`,
  };
}
