import { type GenericLayer, type Same, type Service, sameLayer } from "@tessera/core";
import { forwardCapacity } from "../capacity.js";

/** What `inspect` taps. Each hook only observes: its return value is ignored and a throw is swallowed. */
export interface InspectHooks<I, O> {
  /** Before the inner service is called. */
  readonly input?: (input: I) => void;
  /** After the inner service returned `output`. */
  readonly output?: (output: O, input: I) => void;
  /** After the inner service failed. */
  readonly error?: (error: unknown, input: I) => void;
}

/**
 * Tap a service's inputs, outputs and errors without changing them (metrics, debugging, test probes). A
 * plain function taps inputs only, and then the layer adds no promise to the call.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { inspect } from "@tessera/layers/inspect";
 *
 * let failures = 0;
 * const svc = stack(inspect({ error: () => failures++ })).into(handler);
 * ```
 */
export function inspect<I = unknown, O = unknown>(
  hooks: InspectHooks<I, O> | ((input: I) => void),
): GenericLayer<Same<I, O>> {
  const {
    input: onInput,
    output: onOutput,
    error: onError,
  } = typeof hooks === "function" ? { input: hooks } : hooks;
  return sameLayer(<II extends I, OO extends O>(inner: Service<II, OO>): Service<II, OO> => {
    const tapped: Service<II, OO> = {
      serve(input: II): Promise<OO> {
        if (onInput !== undefined) quietly(() => onInput(input));
        const result = inner.serve(input);
        if (onOutput === undefined && onError === undefined) return result;
        result.then(
          onOutput === undefined ? undefined : (output) => quietly(() => onOutput(output, input)),
          (error: unknown) => {
            if (onError !== undefined) quietly(() => onError(error, input));
          },
        );
        return result;
      },
    };
    return forwardCapacity(tapped, inner);
  });
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // A tap must not change the call it observes.
  }
}
