import { execFileSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { peer } from "../../../test-support/peers.js";
import {
  certificateIssuer,
  createCertificateAuthority,
  selfSignedCertificate,
  TlsConfigError,
} from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-tls-cert-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("selfSignedCertificate", () => {
  it("is an ECDSA P-256 certificate for the names and IPs given, valid now", () => {
    const { cert, key } = selfSignedCertificate({ names: ["localhost", "127.0.0.1", "::1"] });
    const x509 = new X509Certificate(cert);
    expect(x509.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    expect(x509.subject).toBe("CN=localhost");
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(new Date(x509.validFrom).getTime()).toBeLessThan(Date.now());
    expect(new Date(x509.validTo).getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);
    expect(x509.ca).toBe(false);
    expect(x509.checkHost("localhost")).toBe("localhost");
    expect(x509.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(x509.checkHost("example.com")).toBeUndefined();
  });
});

describe("certificateIssuer", () => {
  const ca = createCertificateAuthority({ commonName: "Test CA" });
  const issuer = certificateIssuer({ ca, cacheSize: 2 });

  it("issues leaves signed by the CA with a DNS or IP SAN, chained to the CA", () => {
    const root = new X509Certificate(ca.cert);
    expect(root.ca).toBe(true);
    const { cert } = issuer.issue("Example.COM");
    const leaf = new X509Certificate(cert);
    expect(leaf.subjectAltName).toBe("DNS:example.com");
    expect(leaf.issuer).toBe(root.subject);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.checkIssued(root)).toBe(true);
    expect(cert.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const ip = new X509Certificate(issuer.issue("10.1.2.3").cert);
    expect(ip.subjectAltName).toBe("IP Address:10.1.2.3");
    const v6 = new X509Certificate(issuer.issue("2001:db8::1").cert);
    expect(v6.checkIP("2001:db8::1")).toBe("2001:db8::1");
  });

  it("caches by name, bounded (least recently used goes first)", () => {
    const small = certificateIssuer({ ca, cacheSize: 2 });
    const a = small.issue("a.test").cert;
    small.issue("b.test");
    expect(small.issue("a.test").cert).toBe(a); // a is now the most recent
    small.issue("c.test"); // evicts b
    expect(small.cached).toBe(2);
    expect(small.issue("a.test").cert).toBe(a);
    expect(small.issue("A.TEST").cert).toBe(a);
  });

  it("rejects a CA it cannot use", () => {
    expect(() => certificateIssuer({ ca: { cert: "nope", key: ca.key } })).toThrow(TlsConfigError);
    expect(() => certificateIssuer({ ca: { cert: ca.cert, key: "nope" } })).toThrow(TlsConfigError);
  });

  it.runIf(peer("openssl"))("passes openssl verify -x509_strict against the CA", () => {
    writeFileSync(join(dir, "ca.pem"), ca.cert);
    writeFileSync(join(dir, "leaf.pem"), issuer.issue("strict.test").cert);
    const out = execFileSync(
      "openssl",
      [
        "verify",
        "-x509_strict",
        "-purpose",
        "sslserver",
        "-CAfile",
        join(dir, "ca.pem"),
        join(dir, "leaf.pem"),
      ],
      { encoding: "utf8" },
    );
    expect(out).toContain("OK");
  });
});
