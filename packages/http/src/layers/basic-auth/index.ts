import type { Service } from "@tessera/core";
import type { Request } from "../../request.js";
import type { Response } from "../../response.js";
import {
  type AddAuthOptions,
  AuthUser,
  type Challenge,
  challenge,
  credentialsOf,
  ORIGIN_CHALLENGE,
  PROXY_CHALLENGE,
  quoteRealm,
  runValidator,
  SecretSet,
  setAuthorization,
  type Validator,
} from "../internal/auth.js";
import { type HttpLayer, httpLayer } from "../internal/http-layer.js";

export { type AddAuthOptions, AuthUser } from "../internal/auth.js";

/** What a Basic validator checks. */
export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

/** Options of {@link basicAuth}: `validate` or `users` (or both: either may accept). */
export interface BasicAuthOptions {
  /** The protection space named in the challenge. Default `"restricted"`. */
  readonly realm?: string;
  /**
   * Check credentials: a callback or a `Service<BasicCredentials & { request }, boolean>` (a database lookup).
   * A rejection propagates (a 500 from `catchErrors`), it is not a 401.
   */
  readonly validate?: Validator<BasicCredentials, boolean>;
  /** Fixed users and passwords, compared in constant time. */
  readonly users?: Readonly<Record<string, string>>;
  /**
   * Act as a proxy: read `Proxy-Authorization`, refuse with 407 and `Proxy-Authenticate` (RFC 9110 11.7).
   * Default false.
   */
  readonly proxy?: boolean;
}

/**
 * Server side: require HTTP Basic authentication (RFC 7617). A request without valid credentials gets a 401
 * with `WWW-Authenticate: Basic realm="...", charset="UTF-8"` (407 and `Proxy-Authenticate` with `proxy`),
 * without reaching the inner service. Accepted requests carry the username as {@link AuthUser}. Credentials
 * are decoded as UTF-8; a malformed header is a 401 like a wrong password. Basic sends the password in
 * clear text: use it over TLS.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { AuthUser, basicAuth } from "@tessera/http/basic-auth";
 *
 * const admin = stack(basicAuth({ realm: "admin", users: { ada: "correct horse" } })).into(
 *   service((req: Request) => Response.text(`hello ${req.extensions.get(AuthUser)}`)),
 * );
 * ```
 */
export function basicAuth(options: BasicAuthOptions): HttpLayer {
  const { validate, users } = options;
  if (validate === undefined && users === undefined) {
    throw new TypeError("basicAuth: give `validate` or `users`");
  }
  const known = users === undefined ? undefined : new SecretSet(Object.entries(users));
  const c = options.proxy === true ? PROXY_CHALLENGE : ORIGIN_CHALLENGE;
  const value = `Basic realm=${quoteRealm(options.realm ?? "restricted")}, charset="UTF-8"`;
  return httpLayer((inner) => new BasicAuthService(inner, c, value, known, validate));
}

class BasicAuthService implements Service<Request, Response> {
  readonly #inner: Service<Request, Response>;
  readonly #challenge: Challenge;
  readonly #value: string;
  readonly #known: SecretSet | undefined;
  readonly #validate: Validator<BasicCredentials, boolean> | undefined;

  constructor(
    inner: Service<Request, Response>,
    challenge: Challenge,
    value: string,
    known: SecretSet | undefined,
    validate: Validator<BasicCredentials, boolean> | undefined,
  ) {
    this.#inner = inner;
    this.#challenge = challenge;
    this.#value = value;
    this.#known = known;
    this.#validate = validate;
  }

  serve(req: Request): Promise<Response> {
    const header = req.headers.get(this.#challenge.header);
    const credentials = header === undefined ? undefined : parseBasicAuth(header);
    if (credentials === undefined) return Promise.resolve(this.#refuse(req));
    if (this.#known?.matches(credentials.username, credentials.password) === true) {
      return this.#accept(req, credentials.username);
    }
    const validate = this.#validate;
    if (validate === undefined) return Promise.resolve(this.#refuse(req));
    return runValidator(validate, credentials, req).then((ok) =>
      ok === true ? this.#accept(req, credentials.username) : this.#refuse(req),
    );
  }

  #accept(req: Request, username: string): Promise<Response> {
    req.extensions.insert(AuthUser, username);
    return this.#inner.serve(req);
  }

  #refuse(req: Request): Response {
    return challenge(req, this.#challenge, this.#value);
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The credentials of a `Basic` Authorization value, or undefined when it is another scheme or malformed
 * (not base64, not UTF-8, no colon).
 *
 * @example
 * ```ts
 * parseBasicAuth("Basic YWRhOnB3"); // { username: "ada", password: "pw" }
 * ```
 */
export function parseBasicAuth(value: string): BasicCredentials | undefined {
  const token = credentialsOf(value, "basic");
  if (token === undefined || token.length % 4 !== 0 || !BASE64.test(token)) return undefined;
  let text: string;
  try {
    text = utf8.decode(Buffer.from(token, "base64"));
  } catch {
    return undefined;
  }
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * Client side: send HTTP Basic credentials (UTF-8, RFC 7617) with every request that has no `Authorization`
 * of its own. The header is built once. The request's headers are changed in place.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { addBasicAuth } from "@tessera/http/basic-auth";
 *
 * const client = stack(addBasicAuth("ada", "correct horse")).into(httpClient);
 * ```
 */
export function addBasicAuth(username: string, password: string, options: AddAuthOptions = {}): HttpLayer {
  if (username.includes(":")) throw new TypeError("addBasicAuth: a Basic username cannot contain ':'");
  const value = `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
  return setAuthorization(() => value, options);
}
