// The HTTP/2 benches, one after the other: (a) our server vs a node:http2 server under the same h2load run;
// (b) our client vs undici's HTTP/2 client against the same node:http2 server. Each prints its own medians and
// ratios.
await import("./server.mjs");
await import("./client.mjs");
