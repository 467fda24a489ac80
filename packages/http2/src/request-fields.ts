import type { Request } from "@tessera/http";
import { InvalidOutgoingHeaderError } from "./errors.js";
import { CONNECTION_SPECIFIC, unsendable } from "./field-rules.js";

/** A request pseudo-header, by the letter browsers' fingerprints use for it (m, a, s, p). */
export type PseudoHeader = "method" | "authority" | "scheme" | "path";

/** Chrome's order (`m,a,s,p`), also Node's and curl's. Firefox sends `m,p,a,s`, Safari `m,s,p,a`. */
export const DEFAULT_PSEUDO_HEADER_ORDER: readonly PseudoHeader[] = Object.freeze([
  "method",
  "authority",
  "scheme",
  "path",
]);

/** Checks an order given by the user: each of the four exactly once. */
export function checkPseudoHeaderOrder(order: readonly string[]): readonly PseudoHeader[] {
  const all = ["method", "authority", "scheme", "path"];
  if (order.length !== 4 || all.some((p) => !order.includes(p))) {
    throw new RangeError(
      `pseudoHeaderOrder must list method, authority, scheme and path once each, got ${order.join(",")}`,
    );
  }
  return order as readonly PseudoHeader[];
}

/** Methods whose requests are expected to have content: an empty body still says content-length 0 (RFC 9110 8.6). */
const EXPECTS_CONTENT: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH"]);

/**
 * The HEADERS fields of `request` (RFC 9113 8.3.1): the pseudo-headers in `order`, then the request's fields,
 * lower-cased, in their order. `:authority` comes from an absolute target, else from `Host` (which is then not
 * sent: 8.3.1 prefers `:authority`); `:scheme` from an absolute target, else `defaultScheme`. Connection-specific
 * fields are dropped, `te` is kept only as `trailers`. CONNECT sends `:method` and `:authority` only (8.5).
 * Throws {@link InvalidOutgoingHeaderError} for a field HTTP/2 cannot carry.
 */
export function requestFields(
  request: Request,
  order: readonly PseudoHeader[],
  defaultScheme: string,
  bodyLength: number | undefined,
): string[] {
  const method = request.method;
  const uri = request.uri;
  const headers = request.headers;
  let authority = uri.authority;
  if (authority === undefined) authority = headers.get("host") ?? undefined;
  const fields: string[] = [];
  if (method === "CONNECT") {
    fields.push(":method", method, ":authority", authority ?? request.target);
  } else {
    for (const pseudo of order) {
      switch (pseudo) {
        case "method":
          fields.push(":method", method);
          break;
        case "authority":
          if (authority !== undefined) fields.push(":authority", authority);
          break;
        case "scheme":
          fields.push(":scheme", uri.scheme ?? defaultScheme);
          break;
        case "path":
          fields.push(":path", uri.form === "asterisk" ? "*" : uri.pathAndQuery);
          break;
      }
    }
  }
  let hasLength = false;
  const n = headers.count;
  for (let i = 0; i < n; i++) {
    const name = headers.name(i).toLowerCase();
    if (CONNECTION_SPECIFIC.has(name) || name === "host") continue;
    const value = headers.value(i);
    if (name === "te" && value.toLowerCase() !== "trailers") continue;
    if (name === "content-length") hasLength = true;
    if (unsendable(name) || unsendable(value)) {
      throw new InvalidOutgoingHeaderError(name, "HTTP/2 cannot carry this field");
    }
    fields.push(name, value);
  }
  if (!hasLength && bodyLength !== undefined && (bodyLength > 0 || EXPECTS_CONTENT.has(method))) {
    fields.push("content-length", String(bodyLength));
  }
  return fields;
}
