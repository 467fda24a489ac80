import { type GenericLayer, genericLayer, type LayerKind, type Service } from "@tessera/core";
import { forwardCapacity } from "../capacity.js";

/** The kind of `catchError(f: (error, input: I) => B)`: the outer output is the inner one or `B`. */
export interface CatchErrorKind<I, B> extends LayerKind {
  readonly Ok: [this["In"]] extends [I] ? true : false;
  readonly Expected: "the inner service's input is not what the catchError function takes";
  readonly OuterIn: this["In"];
  readonly OuterOut: this["Out"] | B;
}

/**
 * Turn errors into outputs: when the inner call fails, `f(error, input)` makes the output instead (an error
 * page, a fallback value). `f` may rethrow the errors it does not handle, and may be async.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { catchError } from "@tessera/layers/catch-error";
 * import { TimeoutError } from "@tessera/layers/timeout";
 *
 * const svc = stack(
 *   catchError((error) => ({ status: error instanceof TimeoutError ? 504 : 500 })),
 *   timeout(5_000),
 * ).into(handler); // Service<Req, Res | { status: number }>
 * ```
 */
export function catchError<B, I = unknown>(
  f: (error: unknown, input: I) => B | PromiseLike<B>,
): GenericLayer<CatchErrorKind<I, B>> {
  return genericLayer<CatchErrorKind<I, B>>((inner: Service<I, unknown>) =>
    forwardCapacity(
      { serve: (input: I) => inner.serve(input).then(undefined, (error) => f(error, input)) },
      inner,
    ),
  );
}
