import { hash } from "node:crypto";
import type { ClientHello } from "./client-hello.js";
import { isGrease } from "./grease.js";

/** A JA3 fingerprint: the string and its MD5 (the form most tools log). */
export interface Ja3 {
  /** `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`, decimal, `-` separated. */
  readonly string: string;
  /** MD5 of `string`, 32 lowercase hex digits. */
  readonly hash: string;
}

function join(values: readonly number[] | undefined): string {
  let text = "";
  if (values === undefined) return text;
  for (const v of values) {
    if (isGrease(v)) continue;
    text += text === "" ? String(v) : `-${v}`;
  }
  return text;
}

function joinTypes(extensions: ClientHello["extensions"]): string {
  let text = "";
  for (const e of extensions) {
    if (isGrease(e.type)) continue;
    text += text === "" ? String(e.type) : `-${e.type}`;
  }
  return text;
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
  const string = [
    String(hello.version),
    join(hello.cipherSuites),
    joinTypes(hello.extensions),
    join(hello.supportedGroups),
    (hello.ecPointFormats ?? []).join("-"),
  ].join(",");
  return { string, hash: hash("md5", string, "hex") };
}
