import { X509Certificate } from "node:crypto";
import { getEventListeners, once } from "node:events";
import type { AddressInfo } from "node:net";
import { createServer, type Server, type TLSSocket, type TlsOptions } from "node:tls";
import { Alpn, connectRequest, Sni, tcpConnector } from "@tessera/net";
import { afterEach, describe, expect, it } from "vitest";
import {
  CertificateVerificationError,
  certificateIssuer,
  createCertificateAuthority,
  publicKeyPin,
  selfSignedCertificate,
  TlsConfigError,
  TlsHandshakeTimeoutError,
  TlsSessionKey,
  tlsConnector,
} from "../src/index.js";

const ca = createCertificateAuthority();
const issuer = certificateIssuer({ ca });
const leaf = issuer.issue("localhost");
const ipLeaf = issuer.issue("127.0.0.1");

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

interface Seen {
  servername: string | false | null | undefined;
  alpn: string | false | null | undefined;
}

async function server(options: TlsOptions): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const s = createServer(options, (socket: TLSSocket) => {
    // `servername` is on every server-side TLSSocket, though @types/node leaves it out.
    const servername = (socket as TLSSocket & { servername?: string | false }).servername;
    seen.push({ servername, alpn: socket.alpnProtocol });
    socket.on("error", () => {});
    socket.end(`hello ${socket.alpnProtocol || "none"}`);
  });
  s.on("tlsClientError", () => {});
  servers.push(s);
  s.listen(0, "127.0.0.1");
  await once(s, "listening");
  return { port: (s.address() as AddressInfo).port, seen };
}

async function read(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += chunk;
  return text;
}

