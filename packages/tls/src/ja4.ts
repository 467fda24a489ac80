import { hash } from "node:crypto";
import type { ClientHello } from "./client-hello.js";
import { ExtensionType } from "./client-hello.js";
import { isGrease } from "./grease.js";
import { hex4 } from "./hex.js";

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

const count = (n: number): string => String(Math.min(n, 99)).padStart(2, "0");
const hash12 = (text: string): string =>
  text === "" ? "000000000000" : hash("sha256", text, "hex").slice(0, 12);

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
  // Fixed-width hex sorts like the numbers it shows: sort the numbers (a typed array sorts numerically, natively),
  // then format.
  const ciphers = withoutGrease(hello.cipherSuites);
  const types = new Uint16Array(hello.extensions.length);
  let typeCount = 0;
  let extensionCount = 0;
  let sni = "i";
  for (const e of hello.extensions) {
    if (isGrease(e.type)) continue;
    extensionCount++;
    if (e.type === ExtensionType.serverName) sni = "d";
    else if (e.type !== ExtensionType.alpn) types[typeCount++] = e.type;
  }
  const a = `${transport}${versionPart(hello)}${sni}${count(ciphers.length)}${count(extensionCount)}${alpnPart(hello.alpn)}`;
  const cipherList = hexList(ciphers.sort(), ciphers.length);
  const extensionList = hexList(types.subarray(0, typeCount).sort(), typeCount);
  const algorithms = withoutGrease(hello.signatureAlgorithms ?? []);
  const signatures = hexList(algorithms, algorithms.length);
  const c = signatures === "" ? extensionList : `${extensionList}_${signatures}`;
  return {
    fingerprint: `${a}_${hash12(cipherList)}_${hash12(c)}`,
    raw: `${a}_${cipherList}_${c}`,
  };
}

function withoutGrease(values: readonly number[]): Uint16Array {
  const out = new Uint16Array(values.length);
  let n = 0;
  for (const v of values) if (!isGrease(v)) out[n++] = v;
  return out.subarray(0, n);
}

function hexList(values: Uint16Array, length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) text += i === 0 ? hex4(values[i]!) : `,${hex4(values[i]!)}`;
  return text;
}
