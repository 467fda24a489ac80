import { Method } from "../method.js";
import type { Request } from "../request.js";
import type { ConnectionFailureFacts } from "./client-connection.js";

/**
 * True if the request's body can be sent again: it is empty or buffered (made from a string or bytes) and so
 * was never consumed by sending it. A streamed body is read once and cannot be replayed.
 *
 * @example
 * ```ts
 * isReplayable(Request.post("http://a/", "hi")); // true
 * isReplayable(Request.post("http://a/", fs.createReadStream("f"))); // false
 * ```
 */
export function isReplayable(request: Request): boolean {
  return request.body.bytesIfBuffered() !== undefined;
}

/**
 * Whether a request that failed with `error` may be sent again on a new connection, once: when nothing of it
 * was sent, or when the connection was a stale reused one (the peer closed it while idle) and the request is
 * idempotent (RFC 9110 9.2.2) with a replayable body. Anything else may have had an effect on the server.
 *
 * @example
 * ```ts
 * canRetryOnNewConnection(err, Request.get("http://a/")); // true for a stale keep-alive connection
 * canRetryOnNewConnection(err, Request.post("http://a/", "x")); // false: POST is not idempotent
 * ```
 */
export function canRetryOnNewConnection(error: unknown, request: Request): boolean {
  if (typeof error !== "object" || error === null) return false;
  const facts = error as ConnectionFailureFacts;
  if (facts.requestSent === false) return isReplayable(request);
  return facts.staleConnection === true && Method.isIdempotent(request.method) && isReplayable(request);
}
