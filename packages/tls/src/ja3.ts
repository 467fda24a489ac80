import { hash } from "node:crypto";
import type { ClientHello } from "./client-hello.js";
import { isGrease } from "./grease.js";
import { scratchText } from "./scratch.js";

/** A JA3 fingerprint: the string and its MD5 (the form most tools log). */
export interface Ja3 {
  /** `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`, decimal, `-` separated. */
  readonly string: string;
  /** MD5 of `string`, 32 lowercase hex digits. */
  readonly hash: string;
}

const ZERO = 0x30;
const DASH = 0x2d;
const COMMA = 0x2c;
const NONE: readonly number[] = [];

// `value` (0 to 65535) in decimal into `out` at `at`; returns the end.
function writeDecimal(out: Buffer, at: number, value: number): number {
  const digits = value < 10 ? 1 : value < 100 ? 2 : value < 1000 ? 3 : value < 10000 ? 4 : 5;
  for (let i = at + digits - 1; i >= at; i--) {
    out[i] = ZERO + (value % 10);
    value = (value / 10) | 0;
  }
  return at + digits;
}

// The values that are not GREASE, `-` separated, into `out` at `at`; returns the end.
function writeList(out: Buffer, at: number, values: readonly number[]): number {
  const start = at;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (isGrease(v)) continue;
    if (at !== start) out[at++] = DASH;
    at = writeDecimal(out, at, v);
  }
  return at;
}

function writeTypes(out: Buffer, at: number, extensions: ClientHello["extensions"]): number {
  const start = at;
  for (let i = 0; i < extensions.length; i++) {
    const type = extensions[i]!.type;
    if (isGrease(type)) continue;
    if (at !== start) out[at++] = DASH;
    at = writeDecimal(out, at, type);
  }
  return at;
}

/**
 * The JA3 fingerprint of a ClientHello (Salesforce's definition): legacy version, cipher suites, extension
 * types in wire order, supported groups and point formats, GREASE values removed.
 *
 * @example
 * ```ts
 * ja3(hello).hash; // "cd08e31494f9531f560d64c695473da9"
 * ```
 */
export function ja3(hello: ClientHello): Ja3 {
  const groups = hello.supportedGroups ?? NONE;
  // Point formats are single bytes: never GREASE (a 16-bit pattern), so none is dropped.
  const formats = hello.ecPointFormats ?? NONE;
  // At most 5 digits and a separator per value, 4 commas.
  const values = hello.cipherSuites.length + hello.extensions.length + groups.length + formats.length;
  const out = scratchText(6 * values + 10);
  let at = writeDecimal(out, 0, hello.version);
  out[at++] = COMMA;
  at = writeList(out, at, hello.cipherSuites);
  out[at++] = COMMA;
  at = writeTypes(out, at, hello.extensions);
  out[at++] = COMMA;
  at = writeList(out, at, groups);
  out[at++] = COMMA;
  at = writeList(out, at, formats);
  return { string: out.toString("latin1", 0, at), hash: hash("md5", out.subarray(0, at), "hex") };
}
