import type { GenericLayer, Service } from "@tessera/core";
import type { Matcher } from "../matcher/index.js";
import { type RouteKind, route } from "../route/index.js";

export { and, hasExtension, type Matcher, not, or } from "../matcher/index.js";

/**
 * Divert the inputs `matcher` matches to `service`; everything else goes on to the inner service as if the
 * layer were not there. The proxy use: hijack the connections for one host into a MITM or a mock while the
 * rest are relayed untouched.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { hijack } from "@tessera/layers/hijack";
 *
 * const proxy = stack(hijack((req: ConnectRequest) => req.authority.host === "example.com", mitm)).into(relay);
 * ```
 */
export function hijack<I, O>(matcher: Matcher<I>, service: Service<I, O>): GenericLayer<RouteKind<I, O>> {
  return route([matcher, service] as const) as unknown as GenericLayer<RouteKind<I, O>>;
}
