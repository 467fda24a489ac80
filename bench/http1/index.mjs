// The HTTP/1.1 benches, one after the other: (a) our server vs node:http under the same load generator, with
// memory per idle keep-alive connection; (b) our client vs undici's request against the same server.
// Each part prints its own table of medians and ratios.
await import("./server.mjs");
await import("./client.mjs");
