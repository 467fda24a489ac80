import type { ClientHello } from "./client-hello.js";
import { NoCertificateError } from "./errors.js";
import type { TlsServerConfig } from "./server-config.js";

/**
 * Choose a configuration by the server name the client asked for: an exact name first, then a wildcard
 * (`"*.example.com"` matches one label, like a certificate wildcard: `a.example.com`, not `example.com` nor
 * `a.b.example.com`), then `fallback`. Names compare case-insensitively, a trailing dot ignored. Without a match
 * and without a fallback, the connection fails with a {@link NoCertificateError}.
 *
 * @example
 * ```ts
 * tlsAcceptor({ config: sniRouter({ "example.com": site, "*.example.com": wild }, fallback) });
 * ```
 */
export function sniRouter(
  routes: Readonly<Record<string, TlsServerConfig>>,
  fallback?: TlsServerConfig,
): (hello: ClientHello) => TlsServerConfig {
  const exact = new Map<string, TlsServerConfig>();
  const wildcard = new Map<string, TlsServerConfig>();
  for (const [pattern, config] of Object.entries(routes)) {
    const name = normalize(pattern);
    if (name.startsWith("*.")) wildcard.set(name.slice(2), config);
    else exact.set(name, config);
  }
  return (hello) => {
    const sni = hello.serverName === undefined ? undefined : normalize(hello.serverName);
    if (sni !== undefined) {
      const found = exact.get(sni);
      if (found !== undefined) return found;
      const dot = sni.indexOf(".");
      if (dot > 0) {
        const wild = wildcard.get(sni.slice(dot + 1));
        if (wild !== undefined) return wild;
      }
    }
    if (fallback !== undefined) return fallback;
    throw new NoCertificateError(hello.serverName);
  };
}

function normalize(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}
