import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import type { Extensions, Service } from "@tessera/core";
import { Alpn, type Conn, Sni } from "@tessera/net";
import { describe, expect, it } from "vitest";
import {
  ClientHelloError,
  ClientHelloKey,
  certificateIssuer,
  createCertificateAuthority,
  Fingerprints,
  NoCertificateError,
  selfSignedCertificate,
  sniRouter,
  TlsHandshakeError,
  TlsHandshakeTimeoutError,
  TlsSessionKey,
  tlsAcceptor,
} from "../src/index.js";
import { ext, helloMessage, records } from "./support/hello-builder.js";
import { echo, readAll, serveInMemory, tlsClient } from "./support/tls-helpers.js";

const site = selfSignedCertificate({ names: ["example.com", "localhost"] });

function recording(seen: Extensions[]): Service<Conn, void> {
  return {
    serve(conn) {
      seen.push(conn.extensions);
      return echo.serve(conn);
    },
  };
}

async function roundTrip(socket: import("node:tls").TLSSocket, text: string): Promise<string> {
  socket.write(text);
  const [chunk] = (await once(socket, "data")) as [Buffer];
  return chunk.toString();
}

describe("tlsAcceptor", () => {
  it("records the hello, fingerprints, SNI and what was negotiated, then serves the decrypted stream", async () => {
    const seen: Extensions[] = [];
    const service = tlsAcceptor({ config: { ...site, alpn: ["h2", "http/1.1"] } }).layer(recording(seen));
    const { client, served } = serveInMemory(service);
    const socket = await tlsClient(client, {
      servername: "example.com",
      ALPNProtocols: ["http/1.1", "h2"],
      ca: site.cert,
    });
    expect(socket.alpnProtocol).toBe("h2"); // the server's preference wins
    expect(await roundTrip(socket, "ping")).toBe("ping");
    const ext = seen[0]!;
    expect(ext.get(Sni)).toBe("example.com");
    expect(ext.get(Alpn)).toBe("h2");
    const hello = ext.get(ClientHelloKey)!;
    expect(hello.alpn).toEqual(["http/1.1", "h2"]);
    expect(hello.supportedVersions).toContain(0x0304);
    const fp = ext.get(Fingerprints)!;
    expect(fp.ja3.string.startsWith("771,")).toBe(true);
    expect(fp.ja3.hash).toMatch(/^[0-9a-f]{32}$/);
    expect(fp.ja4.fingerprint).toMatch(/^t13d\d{4}h1_[0-9a-f]{12}_[0-9a-f]{12}$/);
    const session = ext.get(TlsSessionKey)!;
    expect(session.version).toBe("TLSv1.3");
    expect(session.cipher).toMatch(/^TLS_/);
    expect(session.serverName).toBe("example.com");
    expect(session.peerCertificate).toBeUndefined();
    socket.end();
    await served;
  });

  it("offers no fingerprints with fingerprint: false, and still records the hello", async () => {
    const seen: Extensions[] = [];
    const { client } = serveInMemory(
      tlsAcceptor({ config: site, fingerprint: false }).layer(recording(seen)),
    );
    const socket = await tlsClient(client, { servername: "localhost", ca: site.cert });
    expect(await roundTrip(socket, "f")).toBe("f");
    expect(seen[0]!.get(Fingerprints)).toBeUndefined();
    expect(seen[0]!.get(ClientHelloKey)!.serverName).toBe("localhost");
    socket.destroy();
  });

  it("replays a ClientHello that arrives one byte at a time", async () => {
    const { client, served } = serveInMemory(tlsAcceptor({ config: site }).layer(echo));
    // A pass-through that writes every byte separately in front of the real client.
    const { memoryPair } = await import("@tessera/net");
    const [front, back] = memoryPair();
    front.on("error", () => {});
    back.on("error", () => {});
    back.on("data", (chunk: Buffer) => {
      for (const byte of chunk) client.write(Buffer.from([byte]));
    });
    client.on("data", (chunk: Buffer) => back.write(chunk));
    const socket = await tlsClient(front, { servername: "localhost", ca: site.cert });
    expect(await roundTrip(socket, "slow")).toBe("slow");
    socket.destroy();
    client.destroy();
    await served.catch(() => {});
  });

  it("chooses the certificate by SNI: exact, wildcard, default; unknown name without default is refused", async () => {
    const ca = createCertificateAuthority();
    const issuer = certificateIssuer({ ca });
    const exact = { ...issuer.issue("api.example.com") };
    const wild = { ...issuer.issue("*.example.com") };
    const fallback = { ...issuer.issue("default.test") };
    const names = async (config: Parameters<typeof tlsAcceptor>[0]["config"], sni: string) => {
      const { client } = serveInMemory(tlsAcceptor({ config }).layer(echo));
      const socket = await tlsClient(client, {
        servername: sni,
        ca: ca.cert,
        checkServerIdentity: () => undefined,
      });
      const san = socket.getPeerX509Certificate()!.subjectAltName;
      socket.destroy();
      return san;
    };
    const router = sniRouter({ "api.example.com": exact, "*.example.com": wild }, fallback);
    expect(await names(router, "API.example.com")).toBe("DNS:api.example.com");
    expect(await names(router, "www.example.com")).toBe("DNS:*.example.com");
    expect(await names(router, "a.b.example.com")).toBe("DNS:default.test");
    expect(await names(router, "other.test")).toBe("DNS:default.test");

    const strict = sniRouter({ "api.example.com": exact });
    const { client, served } = serveInMemory(tlsAcceptor({ config: strict }).layer(echo));
    const failed = tlsClient(client, { servername: "nope.test", ca: ca.cert });
    await expect(failed).rejects.toThrow(/unrecognized name/i);
    await expect(served).rejects.toBeInstanceOf(NoCertificateError);
  });

  it("refuses a client whose ALPN offers share nothing with the server's (no_application_protocol)", async () => {
    const { client, served } = serveInMemory(tlsAcceptor({ config: { ...site, alpn: ["h2"] } }).layer(echo));
    await expect(
      tlsClient(client, { servername: "localhost", ca: site.cert, ALPNProtocols: ["spdy/3"] }),
    ).rejects.toThrow(/no application protocol/i);
    await expect(served).rejects.toBeInstanceOf(TlsHandshakeError);
  });

  it("negotiates nothing with a client that offers no ALPN", async () => {
    const seen: Extensions[] = [];
    const { client } = serveInMemory(
      tlsAcceptor({ config: { ...site, alpn: ["h2"] } }).layer(recording(seen)),
    );
    const socket = await tlsClient(client, { servername: "localhost", ca: site.cert });
    expect(await roundTrip(socket, "x")).toBe("x");
    expect(socket.alpnProtocol).toBe(false);
    expect(seen[0]!.get(Alpn)).toBeUndefined();
    socket.destroy();
  });

  describe("client certificates (mTLS)", () => {
    const ca = createCertificateAuthority();
    const clientCert = certificateIssuer({ ca }).issue("client.test");
    const config = { ...site, clientAuth: { ca: ca.cert } };

    it("accepts a client with a certificate from the CA and records it", async () => {
      const seen: Extensions[] = [];
      const { client } = serveInMemory(tlsAcceptor({ config }).layer(recording(seen)));
      const socket = await tlsClient(client, { servername: "localhost", ca: site.cert, ...clientCert });
      expect(await roundTrip(socket, "m")).toBe("m");
      const session = seen[0]!.get(TlsSessionKey)!;
      expect(session.authorized).toBe(true);
      expect(session.peerCertificate).toBeInstanceOf(X509Certificate);
      expect(session.peerCertificate!.subjectAltName).toBe("DNS:client.test");
      socket.destroy();
    });

    // TLS 1.3: the client learns of a refusal after its Finished, so its side may look done; the server's
    // verdict is what counts, and the client's first read must fail.
    async function refused(options: import("node:tls").ConnectionOptions): Promise<void> {
      const { client, served } = serveInMemory(tlsAcceptor({ config }).layer(echo));
      const outcome = tlsClient(client, { servername: "localhost", ca: site.cert, ...options }).then(
        async (s) => {
          s.write("x");
          return new Promise<string>((resolve) => {
            s.on("data", () => resolve("served"));
            s.on("error", (e) => resolve(e.message));
            s.on("end", () => resolve("ended"));
            s.on("close", () => resolve("closed"));
          });
        },
        (e: Error) => e.message,
      );
      await expect(served).rejects.toBeInstanceOf(TlsHandshakeError);
      expect(await outcome).not.toBe("served");
    }

    it("refuses a client without a certificate", async () => {
      await refused({});
    });

    it("refuses a client whose certificate comes from another CA", async () => {
      const stranger = certificateIssuer({ ca: createCertificateAuthority() }).issue("client.test");
      await refused(stranger);
    });

    it("records the absence of a certificate when it is optional", async () => {
      const seen: Extensions[] = [];
      const optional = { ...site, clientAuth: { ca: ca.cert, required: false } };
      const second = serveInMemory(tlsAcceptor({ config: optional }).layer(recording(seen)));
      const s2 = await tlsClient(second.client, { servername: "localhost", ca: site.cert });
      expect(await roundTrip(s2, "o")).toBe("o");
      expect(seen[0]!.get(TlsSessionKey)!.authorized).toBe(false);
      expect(seen[0]!.get(TlsSessionKey)!.peerCertificate).toBeUndefined();
      s2.destroy();
    });
  });

  it("reads many ClientHellos at once without a listener-leak warning", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const acceptor = tlsAcceptor({ config: site }).layer(echo);
      const pending = Array.from({ length: 30 }, () => serveInMemory(acceptor));
      for (const { client } of pending) client.write(Buffer.from([22, 3, 1, 0, 200, 1]));
      await new Promise((r) => setTimeout(r, 50));
      for (const { client } of pending) client.destroy();
      await Promise.all(pending.map((p) => p.served.catch(() => {})));
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  describe("bad input", () => {
    it("closes a connection that speaks plain HTTP, sending nothing, with ClientHelloError not-tls", async () => {
      const { client, served } = serveInMemory(tlsAcceptor({ config: site }).layer(echo));
      const answer = readAll(client);
      client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await expect(served).rejects.toMatchObject({ code: ClientHelloError.code, reason: "not-tls" });
      expect((await answer).length).toBe(0);
    });

    it("answers a malformed hello with a decode_error alert and closes", async () => {
      const { client, served } = serveInMemory(tlsAcceptor({ config: site }).layer(echo));
      const answer = readAll(client);
      client.write(records(helloMessage({ extensions: [ext.sni("a"), ext.sni("a")] })));
      await expect(served).rejects.toMatchObject({ reason: "malformed" });
      expect((await answer).toString("hex")).toBe("15030100020232");
    });

    it("refuses an oversized hello without waiting for all of it", async () => {
      const { client, served } = serveInMemory(
        tlsAcceptor({ config: site, maxClientHelloBytes: 1024 }).layer(echo),
      );
      client.write(Buffer.from([22, 3, 1, 0x10, 0, 1, 0, 0x20, 0]));
      await expect(served).rejects.toMatchObject({ reason: "too-large" });
    });

    it("reports a hello cut short by the peer as truncated", async () => {
      const { client, served } = serveInMemory(tlsAcceptor({ config: site }).layer(echo));
      client.end(records(helloMessage({ extensions: [ext.sni("a.test")] })).subarray(0, 30));
      await expect(served).rejects.toMatchObject({ reason: "truncated" });
    });

    it("times out a client that stops mid-hello, and closes its connection", async () => {
      const { client, served } = serveInMemory(
        tlsAcceptor({ config: site, handshakeTimeout: 150 }).layer(echo),
      );
      const closed = readAll(client);
      client.write(Buffer.from([22, 3, 1, 0, 200, 1]));
      await expect(served).rejects.toBeInstanceOf(TlsHandshakeTimeoutError);
      // Resolves only once the server ends or closes the connection; a half-sent hello gets no alert.
      expect((await closed).length).toBe(0);
    });

    it("fails at once, not at the timeout, when the peer half-closes mid-handshake", async () => {
      // A timeout far beyond the test's own: only noticing the half-close can settle this in time.
      const { client, served } = serveInMemory(
        tlsAcceptor({ config: site, handshakeTimeout: 600_000 }).layer(echo),
      );
      const { connect } = await import("node:tls");
      const { Duplex, PassThrough, Writable } = await import("node:stream");
      // The real client's hello goes out, then this side ends its half: no Finished will come.
      const writable = new Writable({
        write(chunk, _encoding, callback) {
          client.end(chunk);
          callback();
        },
      });
      const stalled = connect({
        socket: Duplex.from({ readable: new PassThrough(), writable }),
        rejectUnauthorized: false,
      });
      stalled.on("error", () => {});
      const error = await served.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TlsHandshakeError);
      expect(error).not.toBeInstanceOf(TlsHandshakeTimeoutError);
      stalled.destroy();
    });

    it("times out a configuration function that never answers, and closes the connection", async () => {
      const { client, served } = serveInMemory(
        tlsAcceptor({ config: () => new Promise(() => {}), handshakeTimeout: 150 }).layer(echo),
      );
      const closed = readAll(client);
      const stalled = tlsClient(client, { servername: "localhost", ca: site.cert });
      stalled.catch(() => {});
      const error = await Promise.race([
        served.then(
          () => "served",
          (e: unknown) => e,
        ),
        new Promise((r) => setTimeout(r, 2000, "still waiting")),
      ]);
      expect(error).toBeInstanceOf(TlsHandshakeTimeoutError);
      await closed;
      await expect(stalled).rejects.toThrow();
    });

    it("times out a handshake that stalls after the hello", async () => {
      const { client, served } = serveInMemory(
        tlsAcceptor({ config: site, handshakeTimeout: 200 }).layer(echo),
      );
      // A real hello, then silence: the server answers and waits for the client's Finished.
      const { connect } = await import("node:tls");
      const { PassThrough, Duplex } = await import("node:stream");
      const sink = new PassThrough();
      const tap = Duplex.from({ readable: sink, writable: client });
      const stalled = connect({ socket: tap, servername: "localhost", rejectUnauthorized: false });
      stalled.on("error", () => {});
      await expect(served).rejects.toBeInstanceOf(TlsHandshakeTimeoutError);
      stalled.destroy();
    });
  });
});
