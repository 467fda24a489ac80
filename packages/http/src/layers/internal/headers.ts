import type { HeaderMap } from "../../header-map.js";

// Small helpers over comma-separated header lists (RFC 9110 5.6.1), shared by the layers. They read what
// HeaderMap gives (`get` joins repeated fields with ", ", so one parser serves both shapes).

/** True if the comma-separated `list` has `token` as one of its elements, ignoring ASCII case and spaces. */
export function listHas(list: string, token: string): boolean {
  const n = token.length;
  let start = 0;
  while (start <= list.length) {
    let end = list.indexOf(",", start);
    if (end < 0) end = list.length;
    let a = start;
    let b = end;
    while (a < b && isSpace(list.charCodeAt(a))) a++;
    while (b > a && isSpace(list.charCodeAt(b - 1))) b--;
    if (b - a === n && equalsIgnoreCase(list, a, token)) return true;
    start = end + 1;
  }
  return false;
}

/** The non-empty, trimmed elements of a comma-separated list. */
export function splitList(list: string): string[] {
  const out: string[] = [];
  for (const part of list.split(",")) {
    const item = part.trim();
    if (item !== "") out.push(item);
  }
  return out;
}

/**
 * Add `token` to the `Vary` field unless it is there already (or `Vary: *`, which covers everything). A cache
 * must know that the response depends on this request field.
 */
export function addVary(headers: HeaderMap, token: string): void {
  const vary = headers.get("vary");
  if (vary === undefined) {
    headers.append("Vary", token);
    return;
  }
  if (listHas(vary, token) || listHas(vary, "*")) return;
  headers.append("Vary", token);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function equalsIgnoreCase(s: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = s.charCodeAt(at + i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    let d = lower.charCodeAt(i);
    if (d >= 0x41 && d <= 0x5a) d |= 0x20;
    if (c !== d) return false;
  }
  return true;
}
