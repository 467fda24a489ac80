import { createHash, timingSafeEqual } from "node:crypto";
import { type Key, key, type Service } from "@tessera/core";
import { HeaderMap } from "../../header-map.js";
import type { Request } from "../../request.js";
import type { Response } from "../../response.js";
import { type HttpLayer, httpLayer } from "./http-layer.js";
import { discardBody, respond } from "./respond.js";

/** The authenticated user of a request (the Basic username, or what a bearer validator returned). */
export const AuthUser: Key<string> = key<string>("tessera.http.AuthUser");

/** A callback or a service that checks credentials. */
export type Validator<C, R> =
  | ((credentials: C, req: Request) => R | PromiseLike<R>)
  | Service<C & { readonly request: Request }, R>;

/** Call a validator, whichever form it has; a synchronous throw becomes a rejection. */
export function runValidator<C extends object, R>(
  validator: Validator<C, R>,
  credentials: C,
  req: Request,
): Promise<R> {
  try {
    if (typeof validator === "function") return Promise.resolve(validator(credentials, req));
    return validator.serve({ ...credentials, request: req });
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The headers of a challenge: `Authorization`/401/`WWW-Authenticate`, or their proxy forms. */
export interface Challenge {
  readonly header: "authorization" | "proxy-authorization";
  readonly status: 401 | 407;
  readonly challengeHeader: "WWW-Authenticate" | "Proxy-Authenticate";
}

export const ORIGIN_CHALLENGE: Challenge = {
  header: "authorization",
  status: 401,
  challengeHeader: "WWW-Authenticate",
};
export const PROXY_CHALLENGE: Challenge = {
  header: "proxy-authorization",
  status: 407,
  challengeHeader: "Proxy-Authenticate",
};

/** The refusal: 401 (407 for a proxy) with the challenge, and the unread request body cancelled. */
export function challenge(req: Request, c: Challenge, value: string, status: number = c.status): Response {
  discardBody(req);
  return respond(req, status, new HeaderMap([[c.challengeHeader, value]]));
}

/** A realm as a quoted-string (RFC 9110 5.6.4); rejects what cannot be sent in a header. */
export function quoteRealm(realm: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]|[^\u0000-\u00ff]/.test(realm)) {
    throw new TypeError(`a realm must be printable Latin-1 text, got ${JSON.stringify(realm)}`);
  }
  return `"${realm.replace(/["\\]/g, "\\$&")}"`;
}

/**
 * Find `secret` among `known` in time that does not depend on where (or whether) they differ: each candidate
 * is hashed (so lengths are equal) and compared with `timingSafeEqual`, and every candidate is compared.
 */
export class SecretSet {
  readonly #byId = new Map<string, Buffer>();
  readonly #all: [string, Buffer][] = [];

  constructor(entries: Iterable<readonly [string, string]>) {
    for (const [id, secret] of entries) {
      const d = digest(secret);
      this.#byId.set(id, d);
      this.#all.push([id, d]);
    }
  }

  /** True if `id` is known and its secret is `secret`. Unknown ids cost the same as a wrong secret. */
  matches(id: string, secret: string): boolean {
    const expected = this.#byId.get(id);
    const ok = timingSafeEqual(expected ?? DUMMY, digest(secret));
    return ok && expected !== undefined;
  }

  /** The id of the entry whose secret is `secret` (every entry is compared), or undefined. */
  find(secret: string): string | undefined {
    const d = digest(secret);
    let found: string | undefined;
    for (const [id, expected] of this.#all)
      if (timingSafeEqual(expected, d) && found === undefined) found = id;
    return found;
  }
}

const DUMMY = digest("\u0000tessera-no-such-user\u0000");

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** The credentials after `scheme ` in an Authorization value, or undefined when it uses another scheme. */
export function credentialsOf(value: string, scheme: string): string | undefined {
  const n = scheme.length;
  if (value.length <= n || value.charCodeAt(n) !== 0x20) return undefined;
  if (value.slice(0, n).toLowerCase() !== scheme) return undefined;
  return value.slice(n + 1).trim();
}

/** Options of `addBasicAuth` and `addBearerToken`. */
export interface AddAuthOptions {
  /** Replace an `Authorization` the request already has. Default false: a request's own wins. */
  readonly override?: boolean;
  /** Send `Proxy-Authorization` (credentials for a proxy) instead. Default false. */
  readonly proxy?: boolean;
}

/** A client layer that sets the (proxy) Authorization header from `make`, unless the request has one. */
export function setAuthorization(
  make: (req: Request) => string | PromiseLike<string>,
  options: AddAuthOptions,
): HttpLayer {
  const header = options.proxy === true ? "Proxy-Authorization" : "Authorization";
  const override = options.override === true;
  return httpLayer((inner) => ({
    serve(req: Request): Promise<Response> {
      if (!override && req.headers.has(header)) return inner.serve(req);
      let value: string | PromiseLike<string>;
      try {
        value = make(req);
        if (typeof value === "string") req.headers.set(header, value);
      } catch (error) {
        return Promise.reject(error);
      }
      if (typeof value === "string") return inner.serve(req);
      return Promise.resolve(value).then((v) => {
        req.headers.set(header, v);
        return inner.serve(req);
      });
    },
  }));
}
