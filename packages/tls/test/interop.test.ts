import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Service, service } from "@tessera/core";
import { autoServer, type Request, Response } from "@tessera/http";
import { server as http1Server } from "@tessera/http1";
import { server as http2Server } from "@tessera/http2";
import { Alpn, type Conn, connectRequest, type Listener, listen, Sni, tcpConnector } from "@tessera/net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { curl } from "../../../test-support/curl.js";
import { peer } from "../../../test-support/peers.js";
import {
  CertificateVerificationError,
  certificateIssuer,
  createCertificateAuthority,
  Fingerprints,
  ja3,
  selfSignedCertificate,
  sniRouter,
  TlsSessionKey,
  tlsAcceptor,
  tlsConnector,
} from "../src/index.js";
import { helloes, JA4_CAPTURES } from "./support/captures.js";
import { tcpFlows } from "./support/pcap.js";
import { run, startPeer, stopPeers } from "./support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-tls-interop-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const listeners: Listener[] = [];
afterEach(async () => {
  await stopPeers();
  await Promise.all(listeners.splice(0).map((l) => l.close({ timeout: 1000 })));
});

const ca = createCertificateAuthority({ commonName: "Interop CA" });
const issuer = certificateIssuer({ ca });

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const caFile = file("ca.pem", ca.cert);

/** tlsAcceptor on a real port: example.com by SNI, localhost otherwise; h2 and http/1.1 by ALPN. */
async function serveTls(inner: Service<Conn, void>, seen: Conn[] = []): Promise<number> {
  const site = { ...issuer.issue("localhost"), alpn: ["h2", "http/1.1"] };
  const other = { ...issuer.issue("example.com"), alpn: ["h2", "http/1.1"] };
  const acceptor = tlsAcceptor({ config: sniRouter({ "example.com": other }, site) });
  const recording: Service<Conn, void> = {
    serve(conn) {
      seen.push(conn);
      return inner.serve(conn);
    },
  };
  const listener = await listen({ host: "127.0.0.1", port: 0 }, acceptor.layer(recording), {
    onError: () => {},
  });
  listeners.push(listener);
  return listener.address.port;
}

const describeRequest = (req: Request) => {
  const fp = req.extensions.get(Fingerprints);
  return Response.text(`${req.version} ${req.extensions.get(Sni) ?? "-"} ${fp?.ja3.string}\n`, {
    request: req,
  });
};
const https = autoServer({
  http1: http1Server(service(describeRequest)),
  http2: http2Server(service(describeRequest)),
});

/** openssl s_client with stdin closed; everything it printed (stdout and stderr). */
function sClient(port: number, extra: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-CAfile",
      caFile,
      ...extra,
    ]);
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      out += c.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.on("error", reject);
    child.on("exit", () => {
      clearTimeout(timer);
      resolve(out);
    });
    child.stdin.end();
  });
}

describe.runIf(peer("openssl"))("openssl s_client against tlsAcceptor", () => {
  it("-servername picks the certificate, -alpn gets the server's preference, the chain verifies", async () => {
    const seen: Conn[] = [];
    const port = await serveTls(https, seen);
    const out = await sClient(port, ["-servername", "example.com", "-alpn", "http/1.1,h2"]);
    expect(out).toMatch(/ALPN protocol: h2/);
    expect(out).toMatch(/Verify return code: 0 \(ok\)/);
    expect(out).toMatch(/subject=CN = example\.com/);
    expect(seen[0]!.extensions.get(Sni)).toBe("example.com");
    expect(seen[0]!.extensions.get(Alpn)).toBe("h2");
    const plain = await sClient(port, ["-servername", "localhost", "-alpn", "http/1.1"]);
    expect(plain).toMatch(/ALPN protocol: http\/1\.1/);
    expect(plain).toMatch(/subject=CN = localhost/);
    expect(seen[1]!.extensions.get(Alpn)).toBe("http/1.1");
  });

  it("-tls1_2 negotiates TLS 1.2, recorded on the connection", async () => {
    const seen: Conn[] = [];
    const port = await serveTls(https, seen);
    const out = await sClient(port, ["-servername", "localhost", "-tls1_2"]);
    expect(out).toMatch(/Protocol\s*: TLSv1\.2/);
    expect(seen[0]!.extensions.get(TlsSessionKey)!.version).toBe("TLSv1.2");
    expect(seen[0]!.extensions.get(Fingerprints)!.ja4.fingerprint).toMatch(/^t12d/);
  });
});

describe.runIf(peer("curl"))("curl against tlsAcceptor + the auto HTTP server", () => {
  it("speaks HTTP/2 and HTTP/1.1 by ALPN on one port, verifying with --cacert", async () => {
    const port = await serveTls(https);
    const url = `https://localhost:${port}/`;
    const resolve = `localhost:${port}:127.0.0.1`;
    const h2 = await curl("--http2", "--cacert", caFile, "--resolve", resolve, url);
    expect(h2.stdout).toMatch(/^HTTP\/2 localhost 771,/);
    const h1 = await curl("--http1.1", "--cacert", caFile, "--resolve", resolve, url);
    expect(h1.stdout).toMatch(/^HTTP\/1\.1 localhost 771,/);
  });
});

