import type { HasExtensions, Key } from "@tessera/core";

/**
 * A predicate on an input, used by `route`, `either` and `hijack` to pick a service. Matchers compose with
 * {@link and}, {@link or} and {@link not}; they should be cheap and must not throw.
 */
export type Matcher<I> = (input: I) => boolean;

/** The input type every matcher of a list accepts (the intersection of their input types). */
export type MatcherInput<Ms extends readonly Matcher<any>[]> = Intersect<
  { [K in keyof Ms]: Ms[K] extends Matcher<infer I> ? (x: I) => void : never }[number]
>;
// Not distributive ([F], not F): inferring from a union of functions' parameters gives the intersection.
type Intersect<F> = [F] extends [(x: infer I) => void] ? I : never;

/**
 * Matches when every matcher matches (none given: always).
 *
 * @example
 * ```ts
 * const adminPost = and((r: Req) => r.method === "POST", (r: Req) => r.path.startsWith("/admin"));
 * ```
 */
export function and<const Ms extends readonly Matcher<any>[]>(...matchers: Ms): Matcher<MatcherInput<Ms>> {
  const list = [...matchers];
  return (input) => {
    for (const m of list) if (!m(input)) return false;
    return true;
  };
}

/**
 * Matches when any matcher matches (none given: never).
 *
 * @example
 * ```ts
 * const probe = or((r: Req) => r.path === "/healthz", (r: Req) => r.path === "/readyz");
 * ```
 */
export function or<const Ms extends readonly Matcher<any>[]>(...matchers: Ms): Matcher<MatcherInput<Ms>> {
  const list = [...matchers];
  return (input) => {
    for (const m of list) if (m(input)) return true;
    return false;
  };
}

/**
 * Matches when `matcher` does not.
 *
 * @example
 * ```ts
 * const notHealth = not((r: Req) => r.path === "/healthz");
 * ```
 */
export function not<I>(matcher: Matcher<I>): Matcher<I> {
  return (input) => !matcher(input);
}

/**
 * Matches inputs whose extensions hold a value for `key` (the newest one), optionally one that `test` accepts.
 *
 * @example
 * ```ts
 * const viaProxy = hasExtension(ProxyUsed);
 * const fromLocalhost = hasExtension(PeerAddr, (addr) => addr.ip === "127.0.0.1");
 * ```
 */
export function hasExtension<T>(key: Key<T>, test?: (value: T) => boolean): Matcher<HasExtensions> {
  if (test === undefined) return (input) => input.extensions.has(key);
  return (input) => {
    const value = input.extensions.get(key);
    return value !== undefined && test(value);
  };
}