describe("tlsConnector against a node:tls server", () => {
  it("verifies with the given CA, sends SNI for a name, negotiates ALPN onto the extensions", async () => {
    const { port, seen } = await server({ ...leaf, ALPNProtocols: ["h2", "http/1.1"] });
    const connector = tlsConnector({ ca: ca.cert, alpn: ["h2", "http/1.1"] }).layer(tcpConnector());
    const conn = await connector.serve(connectRequest(`localhost:${port}`));
    expect(await read(conn.stream)).toBe("hello h2");
    expect(seen[0]).toEqual({ servername: "localhost", alpn: "h2" });
    expect(conn.extensions.get(Alpn)).toBe("h2");
    expect(conn.extensions.get(Sni)).toBe("localhost");
    const session = conn.extensions.get(TlsSessionKey)!;
    expect(session.authorized).toBe(true);
    expect(session.peerCertificate?.subjectAltName).toBe("DNS:localhost");
  });

  it("sends no SNI to an IP literal and checks the certificate's IP SAN instead", async () => {
    const { port, seen } = await server(ipLeaf);
    const conn = await tlsConnector({ ca: ca.cert })
      .layer(tcpConnector())
      .serve(connectRequest(`127.0.0.1:${port}`));
    expect(await read(conn.stream)).toBe("hello none");
    expect(seen[0]!.servername).toBe(false);
    expect(conn.extensions.get(Sni)).toBeUndefined();
    // The name certificate does not cover the IP.
    const named = await server(leaf);
    const wrong = tlsConnector({ ca: ca.cert })
      .layer(tcpConnector())
      .serve(connectRequest(`127.0.0.1:${named.port}`));
    await expect(wrong).rejects.toMatchObject({
      code: CertificateVerificationError.code,
      reason: "ERR_TLS_CERT_ALTNAME_INVALID",
    });
  });

  it("rejects a certificate it cannot verify, by default", async () => {
    const self = selfSignedCertificate({ names: ["localhost"] });
    const { port } = await server(self);
    const plain = tlsConnector()
      .layer(tcpConnector())
      .serve(connectRequest(`localhost:${port}`));
    await expect(plain).rejects.toMatchObject({
      code: "ERR_TLS_CERTIFICATE",
      reason: "DEPTH_ZERO_SELF_SIGNED_CERT",
    });
    const otherCa = tlsConnector({ ca: createCertificateAuthority().cert }).layer(tcpConnector());
    const { port: p2 } = await server(leaf);
    await expect(otherCa.serve(connectRequest(`localhost:${p2}`))).rejects.toBeInstanceOf(
      CertificateVerificationError,
    );
    // ...and accepts it when told to be insecure.
    const insecure = await tlsConnector({ insecure: true })
      .layer(tcpConnector())
      .serve(connectRequest(`localhost:${port}`));
    expect(await read(insecure.stream)).toBe("hello none");
    expect(insecure.extensions.get(TlsSessionKey)!.authorized).toBe(false);
  });

  it("checks public key pins along the chain", async () => {
    const { port } = await server(leaf);
    const caPin = publicKeyPin(new X509Certificate(ca.cert));
    const good = await tlsConnector({ ca: ca.cert, pins: [caPin] })
      .layer(tcpConnector())
      .serve(connectRequest(`localhost:${port}`));
    expect(await read(good.stream)).toBe("hello none");
    const otherPin = publicKeyPin(new X509Certificate(selfSignedCertificate().cert));
    const bad = tlsConnector({ ca: ca.cert, pins: [otherPin] })
      .layer(tcpConnector())
      .serve(connectRequest(`localhost:${port}`));
    await expect(bad).rejects.toMatchObject({ code: "ERR_TLS_CERTIFICATE", reason: "PIN_MISMATCH" });
    expect(() => tlsConnector({ pins: ["md5/abc"] })).toThrow(TlsConfigError);
  });

  it("presents a client certificate to a server that requires one", async () => {
    const { port } = await server({ ...leaf, ca: ca.cert, requestCert: true, rejectUnauthorized: true });
    const client = issuer.issue("client.test");
    const conn = await tlsConnector({ ca: ca.cert, ...client })
      .layer(tcpConnector())
      .serve(connectRequest(`localhost:${port}`));
    expect(await read(conn.stream)).toBe("hello none");
  });

  it("resumes the session on the next connection to the same target", async () => {
    const { port } = await server(leaf);
    const connector = tlsConnector({ ca: ca.cert }).layer(tcpConnector());
    const first = await connector.serve(connectRequest(`localhost:${port}`));
    expect(first.extensions.get(TlsSessionKey)!.resumed).toBe(false);
    await read(first.stream); // the TLS 1.3 ticket arrives after the handshake
    const second = await connector.serve(connectRequest(`localhost:${port}`));
    expect(second.extensions.get(TlsSessionKey)!.resumed).toBe(true);
    await read(second.stream);
    const noCache = tlsConnector({ ca: ca.cert, sessionCacheSize: 0 }).layer(tcpConnector());
    const a = await noCache.serve(connectRequest(`localhost:${port}`));
    await read(a.stream);
    const b = await noCache.serve(connectRequest(`localhost:${port}`));
    expect(b.extensions.get(TlsSessionKey)!.resumed).toBe(false);
    await read(b.stream);
  });

  it("sends the serverName option instead of the host, and no SNI with serverName: false", async () => {
    const { port, seen } = await server(leaf);
    const connector = (serverName: string | false) =>
      tlsConnector({ insecure: true, serverName }).layer(tcpConnector());
    const named = await connector("other.test").serve(connectRequest(`localhost:${port}`));
    expect(await read(named.stream)).toBe("hello none");
    expect(named.extensions.get(Sni)).toBe("other.test");
    const none = await connector(false).serve(connectRequest(`localhost:${port}`));
    expect(await read(none.stream)).toBe("hello none");
    expect(none.extensions.get(Sni)).toBeUndefined();
    expect(seen.map((s) => s.servername)).toEqual(["other.test", false]);
  });

  it("sends a fully qualified name without its trailing dot", async () => {
    const { port, seen } = await server(leaf);
    // The name is not resolved here (the resolver may not know "localhost."): the inner connector dials 127.0.0.1.
    const toLoopback = { serve: () => tcpConnector().serve(connectRequest(`127.0.0.1:${port}`)) };
    const conn = await tlsConnector({ ca: ca.cert })
      .layer(toLoopback)
      .serve(connectRequest(`localhost.:${port}`));
    expect(await read(conn.stream)).toBe("hello none");
    expect(seen[0]!.servername).toBe("localhost");
  });

  it("stops the handshake when the request's signal aborts, with its reason", async () => {
    const net = await import("node:net");
    const { appendSignal, Extensions } = await import("@tessera/core");
    const sockets: import("node:net").Socket[] = [];
    const silent = net.createServer((s) => {
      s.on("error", () => {});
      s.resume(); // read (and drop) the hello, so the end of the connection is seen
      sockets.push(s);
    });
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const port = (silent.address() as AddressInfo).port;
    try {
      const controller = new AbortController();
      const reason = new Error("caller gave up");
      const attempt = tlsConnector({ handshakeTimeout: 600_000 })
        .layer(tcpConnector())
        .serve(connectRequest(`127.0.0.1:${port}`, appendSignal(new Extensions(), controller.signal)));
      while (sockets.length === 0) await new Promise((r) => setTimeout(r, 5));
      controller.abort(reason);
      await expect(attempt).rejects.toBe(reason);
      // The connection is closed: the server sees its end.
      await new Promise((r) => (sockets[0]!.destroyed ? r(undefined) : sockets[0]!.once("close", r)));
    } finally {
      silent.close();
    }
  });

  it("adds no listener to the shared never-aborting signal while handshakes without a signal are in flight", async () => {
    const { neverAborts } = await import("@tessera/core");
    const { memoryConnPair } = await import("@tessera/net");
    // An inner connector whose far ends never answer: the handshakes stay in flight until those ends close.
    const far: import("node:stream").Duplex[] = [];
    const hellos: Promise<unknown>[] = [];
    const inner = {
      serve: async () => {
        const [client, server] = memoryConnPair();
        server.stream.on("error", () => {});
        far.push(server.stream);
        hellos.push(once(server.stream, "data"));
        return client;
      },
    };
    const connector = tlsConnector({ handshakeTimeout: 600_000 }).layer(inner);
    const attempts = Array.from({ length: 20 }, () => connector.serve(connectRequest("localhost:443")));
    await Promise.all(hellos); // every ClientHello is out: all twenty handshakes are waiting
    expect(getEventListeners(neverAborts(), "abort")).toHaveLength(0);
    for (const stream of far) stream.destroy();
    const outcomes = await Promise.allSettled(attempts);
    expect(outcomes.every((o) => o.status === "rejected")).toBe(true);
  });

  it("times out a server that never answers the hello", async () => {
    const net = await import("node:net");
    const silent = net.createServer((s) => s.on("error", () => {}));
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const port = (silent.address() as AddressInfo).port;
    try {
      const attempt = tlsConnector({ handshakeTimeout: 150 })
        .layer(tcpConnector())
        .serve(connectRequest(`localhost:${port}`));
      await expect(attempt).rejects.toBeInstanceOf(TlsHandshakeTimeoutError);
    } finally {
      silent.close();
      for (const s of [silent]) s.unref();
    }
  });
});