describe.runIf(peer("openssl"))("tlsConnector against openssl s_server", () => {
  async function sServer(cert: { cert: string; key: string }, extra: string[] = []): Promise<number> {
    const certFile = file(`s-cert-${extra.length}.pem`, cert.cert);
    const keyFile = file(`s-key-${extra.length}.pem`, cert.key);
    const { match } = await startPeer(
      "openssl",
      ["s_server", "-accept", "127.0.0.1:0", "-cert", certFile, "-key", keyFile, "-rev", ...extra],
      /ACCEPT 127\.0\.0\.1:(\d+)/,
    );
    return Number(match[1]);
  }

  it("verifies the chain, sends SNI, negotiates ALPN and exchanges data", async () => {
    const port = await sServer(issuer.issue("localhost"), ["-alpn", "h2,http/1.1"]);
    const connector = tlsConnector({ ca: ca.cert, alpn: ["h2", "http/1.1"] }).layer(tcpConnector());
    const conn = await connector.serve(connectRequest(`localhost:${port}`));
    expect(conn.extensions.get(Alpn)).toBe("h2");
    expect(conn.extensions.get(TlsSessionKey)!.version).toBe("TLSv1.3");
    conn.stream.write("hello\n");
    const reply = await new Promise<string>((resolve) => {
      let text = "";
      conn.stream.on("data", (c: Buffer) => {
        text += c.toString();
        if (text.includes("\n")) resolve(text);
      });
    });
    expect(reply.trim()).toBe("olleh");
    conn.stream.destroy();
  });

  it("rejects a self-signed certificate by default", async () => {
    const port = await sServer(selfSignedCertificate({ names: ["localhost"] }));
    const attempt = tlsConnector()
      .layer(tcpConnector())
      .serve(connectRequest(`localhost:${port}`));
    await expect(attempt).rejects.toBeInstanceOf(CertificateVerificationError);
    await expect(attempt).rejects.toMatchObject({ reason: "DEPTH_ZERO_SELF_SIGNED_CERT" });
  });
});

describe.runIf(peer("tshark"))("JA3 matches tshark's", () => {
  it("on every TCP ClientHello of the reference captures", async () => {
    let compared = 0;
    for (const name of [
      "tls12.pcap",
      "latest.pcapng",
      "tls-alpn-h2.pcap",
      "badcurveball.pcap",
      "tls-handshake.pcapng",
    ]) {
      const path = new URL(name, JA4_CAPTURES).pathname;
      const { stdout } = await run(
        "tshark",
        [
          "-r",
          path,
          "-Y",
          "tcp && tls.handshake.type == 1",
          "-T",
          "fields",
          "-e",
          "ip.src",
          "-e",
          "ipv6.src",
          "-e",
          "tcp.srcport",
          "-e",
          "tls.handshake.ja3_full",
          "-e",
          "tls.handshake.ja3",
        ],
        { maxBuffer: 16 * 1024 * 1024 },
      );
      const flows = tcpFlows(readFileSync(path));
      const nth = new Map<string, number>();
      // trimEnd, not trim: a line may start with an empty field (no IPv4 source).
      for (const line of stdout.trimEnd().split("\n")) {
        const [v4, v6, port, full, hash] = line.split("\t");
        const src = v4 || v6!;
        const key = `${src}:${port}`;
        const index = nth.get(key) ?? 0;
        nth.set(key, index + 1);
        const flow = flows.find((f) => f.srcPort === Number(port) && f.src === src);
        const ours = flow === undefined ? undefined : helloes(flow.bytes)[index];
        expect(ours, `${name} ${key}`).toBeDefined();
        expect(ja3(ours!).string).toBe(full);
        expect(ja3(ours!).hash).toBe(hash);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(50);
  });

  it("for a live curl handshake captured on loopback, as tlsAcceptor reported it", async () => {
    const seen: Conn[] = [];
    const port = await serveTls(https, seen);
    const capture = join(dir, "live.pcap");
    await startPeer("tshark", ["-i", "lo", "-f", `tcp port ${port}`, "-w", capture], /Capturing on/);
    // "Capturing on" comes from tshark just before its capture child has the filter in place.
    await new Promise((r) => setTimeout(r, 1000));
    const fetched = await curl(
      "--cacert",
      caFile,
      "--resolve",
      `localhost:${port}:127.0.0.1`,
      `https://localhost:${port}/`,
    );
    expect(fetched.code, fetched.stderr).toBe(0);
    // Let tshark write the packets out before stopping it (SIGINT makes it flush and exit).
    await new Promise((r) => setTimeout(r, 500));
    await stopPeers("SIGINT");
    // An ephemeral port is not one tshark knows for TLS: tell it (-d).
    const { stdout } = await run("tshark", [
      "-r",
      capture,
      "-d",
      `tcp.port==${port},tls`,
      "-Y",
      "tls.handshake.type == 1",
      "-T",
      "fields",
      "-e",
      "tls.handshake.ja3_full",
      "-e",
      "tls.handshake.ja3",
    ]);
    const [full, hash] = stdout.trim().split("\t");
    const reported = seen[0]!.extensions.get(Fingerprints)!.ja3;
    expect(full).toMatch(/^771,/);
    expect(reported.string).toBe(full);
    expect(reported.hash).toBe(hash);
  });
});
