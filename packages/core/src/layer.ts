import type { Service } from "./service.js";

/**
 * A layer takes the inner service and returns the outer one (tower's middleware). Stacks compose outer-first
 * with {@link stack}.
 */
export interface Layer<InnerIn, InnerOut, OuterIn = InnerIn, OuterOut = InnerOut> {
  layer(inner: Service<InnerIn, InnerOut>): Service<OuterIn, OuterOut>;
}

/**
 * Make a layer with fixed types from a function.
 *
 * @example
 * ```ts
 * const parse = layer((inner: Service<number, string>) => service((s: string) => inner.serve(Number(s))));
 * ```
 */
export function layer<InnerIn, InnerOut, OuterIn = InnerIn, OuterOut = InnerOut>(
  fn: (inner: Service<InnerIn, InnerOut>) => Service<OuterIn, OuterOut>,
): Layer<InnerIn, InnerOut, OuterIn, OuterOut> {
  return { layer: fn };
}

// ---------------------------------------------------------------------------------------------------------
// Generic layers. Most middleware (timeout, retry, limits, logging) works for any service whose input and
// output meet a bound, and keeps their types. TypeScript has no higher-kinded types, so a generic layer
// carries a type-level function (a "kind") from the inner service's types to the outer service's types; the
// kind is applied by intersecting it with `{ In; Out }` and reading its fields.

/** A type-level function from the inner service's `In`/`Out` to the outer service's types. */
export interface LayerKind {
  /** The inner service's input type (filled in when the kind is applied). */
  readonly In: unknown;
  /** The inner service's output type (filled in when the kind is applied). */
  readonly Out: unknown;
  /** `true` when the inner service fits this layer. */
  readonly Ok: boolean;
  /** A message shown when it does not. */
  readonly Expected: string;
  readonly OuterIn: unknown;
  readonly OuterOut: unknown;
}

/** Apply a kind to an inner service's types. */
export type Applied<K extends LayerKind, I, O> = K & { readonly In: I; readonly Out: O };

/**
 * The kind of a layer that keeps its inner service's types, for any input assignable to `InBound` and any
 * output assignable to `OutBound` (e.g. `timeout` needs an input that carries extensions).
 */
export interface Same<InBound = unknown, OutBound = unknown> extends LayerKind {
  readonly Ok: [this["In"]] extends [InBound] ? ([this["Out"]] extends [OutBound] ? true : false) : false;
  readonly Expected: "the inner service's input or output does not meet this layer's bound";
  readonly OuterIn: this["In"];
  readonly OuterOut: this["Out"];
}

/** Why a stack or a generic layer does not fit the service under it. A value of this type never exists. */
export interface StackError<Message extends string, In = unknown, Out = unknown> {
  readonly "stack error": Message;
  readonly "inner input": In;
  readonly "inner output": Out;
}

/** The outer service a kind makes from `Service<I, O>`, or a {@link StackError}. */
export type KindResult<K extends LayerKind, I, O> =
  Applied<K, I, O> extends infer A extends LayerKind
    ? A["Ok"] extends true
      ? Service<A["OuterIn"], A["OuterOut"]>
      : StackError<A["Expected"], I, O>
    : never;

/** A parameter type that rejects (at compile time) an inner service that does not fit the kind. */
export type KindCheck<K extends LayerKind, I, O> =
  KindResult<K, I, O> extends StackError<infer M, any, any> ? { readonly "stack error": M } : unknown;

/**
 * A layer generic over its inner service's types, described by a {@link LayerKind}. It is also a
 * {@link Layer} for every pair of types the kind accepts, so it fits wherever a fixed layer is expected.
 */
export interface GenericLayer<K extends LayerKind> {
  /** Type-only: the kind. Absent at run time. */
  readonly "~kind": K;
  layer<I, O>(inner: Service<I, O> & KindCheck<K, I, O>): KindResult<K, I, O>;
}

/**
 * Make a type-preserving generic layer.
 *
 * @example
 * ```ts
 * const tap = sameLayer(<I, O>(inner: Service<I, O>) =>
 *   service(async (input: I) => { console.log(input); return inner.serve(input); }));
 * ```
 */
export function sameLayer<InBound = unknown, OutBound = unknown>(
  fn: <I extends InBound, O extends OutBound>(inner: Service<I, O>) => Service<I, O>,
): GenericLayer<Same<InBound, OutBound>> {
  return { layer: fn } as unknown as GenericLayer<Same<InBound, OutBound>>;
}

/** Make a generic layer with a kind of your own (see `LayerKind`). */
export function genericLayer<K extends LayerKind>(
  fn: (inner: Service<any, any>) => Service<any, any>,
): GenericLayer<K> {
  return { layer: fn } as unknown as GenericLayer<K>;
}

/** The layer that changes nothing. */
export function identity(): GenericLayer<Same> {
  return sameLayer(<I, O>(inner: Service<I, O>) => inner);
}

/** The outer service that layer `L` makes from `Service<I, O>`, or a {@link StackError}. */
export type LayerResult<L, I, O> = L extends { readonly "~kind": infer K extends LayerKind }
  ? KindResult<K, I, O>
  : L extends Layer<infer II, infer IO, infer OI, infer OO>
    ? [II] extends [I]
      ? [O] extends [IO]
        ? Service<OI, OO>
        : StackError<"the inner service's output is not what the layer expects", I, O>
      : StackError<"the layer calls its inner service with an input it does not accept", I, O>
    : StackError<"not a layer", I, O>;

/** Apply layers, innermost (last) first, to `S`. */
export type Fold<Ls extends readonly unknown[], S> = Ls extends readonly [...infer Init, infer Last]
  ? S extends Service<infer I, infer O>
    ? Fold<Init, LayerResult<Last, I, O>>
    : S
  : S;
