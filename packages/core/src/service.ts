/**
 * The one contract of Tessera: input in, promise of output out. A TCP acceptor, a TLS handshake, an HTTP
 * handler and an HTTP client are all services. A service is safe to call concurrently; failure is a rejected
 * promise carrying an `Error` with a stable `code`.
 */
export interface Service<In, Out> {
  serve(input: In): Promise<Out>;
}

/** The input type of a service. */
export type InputOf<S> = S extends Service<infer I, any> ? I : never;
/** The output type of a service. */
export type OutputOf<S> = S extends Service<any, infer O> ? O : never;

/**
 * Make a service from a function. The function may return synchronously; a synchronous throw becomes a
 * rejected promise, so callers only ever see one failure channel.
 *
 * @example
 * ```ts
 * const upper = service((s: string) => s.toUpperCase());
 * await upper.serve("hi"); // "HI"
 * ```
 */
export function service<In, Out>(fn: (input: In) => Out | PromiseLike<Out>): Service<In, Out> {
  return {
    serve(input: In): Promise<Out> {
      try {
        return Promise.resolve(fn(input));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}
