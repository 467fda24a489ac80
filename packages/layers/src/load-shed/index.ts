import { type GenericLayer, type Same, type Service, sameLayer } from "@tessera/core";
import { capacityProbe, forwardCapacity } from "../capacity.js";
import { OverloadedError } from "../errors/index.js";

export { Capacity, type CapacityReporting, capacityProbe, forwardCapacity } from "../capacity.js";
export { OverloadedError } from "../errors/index.js";

/**
 * Reject a call at once with an {@link OverloadedError} (`ERR_OVERLOADED`) when the limit below is saturated,
 * instead of letting it wait in that limit's queue (or for that rate limit's next token). Under overload a
 * fast 503 beats a slow one: the client can go elsewhere, and the server's memory and latency stay flat.
 *
 * Tessera services have no readiness protocol, so the limit reports its capacity through the
 * {@link Capacity} symbol: `concurrencyLimit()` and `rateLimit()` do, and the 1:1 layers of this package
 * (`timeout`, `log`, `inspect`, `mapOutput`, `mapError`, `andThen`, `catchError`, `consumeErrors`,
 * `addExtension`, `loadShed`) pass it through. Wrapping a service that reports nothing is a `TypeError`
 * when the stack is built, not a silent no-op.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { concurrencyLimit } from "@tessera/layers/concurrency-limit";
 * import { loadShed } from "@tessera/layers/load-shed";
 *
 * const svc = stack(loadShed(), concurrencyLimit(64)).into(handler); // the 65th concurrent call: ERR_OVERLOADED
 * ```
 */
export function loadShed(): GenericLayer<Same> {
  return sameLayer(<I, O>(inner: Service<I, O>): Service<I, O> => {
    const probe = capacityProbe(inner);
    if (probe === undefined) {
      throw new TypeError(
        "loadShed() must wrap a service that reports its capacity: concurrencyLimit(), rateLimit(), or a " +
          "layer that passes the report through (see Capacity in @tessera/layers/load-shed)",
      );
    }
    const shed = {
      serve(input: I): Promise<O> {
        if (probe(input)) return inner.serve(input);
        return Promise.reject(new OverloadedError("load shed: the service is at capacity"));
      },
    };
    return forwardCapacity(shed, inner);
  });
}
