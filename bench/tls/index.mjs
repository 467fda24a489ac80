// The TLS benches, one after the other: (a) handshakes through tlsAcceptor (with fingerprinting) vs a plain
// node:tls server, per second of server CPU; (b) download throughput through `tessera proxy --mitm` vs a direct
// TLS connection to the same origin. Each prints its own medians and ratios.
await import("./handshakes.mjs");
await import("./mitm.mjs");
