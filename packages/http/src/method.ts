import { InvalidMethodError } from "./errors.js";
import { isToken } from "./header-validation.js";

/**
 * An HTTP method. Any token is a method (RFC 9110 9.1) and methods are case-sensitive: `"get"` is not `"GET"`.
 * The registered ones are spelled out so editors complete them.
 */
export type Method =
  | "GET"
  | "HEAD"
  | "POST"
  | "PUT"
  | "DELETE"
  | "CONNECT"
  | "OPTIONS"
  | "TRACE"
  | "PATCH"
  | (string & {});

function isSafe(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS" || method === "TRACE";
}

/**
 * The standard methods as constants, and helpers.
 *
 * @example
 * ```ts
 * Method.GET; // "GET"
 * Method.isValid("PROPFIND"); // true: any token is a method
 * Method.isSafe("POST"); // false
 * Method.isIdempotent("PUT"); // true
 * ```
 */
export const Method = Object.freeze({
  GET: "GET",
  HEAD: "HEAD",
  POST: "POST",
  PUT: "PUT",
  DELETE: "DELETE",
  CONNECT: "CONNECT",
  OPTIONS: "OPTIONS",
  TRACE: "TRACE",
  PATCH: "PATCH",
  /** True if `method` is a token, i.e. a syntactically valid method. */
  isValid(method: string): boolean {
    return isToken(method);
  },
  /** Throw {@link InvalidMethodError} unless `method` is a token. */
  assert(method: string): void {
    if (typeof method !== "string" || !isToken(method)) throw new InvalidMethodError(String(method));
  },
  /** Safe methods (RFC 9110 9.2.1) are read-only by definition: GET, HEAD, OPTIONS, TRACE. */
  isSafe,
  /**
   * Idempotent methods (RFC 9110 9.2.2) can be retried automatically after a connection failure: the safe
   * methods plus PUT and DELETE.
   */
  isIdempotent(method: string): boolean {
    return isSafe(method) || method === "PUT" || method === "DELETE";
  },
} as const);
