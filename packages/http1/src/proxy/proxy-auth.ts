import { timingSafeEqual } from "node:crypto";
import { HeaderMap, type Request, Response } from "@tessera/http";

/**
 * Who may use the proxy: a fixed user and password, or a function deciding (it may look things up). Checked
 * against `Proxy-Authorization: Basic ...` (RFC 9110 11.7.2, RFC 7617).
 */
export type ProxyAuth =
  | { readonly username: string; readonly password: string }
  | ((username: string, password: string, request: Request) => boolean | Promise<boolean>);

/**
 * The `user:pass` of a `Proxy-Authorization: Basic` field, or undefined when absent or malformed.
 *
 * @example
 * ```ts
 * basicCredentials(req); // { username: "alice", password: "s3cret" } for "Basic YWxpY2U6czNjcmV0"
 * ```
 */
export function basicCredentials(request: Request): { username: string; password: string } | undefined {
  const value = request.headers.get("proxy-authorization");
  if (value === undefined) return undefined;
  const match = /^[Bb][Aa][Ss][Ii][Cc][ \t]+([A-Za-z0-9+/=]+)[ \t]*$/.exec(value);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

// Compare without leaking, through timing, how much of a secret matched.
function same(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Whether `request` carries credentials that `auth` accepts.
 *
 * @example
 * ```ts
 * await proxyAuthorized(req, { username: "alice", password: "s3cret" }); // true for "Basic YWxpY2U6czNjcmV0"
 * ```
 */
export async function proxyAuthorized(request: Request, auth: ProxyAuth): Promise<boolean> {
  const credentials = basicCredentials(request);
  if (credentials === undefined) return false;
  if (typeof auth === "function")
    return (await auth(credentials.username, credentials.password, request)) === true;
  // Both compared, always: which one failed must not show in the timing either.
  const user = same(credentials.username, auth.username);
  const pass = same(credentials.password, auth.password);
  return user && pass;
}

/**
 * The 407 answer that asks for credentials: `Proxy-Authenticate: Basic realm="..."` (UTF-8 charset, RFC 7617).
 *
 * @example
 * ```ts
 * if (!(await proxyAuthorized(req, auth))) return proxyAuthRequired("tessera", req);
 * ```
 */
export function proxyAuthRequired(realm: string, request: Request): Response {
  const quoted = realm.replace(/["\\]/g, "\\$&");
  return Response.text("Proxy Authentication Required\n", {
    status: 407,
    headers: HeaderMap.fromPairs([["Proxy-Authenticate", `Basic realm="${quoted}", charset="UTF-8"`]]),
    request,
  });
}
