import {
  type GenericLayer,
  genericLayer,
  type LayerKind,
  type Same,
  type Service,
  sameLayer,
} from "@tessera/core";
import { forwardCapacity } from "../capacity.js";

/** The kind of `mapInput(f: (input: A) => B)`: outer input `A`; the inner service must accept `B`. */
export interface MapInputKind<A, B> extends LayerKind {
  readonly Ok: [B] extends [this["In"]] ? true : false;
  readonly Expected: "the inner service does not accept what the mapInput function returns";
  readonly OuterIn: A;
  readonly OuterOut: this["Out"];
}

/** The kind of `mapOutput(f: (output: A) => B)`: the inner service must return `A`; outer output `B`. */
export interface MapOutputKind<A, B> extends LayerKind {
  readonly Ok: [this["Out"]] extends [A] ? true : false;
  readonly Expected: "the inner service's output is not what the mapOutput function takes";
  readonly OuterIn: this["In"];
  readonly OuterOut: B;
}

/** The kind of `andThen(f: (output: A, input: I) => B)`. */
export interface AndThenKind<I, A, B> extends LayerKind {
  readonly Ok: [this["In"]] extends [I] ? ([this["Out"]] extends [A] ? true : false) : false;
  readonly Expected: "the inner service's input or output is not what the andThen function takes";
  readonly OuterIn: this["In"];
  readonly OuterOut: B;
}

/**
 * Turn the outer input into the inner service's input. `f` may be async; a throw (or rejection) fails the
 * call. Note: unlike the other map layers it does not pass a capacity report through (the probe would have to
 * run `f`).
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { mapInput } from "@tessera/layers/map";
 *
 * const byPath = stack(mapInput((path: string): Req => ({ path, extensions: new Extensions() }))).into(handler);
 * await byPath.serve("/"); // Service<string, Res>
 * ```
 */
export function mapInput<A, B>(f: (input: A) => B | PromiseLike<B>): GenericLayer<MapInputKind<A, B>> {
  return genericLayer<MapInputKind<A, B>>((inner: Service<B, unknown>) => ({
    serve(input: A): Promise<unknown> {
      let mapped: B | PromiseLike<B>;
      try {
        mapped = f(input);
      } catch (error) {
        return Promise.reject(error);
      }
      if (isThenable(mapped)) return Promise.resolve(mapped).then((value) => inner.serve(value));
      return inner.serve(mapped);
    },
  }));
}

/**
 * Transform the inner service's output. Annotate the parameter (`(res: Res) => ...`) so the stack can check
 * it against the inner service. `f` may be async.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { mapOutput } from "@tessera/layers/map";
 *
 * const status = stack(mapOutput((res: Res) => res.status)).into(handler); // Service<Req, number>
 * ```
 */
export function mapOutput<A, B>(f: (output: A) => B | PromiseLike<B>): GenericLayer<MapOutputKind<A, B>> {
  return genericLayer<MapOutputKind<A, B>>((inner: Service<unknown, A>) =>
    forwardCapacity({ serve: (input: unknown) => inner.serve(input).then(f) }, inner),
  );
}

/**
 * Transform the error a failed call rejects with (e.g. into your own typed error). `f` returns the new error;
 * it also sees the input.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { mapError } from "@tessera/layers/map";
 *
 * const svc = stack(mapError((error) => new UpstreamError({ cause: error }))).into(client);
 * ```
 */
export function mapError<I = unknown>(f: (error: unknown, input: I) => unknown): GenericLayer<Same<I>> {
  return sameLayer(
    <II extends I, O>(inner: Service<II, O>): Service<II, O> =>
      forwardCapacity(
        {
          serve: (input: II): Promise<O> =>
            inner.serve(input).then(undefined, (error: unknown) => {
              throw f(error, input);
            }),
        },
        inner,
      ),
  );
}

/**
 * Run another (possibly async) step on the inner service's output, with the input at hand: read a body,
 * call a second service, validate. A throw fails the call.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { andThen } from "@tessera/layers/map";
 *
 * const json = stack(andThen(async (res: Res, req: Req) => ({ url: req.path, body: await res.json() }))).into(client);
 * ```
 */
export function andThen<I, A, B>(
  f: (output: A, input: I) => B | PromiseLike<B>,
): GenericLayer<AndThenKind<I, A, B>> {
  return genericLayer<AndThenKind<I, A, B>>((inner: Service<I, A>) =>
    forwardCapacity({ serve: (input: I) => inner.serve(input).then((output) => f(output, input)) }, inner),
  );
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
