import type { Extensions } from "@tessera/core";
import { connectRequest, type Listener, listen, tcpConnector } from "@tessera/net";
import { afterEach, expect, it } from "vitest";
import { selfSignedCertificate, TlsSessionKey, tlsAcceptor, tlsConnector } from "../src/index.js";

const listeners: Listener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close({ timeout: 1000 })));
});

it("delivers everything the service wrote before it returned, over a listener that then ends the socket", async () => {
  const site = selfSignedCertificate({ names: ["localhost"] });
  const big = Buffer.alloc(4 * 1024 * 1024, 7);
  const app = {
    async serve(conn: { stream: NodeJS.WritableStream }) {
      conn.stream.end(big); // and return at once, long before the bytes are out
    },
  };
  const listener = await listen(
    { host: "127.0.0.1", port: 0 },
    tlsAcceptor({ config: site }).layer(app as never),
  );
  listeners.push(listener);
  const conn = await tlsConnector({ ca: site.cert })
    .layer(tcpConnector())
    .serve(connectRequest(`localhost:${listener.address.port}`));
  let received = 0;
  for await (const chunk of conn.stream) received += (chunk as Buffer).length;
  expect(received).toBe(big.length);
});

it("resumes a TLS 1.3 session between tlsConnector and tlsAcceptor, and both sides say so", async () => {
  const site = selfSignedCertificate({ names: ["localhost"] });
  const seen: Extensions[] = [];
  const app = {
    async serve(conn: { stream: NodeJS.WritableStream; extensions: Extensions }) {
      seen.push(conn.extensions);
      conn.stream.end("bye");
    },
  };
  const listener = await listen(
    { host: "127.0.0.1", port: 0 },
    tlsAcceptor({ config: site }).layer(app as never),
  );
  listeners.push(listener);
  const connector = tlsConnector({ ca: site.cert }).layer(tcpConnector());
  const results: boolean[] = [];
  for (let i = 0; i < 2; i++) {
    const conn = await connector.serve(connectRequest(`localhost:${listener.address.port}`));
    results.push(conn.extensions.get(TlsSessionKey)!.resumed);
    // Read to the end: the session ticket arrives after the handshake.
    for await (const _ of conn.stream) void _;
  }
  expect(results).toEqual([false, true]);
  expect(seen.map((e) => e.get(TlsSessionKey)!.resumed)).toEqual([false, true]);
});
