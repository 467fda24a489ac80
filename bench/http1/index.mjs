// The HTTP/1.1 benches: each part prints its own table.
await import("./client.mjs");
