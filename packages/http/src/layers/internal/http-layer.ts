import { type GenericLayer, genericLayer, type Same, type Service } from "@tessera/core";
import type { Request } from "../../request.js";
import type { Response } from "../../response.js";

/**
 * The type of every HTTP layer: it wraps any `Service<Request, Response>` and keeps its types, so a stack of
 * HTTP layers infers `Service<Request, Response>` (core's `Same` kind with Request/Response as the bounds).
 * The layers make new responses (a 404, a 401), so they are written for exactly `Request`/`Response`, which
 * are classes with private state: a subtype can only be a subclass, and none are made.
 */
export type HttpLayer = GenericLayer<Same<Request, Response>>;

/** Make an {@link HttpLayer} from a function of the inner service. */
export function httpLayer(fn: (inner: Service<Request, Response>) => Service<Request, Response>): HttpLayer {
  return genericLayer<Same<Request, Response>>(fn);
}
