// Microbench of what the TLS acceptor does in JavaScript per connection before node:tls takes over: reading the
// ClientHello (readClientHello) and computing JA3 and JA4 from it, on a real node:tls ClientHello captured over
// loopback. Microseconds per call, hot loop (the in-server cost is higher: the handshake's crypto evicts these
// functions from the caches between connections; bench/tls/handshakes.mjs measures that).
//
// Uses the BUILT package. Options: --iterations=N (default 100000).
import net from "node:net";
import tls from "node:tls";
import { ja3, ja4, readClientHello } from "@tessera/tls";
import { arg } from "../lib.mjs";

const iterations = Number(arg("iterations", 100_000));

// The first bytes a node:tls client sends (SNI and ALPN as in handshakes.mjs).
const bytes = await new Promise((resolve, reject) => {
  const server = net.createServer((socket) => {
    socket.once("data", (chunk) => {
      socket.destroy();
      server.close();
      resolve(chunk);
    });
  });
  server.listen(0, "127.0.0.1", () => {
    const client = tls.connect({
      port: server.address().port,
      host: "127.0.0.1",
      servername: "localhost",
      rejectUnauthorized: false,
      ALPNProtocols: ["h2", "http/1.1"],
    });
    client.on("error", () => {});
  });
  server.on("error", reject);
});

function time(name, fn) {
  for (let i = 0; i < iterations / 10; i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const us = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  console.log(`  ${name.padEnd(28)} ${us.toFixed(2).padStart(7)} us`);
}

const read = readClientHello(bytes);
if (read.status !== "complete") throw new Error("the captured ClientHello is incomplete");
const hello = read.hello;
console.log(`ClientHello of ${bytes.length} bytes, ${iterations} iterations, microseconds per call`);
time("readClientHello", () => readClientHello(bytes));
time("ja3", () => ja3(hello));
time("ja4", () => ja4(hello));
time("read + ja3 + ja4", () => {
  const h = readClientHello(bytes);
  if (h.status === "complete") {
    ja3(h.hello);
    ja4(h.hello);
  }
});
