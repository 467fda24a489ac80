import { latin1Slice } from "./latin1.js";

// The methods that make up nearly all traffic, as constant strings: comparing a few bytes is cheaper than
// decoding, and handlers then compare interned strings.

const G = 0x47;
const P = 0x50;
const H = 0x48;
const D = 0x44;
const O = 0x4f;
const C = 0x43;

function is(buf: Buffer, word: string): boolean {
  for (let k = 0; k < word.length; k++) {
    if (buf[k] !== word.charCodeAt(k)) return false;
  }
  return true;
}

/** The method in `buf[0, end)` as a string; common methods come back as shared constants. */
export function methodName(buf: Buffer, end: number): string {
  const first = buf[0];
  switch (end) {
    case 3:
      if (first === G && is(buf, "GET")) return "GET";
      if (first === P && is(buf, "PUT")) return "PUT";
      break;
    case 4:
      if (first === P && is(buf, "POST")) return "POST";
      if (first === H && is(buf, "HEAD")) return "HEAD";
      break;
    case 5:
      if (first === P && is(buf, "PATCH")) return "PATCH";
      break;
    case 6:
      if (first === D && is(buf, "DELETE")) return "DELETE";
      break;
    case 7:
      if (first === O && is(buf, "OPTIONS")) return "OPTIONS";
      if (first === C && is(buf, "CONNECT")) return "CONNECT";
      break;
  }
  return latin1Slice(buf, 0, end);
}
