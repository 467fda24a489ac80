import { timingSafeEqual } from "node:crypto";
import type { Service } from "@tessera/core";
import type { Conn } from "@tessera/net";

/** What an authenticator is asked: the RFC 1929 credentials a client sent, on its connection. */
export interface Socks5AuthRequest {
  readonly username: string;
  readonly password: string;
  readonly conn: Conn;
}

/** Decides whether credentials are good: resolves true to let the client in, false to refuse it. */
export type Socks5Authenticator = Service<Socks5AuthRequest, boolean>;

function sameBytes(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  // Compare in constant time for equal lengths; a length mismatch still costs one comparison.
  if (x.length === y.length) return timingSafeEqual(x, y);
  timingSafeEqual(x, x);
  return false;
}

/**
 * An authenticator with a fixed table of users and passwords (compared in constant time).
 *
 * @example
 * ```ts
 * const server = socks5Server({ authenticate: staticCredentials({ alice: "s3cret" }) });
 * ```
 */
export function staticCredentials(users: Readonly<Record<string, string>>): Socks5Authenticator {
  const table = new Map(Object.entries(users));
  return {
    serve(request: Socks5AuthRequest): Promise<boolean> {
      const expected = table.get(request.username);
      if (expected === undefined) {
        sameBytes(request.password, request.password);
        return Promise.resolve(false);
      }
      return Promise.resolve(sameBytes(request.password, expected));
    },
  };
}
