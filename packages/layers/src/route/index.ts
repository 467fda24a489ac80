import { type GenericLayer, genericLayer, type LayerKind, type Service } from "@tessera/core";
import type { Matcher } from "../matcher/index.js";

export { and, hasExtension, type Matcher, type MatcherInput, not, or } from "../matcher/index.js";

/** One route: a matcher and the service that takes the inputs it matches. */
export type Route<I, O> = readonly [matcher: Matcher<I>, service: Service<I, O>];

/** The input every route accepts. */
export type RoutesInput<Rs extends readonly Route<any, any>[]> = Intersect<
  { [K in keyof Rs]: Rs[K] extends Route<infer I, any> ? (x: I) => void : never }[number]
>;
/** The union of the routes' outputs. */
export type RoutesOutput<Rs extends readonly Route<any, any>[]> = {
  [K in keyof Rs]: Rs[K] extends Route<any, infer O> ? O : never;
}[number];
// Not distributive ([F], not F): inferring from a union of functions' parameters gives the intersection.
type Intersect<F> = [F] extends [(x: infer I) => void] ? I : never;

/**
 * The kind of `route`/`hijack`: the inner service (the fallback) keeps its input type, which the routes must
 * accept too; the outer output is the inner one or a route's.
 */
export interface RouteKind<I, O> extends LayerKind {
  readonly Ok: [this["In"]] extends [I] ? true : false;
  readonly Expected: "the routes do not accept the inner service's input";
  readonly OuterIn: this["In"];
  readonly OuterOut: this["Out"] | O;
}

/**
 * Dispatch each input to the service of the first route whose matcher matches; inputs no route matches go
 * to the inner service (the fallback). Matchers run in order, so put specific routes first.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { and, route } from "@tessera/layers/route";
 *
 * const app = stack(
 *   route(
 *     [(r: Req) => r.path === "/healthz", health],
 *     [and((r: Req) => r.method === "GET", (r: Req) => r.path.startsWith("/static/")), files],
 *   ),
 * ).into(notFound);
 * ```
 */
export function route<const Rs extends readonly Route<any, any>[]>(
  ...routes: Rs
): GenericLayer<RouteKind<RoutesInput<Rs>, RoutesOutput<Rs>>> {
  const matchers = routes.map((r) => r[0]);
  const services = routes.map((r) => r[1]);
  const n = routes.length;
  return genericLayer<RouteKind<RoutesInput<Rs>, RoutesOutput<Rs>>>((inner) => ({
    serve(input: unknown): Promise<unknown> {
      try {
        for (let i = 0; i < n; i++) if (matchers[i]!(input)) return services[i]!.serve(input);
      } catch (error) {
        return Promise.reject(error);
      }
      return inner.serve(input);
    },
  }));
}

/**
 * A service that sends each input to `left` when `matcher` matches and to `right` otherwise. Unlike
 * `route` and `hijack` it is not a layer: both branches are given, so there is no inner service.
 *
 * @example
 * ```ts
 * import { either } from "@tessera/layers/route";
 *
 * const svc = either((r: Req) => r.extensions.has(Authenticated), app, loginPage); // Service<Req, Res>
 * ```
 */
export function either<I, IL, OL, IR, OR>(
  matcher: Matcher<I>,
  left: Service<IL, OL>,
  right: Service<IR, OR>,
): Service<I & IL & IR, OL | OR> {
  return {
    serve(input: I & IL & IR): Promise<OL | OR> {
      let matched: boolean;
      try {
        matched = matcher(input);
      } catch (error) {
        return Promise.reject(error);
      }
      return matched ? left.serve(input) : right.serve(input);
    },
  };
}
