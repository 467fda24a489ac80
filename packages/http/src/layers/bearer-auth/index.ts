import type { Service } from "@tessera/core";
import { assertHeaderValue } from "../../header-validation.js";
import type { Request } from "../../request.js";
import type { Response } from "../../response.js";
import {
  type AddAuthOptions,
  AuthUser,
  challenge,
  credentialsOf,
  ORIGIN_CHALLENGE,
  quoteRealm,
  runValidator,
  SecretSet,
  setAuthorization,
  type Validator,
} from "../internal/auth.js";
import { type HttpLayer, httpLayer } from "../internal/http-layer.js";

export { type AddAuthOptions, AuthUser } from "../internal/auth.js";

/** What a bearer validator checks. */
export interface BearerCredentials {
  readonly token: string;
}

/** Options of {@link bearerAuth}: `validate` or `tokens` (or both: either may accept). */
export interface BearerAuthOptions {
  /** The protection space named in the challenge. Default `"api"`. */
  readonly realm?: string;
  /**
   * Check a token: a callback or a `Service<{ token, request }, ...>`. Return false to refuse, true to accept,
   * or a string to accept and record it as the request's {@link AuthUser} (a subject from the token). A
   * rejection propagates (a 500 from `catchErrors`), it is not a 401.
   */
  readonly validate?: Validator<BearerCredentials, boolean | string>;
  /** Fixed tokens, compared in constant time: each maps to the user it stands for. */
  readonly tokens?: Readonly<Record<string, string>>;
}

// RFC 6750 2.1: b64token.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Server side: require a bearer token (RFC 6750) in `Authorization`. Without one the request gets a 401 with
 * `WWW-Authenticate: Bearer realm="..."`; with a token that is refused, a 401 adding `error="invalid_token"`;
 * with a malformed `Bearer` header, a 400 with `error="invalid_request"`. The inner service is not called
 * then. An accepted request carries {@link AuthUser} when the validator (or the `tokens` table) names a user.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { bearerAuth } from "@tessera/http/bearer-auth";
 *
 * const api = stack(
 *   bearerAuth({ validate: async ({ token }) => (await sessions.lookup(token))?.userId ?? false }),
 * ).into(handler);
 * ```
 */
export function bearerAuth(options: BearerAuthOptions): HttpLayer {
  const { validate, tokens } = options;
  if (validate === undefined && tokens === undefined) {
    throw new TypeError("bearerAuth: give `validate` or `tokens`");
  }
  const known =
    tokens === undefined ? undefined : new SecretSet(Object.entries(tokens).map(([t, u]) => [u, t]));
  const realm = `Bearer realm=${quoteRealm(options.realm ?? "api")}`;
  return httpLayer((inner) => new BearerAuthService(inner, realm, known, validate));
}

class BearerAuthService implements Service<Request, Response> {
  readonly #inner: Service<Request, Response>;
  readonly #realm: string;
  readonly #known: SecretSet | undefined;
  readonly #validate: Validator<BearerCredentials, boolean | string> | undefined;

  constructor(
    inner: Service<Request, Response>,
    realm: string,
    known: SecretSet | undefined,
    validate: Validator<BearerCredentials, boolean | string> | undefined,
  ) {
    this.#inner = inner;
    this.#realm = realm;
    this.#known = known;
    this.#validate = validate;
  }

  serve(req: Request): Promise<Response> {
    const header = req.headers.get("authorization");
    const token = header === undefined ? undefined : credentialsOf(header, "bearer");
    if (token === undefined) return Promise.resolve(challenge(req, ORIGIN_CHALLENGE, this.#realm));
    if (!B64TOKEN.test(token)) {
      return Promise.resolve(
        challenge(req, ORIGIN_CHALLENGE, `${this.#realm}, error="invalid_request"`, 400),
      );
    }
    const user = this.#known?.find(token);
    if (user !== undefined) return this.#accept(req, user);
    const validate = this.#validate;
    if (validate === undefined) return Promise.resolve(this.#invalid(req));
    return runValidator(validate, { token }, req).then((result) => {
      if (result === false || result === "") return this.#invalid(req);
      return this.#accept(req, typeof result === "string" ? result : undefined);
    });
  }

  #accept(req: Request, user: string | undefined): Promise<Response> {
    if (user !== undefined) req.extensions.insert(AuthUser, user);
    return this.#inner.serve(req);
  }

  #invalid(req: Request): Response {
    return challenge(req, ORIGIN_CHALLENGE, `${this.#realm}, error="invalid_token"`);
  }
}

/**
 * Client side: send `Authorization: Bearer <token>` with every request that has none. The token is a string
 * or a function of the request, possibly async (a token source that refreshes). The request's headers are
 * changed in place.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { addBearerToken } from "@tessera/http/bearer-auth";
 *
 * const client = stack(addBearerToken(() => tokens.current())).into(httpClient);
 * ```
 */
export function addBearerToken(
  token: string | ((req: Request) => string | PromiseLike<string>),
  options: AddAuthOptions = {},
): HttpLayer {
  if (typeof token === "string") {
    const value = `Bearer ${token}`;
    assertHeaderValue("authorization", value);
    return setAuthorization(() => value, options);
  }
  return setAuthorization((req) => {
    const t = token(req);
    return typeof t === "string" ? `Bearer ${t}` : Promise.resolve(t).then((v) => `Bearer ${v}`);
  }, options);
}
