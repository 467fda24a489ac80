import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { ipv4Bytes, ipv6Bytes } from "@tessera/net";
import {
  bitString,
  boolean,
  children,
  explicit,
  implicitPrimitive,
  nullValue,
  octetString,
  oid,
  readElement,
  sequence,
  set,
  time,
  unsignedInteger,
  utf8String,
} from "./der.js";
import { TlsConfigError } from "./errors.js";

/** A certificate and its private key, both PEM: what `node:tls` takes as `cert` and `key`. */
export interface CertificateAndKey {
  readonly cert: string;
  readonly key: string;
}

export interface CertificateOptions {
  /** Host names and IP literals the certificate is for (subjectAltName); the first is also the CN. */
  readonly names?: readonly string[];
  /** The subject's common name. Default: the first name, or "Tessera". */
  readonly commonName?: string;
  /** Validity in days from one hour ago (tolerating a peer's clock skew). Default 365 (CA: 3650). */
  readonly days?: number;
}

const DAY = 86_400_000;
const OID = {
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  sha256WithRsa: "1.2.840.113549.1.1.11",
  subjectKeyId: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyId: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

function name(commonName: string, organization?: string): Buffer {
  // X.520 caps a common name at 64 characters; the SAN carries the full name anyway.
  const rdns = [set(sequence(oid(OID.commonName), utf8String(commonName.slice(0, 64))))];
  if (organization !== undefined)
    rdns.unshift(set(sequence(oid(OID.organization), utf8String(organization))));
  return sequence(...rdns);
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

function subjectAltName(names: readonly string[]): Buffer {
  return sequence(
    ...names.map((n) => {
      const literal = n.startsWith("[") && n.endsWith("]") ? n.slice(1, -1) : n;
      const ip = ipv4Bytes(literal) ?? ipv6Bytes(literal);
      if (ip === undefined) return implicitPrimitive(2, Buffer.from(n.toLowerCase(), "ascii"));
      return implicitPrimitive(7, ip);
    }),
  );
}

// The key identifier of RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits of `spki` (DER).
function keyIdentifier(spki: Buffer): Buffer {
  const top = readElement(spki, 0);
  const bits = children(spki, top)[1]!;
  return createHash("sha1")
    .update(spki.subarray(bits.contentStart + 1, bits.end))
    .digest();
}

function signatureAlgorithm(key: KeyObject): { id: Buffer; hash: string } {
  if (key.asymmetricKeyType === "ec") return { id: sequence(oid(OID.ecdsaWithSha256)), hash: "sha256" };
  if (key.asymmetricKeyType === "rsa") {
    return { id: sequence(oid(OID.sha256WithRsa), nullValue()), hash: "sha256" };
  }
  throw new TlsConfigError(`cannot sign certificates with a ${key.asymmetricKeyType} key (EC or RSA only)`);
}

interface Build {
  readonly subject: Buffer;
  readonly issuer: Buffer;
  readonly publicKey: KeyObject;
  readonly signingKey: KeyObject;
  readonly ca: boolean;
  readonly names: readonly string[];
  readonly days: number;
  readonly authorityKeyId: Buffer | undefined;
}

function build(b: Build): string {
  const notBefore = new Date(Date.now() - 3_600_000);
  const notAfter = new Date(notBefore.getTime() + b.days * DAY);
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const algorithm = signatureAlgorithm(b.signingKey);
  // Exported once: the tbsCertificate carries it and the subject key identifier hashes its key bits.
  const spki = b.publicKey.export({ type: "spki", format: "der" });
  const extensions: Buffer[] = [
    extension(OID.basicConstraints, true, sequence(...(b.ca ? [boolean(true)] : []))),
    // digitalSignature (+ keyCertSign, cRLSign for a CA)
    extension(
      OID.keyUsage,
      true,
      b.ca ? Buffer.from([0x03, 0x02, 0x01, 0x86]) : Buffer.from([0x03, 0x02, 0x07, 0x80]),
    ),
    extension(OID.subjectKeyId, false, octetString(keyIdentifier(spki))),
  ];
  if (b.authorityKeyId !== undefined) {
    extensions.push(extension(OID.authorityKeyId, false, sequence(implicitPrimitive(0, b.authorityKeyId))));
  }
  if (!b.ca) {
    extensions.push(extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth), oid(OID.clientAuth))));
  }
  if (b.names.length > 0) extensions.push(extension(OID.subjectAltName, false, subjectAltName(b.names)));
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))),
    unsignedInteger(serial),
    algorithm.id,
    b.issuer,
    sequence(time(notBefore), time(notAfter)),
    b.subject,
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign(algorithm.hash, tbs, b.signingKey);
  const der = sequence(tbs, algorithm.id, bitString(signature));
  const base64 = der.toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${base64}${base64.endsWith("\n") ? "" : "\n"}-----END CERTIFICATE-----\n`;
}

/** A new ECDSA P-256 private key. */
export function generateKey(): KeyObject {
  return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
}

/** A private key as PKCS#8 PEM, the form `node:tls` takes. */
export const pemOf = (key: KeyObject): string => key.export({ type: "pkcs8", format: "pem" }) as string;

/**
 * A self-signed certificate (ECDSA P-256) for development and tests, valid for the given names and IPs.
 *
 * @example
 * ```ts
 * const { cert, key } = selfSignedCertificate({ names: ["localhost", "127.0.0.1"] });
 * ```
 */
export function selfSignedCertificate(options: CertificateOptions = {}): CertificateAndKey {
  const names = options.names ?? ["localhost", "127.0.0.1", "::1"];
  const key = generateKey();
  const subject = name(options.commonName ?? names[0] ?? "Tessera");
  const cert = build({
    subject,
    issuer: subject,
    publicKey: createPublicKey(key),
    signingKey: key,
    ca: false,
    names,
    days: options.days ?? 365,
    authorityKeyId: undefined,
  });
  return { cert, key: pemOf(key) };
}

/**
 * A new certificate authority (ECDSA P-256) for issuing leaf certificates, e.g. for a MITM proxy that clients
 * are told to trust.
 *
 * @example
 * ```ts
 * const ca = createCertificateAuthority({ commonName: "My dev CA" });
 * ```
 */
export function createCertificateAuthority(options: CertificateOptions = {}): CertificateAndKey {
  const key = generateKey();
  const subject = name(options.commonName ?? "Tessera CA", "Tessera");
  const cert = build({
    subject,
    issuer: subject,
    publicKey: createPublicKey(key),
    signingKey: key,
    ca: true,
    names: [],
    days: options.days ?? 3650,
    authorityKeyId: undefined,
  });
  return { cert, key: pemOf(key) };
}

/** A CA loaded for signing: its subject (copied byte for byte into each leaf's issuer) and key identifier. */
export interface LoadedAuthority {
  readonly certPem: string;
  readonly key: KeyObject;
  readonly subject: Buffer;
  readonly keyId: Buffer | undefined;
}

/** Parse a CA certificate and key (PEM) for {@link issueCertificate}. Throws a TlsConfigError if unusable. */
export function loadAuthority(ca: CertificateAndKey): LoadedAuthority {
  let key: KeyObject;
  try {
    key = createPrivateKey(ca.key);
  } catch (error) {
    throw new TlsConfigError("the CA key is not a usable private key", { cause: error });
  }
  const match = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(ca.cert);
  if (!match) throw new TlsConfigError("the CA certificate is not PEM");
  const der = Buffer.from(match[1]!.replace(/\s+/g, ""), "base64");
  try {
    const certificate = readElement(der, 0);
    const tbs = readElement(der, certificate.contentStart);
    const fields = children(der, tbs);
    // version [0] is optional: the subject is the 6th field with it, the 5th without.
    const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
    const subjectElement = fields[4 + offset]!;
    const subject = der.subarray(subjectElement.start, subjectElement.end);
    let keyId: Buffer | undefined;
    const extensionsField = fields.find((f) => f.tag === 0xa3);
    if (extensionsField !== undefined) {
      const list = readElement(der, extensionsField.contentStart);
      for (const ext of children(der, list)) {
        const parts = children(der, ext);
        const id = der.subarray(parts[0]!.start, parts[0]!.end);
        if (!id.equals(oid(OID.subjectKeyId))) continue;
        const value = parts[parts.length - 1]!;
        const inner = readElement(der, value.contentStart);
        keyId = der.subarray(inner.contentStart, inner.end);
      }
    }
    signatureAlgorithm(key);
    return { certPem: ca.cert, key, subject, keyId };
  } catch (error) {
    if (error instanceof TlsConfigError) throw error;
    throw new TlsConfigError("the CA certificate does not parse", { cause: error });
  }
}

/**
 * A leaf certificate for `names`, signed by the CA, carrying `publicKey` (several leaves may share one key:
 * issuing is then a signature, not a key generation). The PEM holds the leaf then the CA, so servers send the
 * chain.
 */
export function issueCertificate(
  authority: LoadedAuthority,
  publicKey: KeyObject,
  names: readonly string[],
  days = 365,
): string {
  const leaf = build({
    subject: name(names[0] ?? "Tessera"),
    issuer: authority.subject,
    publicKey,
    signingKey: authority.key,
    ca: false,
    names,
    days,
    authorityKeyId: authority.keyId,
  });
  return leaf + authority.certPem.trim() + "\n";
}
