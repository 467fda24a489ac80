import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { HttpClient } from "@tessera/http";
import { type Conn, type ConnectRequest, connectRequest } from "@tessera/net";
import { certificateIssuer, createCertificateAuthority } from "@tessera/tls";
import { pino } from "pino";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { peer } from "../../../test-support/peers.js";
import type { EchoDocument } from "../src/commands/echo.js";
import { type Mitm, mitmConnector } from "../src/commands/mitm.js";
import { main } from "../src/main.js";
import { startServer, stopServers, testIo } from "./cli-helpers.js";

const run = promisify(execFile);
afterEach(stopServers);
const dir = mkdtempSync(join(tmpdir(), "tessera-playground-tls-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function curl(...args: string[]) {
  return run("curl", ["-sS", "--max-time", "10", ...args], { maxBuffer: 8 * 1024 * 1024 });
}

const hasCurl = peer("curl");

describe("tessera ca new", () => {
  it("writes a CA certificate and a private key readable by the owner only, and never overwrites them", async () => {
    const out = join(dir, "ca-cmd");
    const t = testIo();
    expect(await main(["ca", "new", "--out", out], t.io)).toBeUndefined();
    expect(t.out).toEqual([`wrote ${join(out, "ca.pem")}`, `wrote ${join(out, "ca-key.pem")}`]);
    expect(readFileSync(join(out, "ca.pem"), "utf8")).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(statSync(join(out, "ca-key.pem")).mode & 0o777).toBe(0o600);
    await expect(main(["ca", "new", "--out", out], testIo().io)).rejects.toMatchObject({ code: "ERR_USAGE" });
    await expect(main(["ca", "--out", out], testIo().io)).rejects.toMatchObject({ code: "ERR_USAGE" });
  });
});

describe.runIf(hasCurl)("tessera echo --tls", () => {
  it("serves HTTPS with h2 and http/1.1 by ALPN and reports SNI, ALPN, version, cipher, JA3 and JA4", async () => {
    const { port } = await startServer(["echo", "--tls", "--listen", "127.0.0.1:0"]);
    const url = `https://localhost:${port}/hello`;
    const resolve = `localhost:${port}:127.0.0.1`;
    for (const [flag, alpn, version] of [
      ["--http2", "h2", "HTTP/2"],
      ["--http1.1", "http/1.1", "HTTP/1.1"],
    ] as const) {
      const { stdout } = await curl("-k", flag, "--resolve", resolve, url);
      const doc = JSON.parse(stdout) as EchoDocument;
      expect(doc.version).toBe(version);
      expect(doc.tls).toMatchObject({ sni: "localhost", alpn, version: "TLSv1.3" });
      expect(doc.tls!.cipher).toMatch(/^TLS_/);
      expect(doc.tls!.ja3).toMatch(/^771,[\d-]+,[\d-]+,[\d-]*,[\d-]*$/);
      expect(doc.tls!.ja3Hash).toMatch(/^[0-9a-f]{32}$/);
      expect(doc.tls!.ja4).toMatch(
        new RegExp(`^t13d\\d{4}${alpn === "h2" ? "h2" : "h1"}_[0-9a-f]{12}_[0-9a-f]{12}$`),
      );
    }
    // An IP literal: no SNI.
    const { stdout } = await curl("-k", `https://127.0.0.1:${port}/`);
    expect((JSON.parse(stdout) as EchoDocument).tls!.sni).toBeNull();
  });

  it("serves the certificate given with --cert/--key, which a client can verify", async () => {
    const ca = createCertificateAuthority();
    const leaf = certificateIssuer({ ca }).issue("localhost");
    writeFileSync(join(dir, "echo-ca.pem"), ca.cert);
    writeFileSync(join(dir, "echo-cert.pem"), leaf.cert);
    writeFileSync(join(dir, "echo-key.pem"), leaf.key);
    const { port } = await startServer([
      "echo",
      "--tls",
      "--cert",
      join(dir, "echo-cert.pem"),
      "--key",
      join(dir, "echo-key.pem"),
    ]);
    const { stdout } = await curl(
      "--cacert",
      join(dir, "echo-ca.pem"),
      "--resolve",
      `localhost:${port}:127.0.0.1`,
      `https://localhost:${port}/v`,
    );
    expect((JSON.parse(stdout) as EchoDocument).target).toBe("/v");
    await expect(main(["echo", "--cert", "x"], testIo().io)).rejects.toMatchObject({ code: "ERR_USAGE" });
  });
});

describe.runIf(hasCurl)("tessera proxy --mitm", () => {
  // The origin: tessera echo over TLS with a certificate from its own CA, which only the proxy trusts.
  const originCa = createCertificateAuthority({ commonName: "Origin CA" });
  const originLeaf = certificateIssuer({ ca: originCa }).issue("localhost");
  const mitmDir = join(dir, "mitm");

  // The origin (tessera echo --tls with the origin CA's leaf) and a fresh MITM CA; resolves with the origin's port.
  async function startOrigin(): Promise<number> {
    writeFileSync(join(dir, "origin-ca.pem"), originCa.cert);
    writeFileSync(join(dir, "origin-cert.pem"), originLeaf.cert);
    writeFileSync(join(dir, "origin-key.pem"), originLeaf.key);
    rmSync(mitmDir, { recursive: true, force: true });
    await main(["ca", "new", "--out", mitmDir], testIo().io);
    const origin = await startServer([
      "echo",
      "--tls",
      "--cert",
      join(dir, "origin-cert.pem"),
      "--key",
      join(dir, "origin-key.pem"),
    ]);
    return origin.port;
  }

  // tessera proxy --mitm with the MITM CA; resolves with its port.
  async function startMitm(...extra: string[]): Promise<number> {
    const proxy = await startServer([
      "proxy",
      "--mitm",
      "--ca-cert",
      join(mitmDir, "ca.pem"),
      "--ca-key",
      join(mitmDir, "ca-key.pem"),
      ...extra,
    ]);
    return proxy.port;
  }

  async function setup(...extra: string[]) {
    const origin = await startOrigin();
    const proxy = await startMitm("--upstream-ca", join(dir, "origin-ca.pem"), ...extra);
    return { origin, proxy };
  }

  it("terminates the tunnel with an issued certificate and relays HTTP/1.1 and HTTP/2, body intact", async () => {
    const { origin, proxy } = await setup();
    const body = "x".repeat(100_000);
    writeFileSync(join(dir, "body.txt"), body);
    for (const flag of ["--http1.1", "--http2"]) {
      const { stdout, stderr } = await curl(
        "-v",
        flag,
        "--cacert",
        join(mitmDir, "ca.pem"),
        "-x",
        `http://127.0.0.1:${proxy}`,
        "--data-binary",
        `@${join(dir, "body.txt")}`,
        `https://localhost:${origin}/through?q=1`,
      );
      const doc = JSON.parse(stdout) as EchoDocument;
      expect(doc.method).toBe("POST");
      expect(doc.target).toBe("/through?q=1");
      expect(doc.bodySize).toBe(body.length);
      // The origin saw the proxy's own TLS client: h2 by ALPN, SNI localhost.
      expect(doc.version).toBe("HTTP/2");
      expect(doc.tls).toMatchObject({ sni: "localhost", alpn: "h2" });
      // The client saw the MITM CA's certificate, and spoke what it asked for.
      expect(stderr).toMatch(/issuer: O=Tessera; CN=Tessera MITM CA/);
      expect(stderr).toMatch(
        flag === "--http2" ? /ALPN: server accepted h2/ : /ALPN: server accepted http\/1\.1/,
      );
    }
  });

  it("intercepts SOCKS5 CONNECT tunnels on the same port too (socks5h and socks5), body intact", async () => {
    const { origin, proxy } = await setup();
    for (const scheme of ["socks5h", "socks5"]) {
      const { stdout, stderr } = await curl(
        "-v",
        "--cacert",
        join(mitmDir, "ca.pem"),
        "-x",
        `${scheme}://127.0.0.1:${proxy}`,
        "--data-binary",
        "hello through socks",
        `https://localhost:${origin}/socks?q=${scheme}`,
      );
      const doc = JSON.parse(stdout) as EchoDocument;
      expect(doc.target).toBe(`/socks?q=${scheme}`);
      expect(doc.bodySize).toBe("hello through socks".length);
      // Terminated by the proxy (the MITM CA's certificate), relayed over the proxy's own h2 connection.
      expect(stderr).toMatch(/issuer: O=Tessera; CN=Tessera MITM CA/);
      expect(doc.tls).toMatchObject({ sni: "localhost", alpn: "h2" });
    }
  });

  it("passes --no-mitm-for hosts through untouched (the origin's own certificate), over HTTP and SOCKS5", async () => {
    const { origin, proxy } = await setup("--no-mitm-for", "localhost");
    const url = `https://localhost:${origin}/direct`;
    // socks5 (curl resolves the name) and CONNECT to an address (--connect-to) name the host only in the SNI.
    for (const through of [
      ["-x", `http://127.0.0.1:${proxy}`],
      ["-x", `socks5h://127.0.0.1:${proxy}`],
      ["-x", `socks5://127.0.0.1:${proxy}`],
      ["-x", `http://127.0.0.1:${proxy}`, "--connect-to", `localhost:${origin}:127.0.0.1:${origin}`],
    ]) {
      const { stdout } = await curl("--cacert", join(dir, "origin-ca.pem"), ...through, url);
      // The origin itself saw curl's TLS (http/1.1 would mean the proxy's HTTP/1.1 side had terminated it).
      expect((JSON.parse(stdout) as EchoDocument).tls).toMatchObject({ sni: "localhost", alpn: "h2" });
      await expect(curl("--cacert", join(mitmDir, "ca.pem"), ...through, url)).rejects.toThrow();
    }
    // A tunnel to an address without a bypassed SNI (none at all here) is still intercepted.
    const other = await curl(
      "-v",
      "-k",
      "-x",
      `socks5://127.0.0.1:${proxy}`,
      `https://127.0.0.1:${origin}/ip`,
    );
    expect(other.stderr).toMatch(/issuer: O=Tessera; CN=Tessera MITM CA/);
  });

  it("answers 502 inside the tunnel when the origin's certificate is not trusted", async () => {
    const origin = await startOrigin();
    // A proxy trusting nothing but the system roots.
    const strict = await startMitm();
    const { stdout } = await curl(
      "-w",
      "%{http_code}",
      "--cacert",
      join(mitmDir, "ca.pem"),
      "-x",
      `http://127.0.0.1:${strict}`,
      `https://localhost:${origin}/`,
    );
    expect(stdout).toMatch(/Bad Gateway \(ERR_TLS_CERTIFICATE\)\n502$/);
  });

  it("refuses --mitm without a CA, and MITM options without --mitm", async () => {
    await expect(main(["proxy", "--mitm"], testIo().io)).rejects.toMatchObject({ code: "ERR_USAGE" });
    await expect(main(["proxy", "--ca-cert", "x"], testIo().io)).rejects.toMatchObject({ code: "ERR_USAGE" });
    // A file an option names that cannot be read is a usage error naming the option.
    const missing = join(dir, "missing.pem");
    await expect(
      main(["proxy", "--mitm", "--ca-cert", missing, "--ca-key", missing], testIo().io),
    ).rejects.toMatchObject({
      code: "ERR_USAGE",
      message: expect.stringContaining("--ca-cert: cannot read"),
    });
    await expect(
      main(["echo", "--tls", "--cert", missing, "--key", missing], testIo().io),
    ).rejects.toMatchObject({ code: "ERR_USAGE", message: expect.stringContaining("--cert: cannot read") });
  });
});

describe("mitmConnector", () => {
  it("closes a tunnel to an address whose client never sends its ClientHello (--no-mitm-for waits for its SNI)", async () => {
    const mitm: Mitm = {
      issuer: certificateIssuer({ ca: createCertificateAuthority() }),
      client: {} as HttpClient,
      bypass: (host) => host === "localhost",
      logger: pino({ level: "silent" }),
      handshakeTimeoutMs: 100,
    };
    let connects = 0;
    const direct = {
      serve: (_request: ConnectRequest): Promise<Conn> => {
        connects++;
        return Promise.reject(new Error("a silent tunnel is not forwarded"));
      },
    };
    const ours = await mitmConnector(mitm, direct).serve(connectRequest("127.0.0.1:443"));
    const started = Date.now();
    // The SOCKS5 server relays from `ours` to the client: it must see the tunnel end (then so does the client).
    ours.stream.resume();
    await new Promise((resolve) => ours.stream.once("end", resolve));
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(connects).toBe(0);
  }, 5_000);
});
