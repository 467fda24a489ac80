import { createHash } from "node:crypto";
import type { ClientHello } from "./client-hello.js";
import { isGrease } from "./grease.js";

/** A JA3 fingerprint: the string and its MD5 (the form most tools log). */
export interface Ja3 {
  /** `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`, decimal, `-` separated. */
  readonly string: string;
  /** MD5 of `string`, 32 lowercase hex digits. */
  readonly hash: string;
}

const join = (values: readonly number[] | undefined): string =>
  values === undefined ? "" : values.filter((v) => !isGrease(v)).join("-");

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
    join(hello.extensions.map((e) => e.type)),
    join(hello.supportedGroups),
    (hello.ecPointFormats ?? []).join("-"),
  ].join(",");
  return { string, hash: createHash("md5").update(string).digest("hex") };
}
