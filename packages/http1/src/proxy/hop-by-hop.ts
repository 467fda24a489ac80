import { HeaderMap } from "@tessera/http";

// Hop-by-hop fields describe one connection, not the message (RFC 9110 7.6.1): a proxy must not forward them.
// Besides the fixed list, every name the Connection field lists is hop-by-hop for that message. Proxy-* fields
// are between the client and this proxy (credentials, old keep-alive dialects); framing (Transfer-Encoding,
// Content-Length) is redone by whoever writes the message next.
const FIXED = new Set(["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"]);

/**
 * True for a hop-by-hop field name (lower-case): the fixed list, any `proxy-*` field, or a name in `listed` (the
 * tokens of the message's Connection field).
 *
 * @example
 * ```ts
 * isHopByHop("keep-alive"); // true
 * isHopByHop("x-trace", connectionTokens(headers)); // true if Connection lists X-Trace
 * ```
 */
export function isHopByHop(lowerName: string, listed?: ReadonlySet<string>): boolean {
  return FIXED.has(lowerName) || lowerName.startsWith("proxy-") || listed?.has(lowerName) === true;
}

/**
 * The lower-case tokens of every Connection field of `headers`.
 *
 * @example
 * ```ts
 * connectionTokens(HeaderMap.fromFlat(["Connection", "close, X-Trace"])); // Set { "close", "x-trace" }
 * ```
 */
export function connectionTokens(headers: HeaderMap): Set<string> {
  const tokens = new Set<string>();
  for (const value of headers.getAll("connection")) {
    for (const token of value.split(",")) {
      const t = token.trim().toLowerCase();
      if (t !== "") tokens.add(t);
    }
  }
  return tokens;
}

/**
 * A copy of `headers` without hop-by-hop fields, in the original order and casing.
 *
 * @example
 * ```ts
 * withoutHopByHop(HeaderMap.fromFlat(["Connection", "close, X-Secret", "X-Secret", "1", "Accept", "*\/*"]));
 * // [["Accept", "*\/*"]]
 * ```
 */
export function withoutHopByHop(headers: HeaderMap): HeaderMap {
  const listed = connectionTokens(headers);
  const names: string[] = [];
  const n = headers.size;
  for (let i = 0; i < n; i++) {
    const name = headers.name(i);
    if (isHopByHop(name.toLowerCase(), listed)) continue;
    names.push(name, headers.value(i));
  }
  return HeaderMap.fromFlat(names);
}

/**
 * Append this proxy to the Via field (RFC 9110 7.6.3): `1.1 tessera` for an HTTP/1.1 message. Earlier Via fields
 * stay, so the chain of proxies is kept in order.
 *
 * @example
 * ```ts
 * appendVia(headers, "HTTP/1.0", "tessera"); // adds "Via: 1.0 tessera"
 * ```
 */
export function appendVia(headers: HeaderMap, version: string, pseudonym: string): HeaderMap {
  const protocol = version.startsWith("HTTP/") ? version.slice(5) : version;
  return headers.append("Via", `${protocol} ${pseudonym}`);
}
