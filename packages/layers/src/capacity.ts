import type { Service } from "@tessera/core";

/**
 * The symbol under which a service reports whether a call made now would start at once, without waiting in a
 * queue and without being refused for lack of room. `concurrencyLimit()` and `rateLimit()` report it;
 * `loadShed()` reads it. The 1:1 layers of this package (timeout, log, inspect, map, ...) pass their inner
 * service's report through, so `loadShed()` may sit a few layers above the limit it watches.
 */
export const Capacity: unique symbol = Symbol.for("tessera.layers.Capacity");

/** A service that reports its capacity (see {@link Capacity}). */
export interface CapacityReporting<In> {
  [Capacity](input: In): boolean;
}

/** The capacity probe of `service`, or undefined when it does not report one. */
export function capacityProbe<In>(service: Service<In, unknown>): ((input: In) => boolean) | undefined {
  const probe = (service as Partial<CapacityReporting<In>>)[Capacity];
  return typeof probe === "function" ? (input: In) => probe.call(service, input) : undefined;
}

/**
 * Make `outer` report `inner`'s capacity, when `inner` reports one. For layers whose outer service calls the
 * inner service once per call, with the same input, and without waiting first. Runs once, when the layer wraps.
 */
export function forwardCapacity<S extends object>(outer: S, inner: Service<any, unknown>): S {
  const probe = (inner as Partial<CapacityReporting<unknown>>)[Capacity];
  if (typeof probe === "function") {
    Object.defineProperty(outer, Capacity, { value: (input: unknown) => probe.call(inner, input) });
  }
  return outer;
}
