import { createPublicKey, type KeyObject } from "node:crypto";
import { createSecureContext, type SecureContext } from "node:tls";
import {
  type CertificateAndKey,
  generateKey,
  issueCertificate,
  type LoadedAuthority,
  loadAuthority,
  pemOf,
} from "./certificate.js";
import { LruCache } from "./lru.js";

export interface CertificateIssuerOptions {
  /** The CA that signs the leaves (PEM certificate and key), e.g. from `createCertificateAuthority()`. */
  readonly ca: CertificateAndKey;
  /** How many issued certificates to keep (least recently used go first). Default 1000. */
  readonly cacheSize?: number;
  /** Validity of issued leaves in days. Default 365. */
  readonly days?: number;
}

/** Issues leaf certificates for host names and IPs on demand, signed by one CA, cached. */
export interface CertificateIssuer {
  /** The leaf (chain: leaf then CA) and key for `host`, issued on first use and cached. */
  issue(host: string): CertificateAndKey;
  /** A `node:tls` secure context for `host`, cached with the certificate. */
  secureContext(host: string): SecureContext;
  /** How many certificates are cached now. */
  readonly cached: number;
}

/**
 * A certificate issuer for a MITM proxy or a test PKI. All leaves share one ECDSA P-256 key made when the issuer
 * is, so issuing a certificate costs one signature. A name gets a DNS SAN, an IP literal an IP SAN.
 *
 * @example
 * ```ts
 * const issuer = certificateIssuer({ ca: createCertificateAuthority() });
 * const { cert, key } = issuer.issue("example.com");
 * ```
 */
export function certificateIssuer(options: CertificateIssuerOptions): CertificateIssuer {
  const authority: LoadedAuthority = loadAuthority(options.ca);
  const leafKey = generateKey();
  const leafPublic: KeyObject = createPublicKey(leafKey);
  const keyPem = pemOf(leafKey);
  const days = options.days ?? 365;
  const cache = new LruCache<string, { pair: CertificateAndKey; context: SecureContext }>(
    options.cacheSize ?? 1000,
  );
  const entry = (host: string) => {
    const name = host.toLowerCase();
    let found = cache.get(name);
    if (found === undefined) {
      const pair = { cert: issueCertificate(authority, leafPublic, [name], days), key: keyPem };
      found = { pair, context: createSecureContext(pair) };
      cache.set(name, found);
    }
    return found;
  };
  return {
    issue: (host) => entry(host).pair,
    secureContext: (host) => entry(host).context,
    get cached() {
      return cache.size;
    },
  };
}
