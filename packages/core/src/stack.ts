import type { Fold, LayerKind, StackError } from "./layer.js";
import type { Service } from "./service.js";

/** The kind of a whole stack, so a stack nests inside another. */
export interface StackKind<Ls extends readonly unknown[]> extends LayerKind {
  readonly Ok: Fold<Ls, Service<this["In"], this["Out"]>> extends Service<any, any> ? true : false;
  readonly Expected: Fold<Ls, Service<this["In"], this["Out"]>> extends StackError<infer M, any, any>
    ? M
    : string;
  readonly OuterIn: Fold<Ls, Service<this["In"], this["Out"]>> extends Service<infer I, any> ? I : never;
  readonly OuterOut: Fold<Ls, Service<this["In"], this["Out"]>> extends Service<any, infer O> ? O : never;
}

type StackCheck<Ls extends readonly unknown[], I, O> =
  Fold<Ls, Service<I, O>> extends StackError<infer M, any, any> ? { readonly "stack error": M } : unknown;

/** Layers composed outer-first; `into(service)` wraps a service with all of them. */
export interface Stack<Ls extends readonly unknown[]> {
  /** Type-only: the kind of the whole stack. Absent at run time. */
  readonly "~kind": StackKind<Ls>;
  readonly layers: Ls;
  /** Wrap `inner`: the first layer given to `stack` is the outermost. */
  into<I, O>(inner: Service<I, O> & StackCheck<Ls, I, O>): Fold<Ls, Service<I, O>>;
  /** Same as `into`, so a stack is itself a layer. */
  layer<I, O>(inner: Service<I, O> & StackCheck<Ls, I, O>): Fold<Ls, Service<I, O>>;
}

// A generic layer is accepted by its kind alone: checking its `layer` method against `(inner: any) => ...`
// would apply the kind to `any` and can fail for kinds whose output does not mention the inner output.
type AnyLayer =
  | { layer(inner: any): Service<any, any> }
  | { readonly "~kind": LayerKind; layer(inner: any): unknown };

/**
 * Compose layers outer-first, with the types inferred through the whole chain when `into` is given the
 * innermost service. A layer that does not fit the service under it is a compile error at `into`.
 *
 * @example
 * ```ts
 * const svc = stack(timeout(5_000), concurrencyLimit(64), log()).into(handler);
 * // a call goes through timeout, then the limit, then log, then the handler
 * ```
 */
export function stack<const Ls extends readonly AnyLayer[]>(...layers: Ls): Stack<Ls> {
  const into = (inner: Service<unknown, unknown>): any => {
    let svc = inner;
    for (let i = layers.length - 1; i >= 0; i--) svc = layers[i]!.layer(svc) as Service<unknown, unknown>;
    return svc;
  };
  return { layers, into, layer: into } as unknown as Stack<Ls>;
}
