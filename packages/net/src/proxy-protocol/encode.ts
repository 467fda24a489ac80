import { ProxyHeaderEncodeError } from "../errors.js";
import type { ProxyHeaderInit } from "./header.js";
import { encodeV1 } from "./v1.js";
import { encodeV2 } from "./v2.js";

const TLV_FIELDS = ["alpn", "authority", "uniqueId", "ssl", "netns", "tlvs", "noop", "crc32c"] as const;

/**
 * The bytes of a PROXY protocol header. v2 carries everything in `init`; v1 carries TCP over IPv4/IPv6 only,
 * so TLVs, Unix addresses and UDP are a {@link ProxyHeaderEncodeError} there, and `command: "local"` and no
 * addresses are sent as `PROXY UNKNOWN`.
 *
 * @example
 * ```ts
 * encodeProxyHeader(1, {
 *   source: { family: "IPv4", host: "192.0.2.1", port: 56324 },
 *   destination: { family: "IPv4", host: "198.51.100.1", port: 443 },
 * }).toString(); // "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n"
 * ```
 */
export function encodeProxyHeader(version: 1 | 2, init: ProxyHeaderInit): Buffer {
  if (version === 2) return encodeV2(init);
  for (const field of TLV_FIELDS) {
    if (init[field] !== undefined && init[field] !== false) {
      throw new ProxyHeaderEncodeError(`v1 cannot carry ${field} (TLVs are v2 only)`);
    }
  }
  if (init.transport === "dgram") throw new ProxyHeaderEncodeError("v1 is TCP only");
  if (init.command === "local") return encodeV1();
  const { source, destination } = init;
  if (source?.family === "unix" || destination?.family === "unix") {
    throw new ProxyHeaderEncodeError("v1 cannot carry Unix addresses");
  }
  return encodeV1(source, destination);
}
