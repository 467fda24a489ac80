/** The HTTP version a message was received with, or is to be sent with. */
export type Version = "HTTP/1.0" | "HTTP/1.1" | "HTTP/2";

/**
 * The versions as constants.
 *
 * @example
 * ```ts
 * if (req.version === Version.HTTP_2) { ... }
 * ```
 */
export const Version = Object.freeze({
  HTTP_10: "HTTP/1.0",
  HTTP_11: "HTTP/1.1",
  HTTP_2: "HTTP/2",
} as const);
