import { type ClientHello, readClientHello } from "../../src/index.js";

/** FoxIO's JA4 reference captures and their expected values, kept once in shared/testdata beside the repository. */
export const JA4_CAPTURES = new URL("../../../../../shared/testdata/ja4/", import.meta.url);

// The ClientHellos of one direction of a connection: the first handshake record that starts a ClientHello
// (after a SOCKS or CONNECT preamble, if any), then any further one in the plaintext records that follow.
export function helloes(bytes: Buffer): ClientHello[] {
  let start = -1;
  for (let i = 0; i + 5 < bytes.length; i++) {
    if (bytes[i] === 0x16 && bytes[i + 1] === 3 && bytes[i + 5] === 1) {
      start = i;
      break;
    }
  }
  if (start < 0) return [];
  const out: ClientHello[] = [];
  let at = start;
  while (at + 5 <= bytes.length) {
    const type = bytes[at];
    const length = bytes.readUInt16BE(at + 3);
    if (type === 0x16 && bytes[at + 5] === 1) {
      const read = readClientHello(bytes.subarray(at));
      if (read.status !== "complete") break;
      out.push(read.hello);
      at += read.length;
    } else if (type === 0x16 || type === 0x14) at += 5 + length;
    else break;
  }
  return out;
}
