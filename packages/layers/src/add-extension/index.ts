import {
  type GenericLayer,
  type HasExtensions,
  type Key,
  type Same,
  type Service,
  sameLayer,
} from "@tessera/core";
import { forwardCapacity } from "../capacity.js";

/**
 * Append an extension to every input before the inner service sees it: a fixed value, or one computed from
 * the input by a function. (To store a function as the value, return it from a function: `() => fn`.) The
 * input's own extensions are written, not a fork, so the outer layers see the value too once the call returns.
 *
 * @example
 * ```ts
 * import { key, stack } from "@tessera/core";
 * import { addExtension } from "@tessera/layers/add-extension";
 *
 * const Tenant = key<string>("myapp.Tenant");
 * const svc = stack(addExtension(Tenant, "acme")).into(handler); // handler: req.extensions.get(Tenant) === "acme"
 * ```
 */
export function addExtension<T, I extends HasExtensions = HasExtensions>(
  key: Key<T>,
  value: T | ((input: I) => T),
): GenericLayer<Same<I>> {
  const compute = typeof value === "function" ? (value as (input: I) => T) : undefined;
  return sameLayer(
    <II extends I, O>(inner: Service<II, O>): Service<II, O> =>
      forwardCapacity(
        {
          serve(input: II): Promise<O> {
            let v: T;
            try {
              v = compute === undefined ? (value as T) : compute(input);
            } catch (error) {
              return Promise.reject(error);
            }
            input.extensions.insert(key, v);
            return inner.serve(input);
          },
        },
        inner,
      ),
  );
}
