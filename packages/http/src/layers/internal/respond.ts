import { Body } from "../../body.js";
import { HeaderMap } from "../../header-map.js";
import type { Request } from "../../request.js";
import { Response } from "../../response.js";

/**
 * A bodiless response to `req` made by a layer (a 404, a 401, a preflight's 204): its extensions fork the
 * request's, its version is the request's. No `new URL`, no text body: a few fields and an empty HeaderMap.
 */
export function respond(req: Request, status: number, headers: HeaderMap = new HeaderMap()): Response {
  return new Response(status, headers, Body.empty(), req.extensions.fork(), req.version);
}

/** Tell the producer of a request body the handler will never read to stop (HTTP/1 discards or closes). */
export function discardBody(req: Request, reason?: unknown): void {
  if (req.body.length !== 0) req.body.cancel(reason);
}
