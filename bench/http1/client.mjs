// HTTP/1.1 client throughput: @tessera/http's httpClient over @tessera/http1's clientConnection against undici's
// `request` (what a Node user would otherwise pick; ~31k req/s against nginx here, node:http's keep-alive agent
// ~23k), against the SAME server: a node:http keep-alive server in a child process, pinned to CPU 0 with taskset
// when available (the client runs on CPU 1). Both clients keep CONCURRENCY requests in flight over the same number
// of keep-alive connections and read every body; rounds alternate between them; medians and the ratio are printed.
// Uses the BUILT packages:
//   (cd packages/http && pnpm run build) && (cd packages/http1 && pnpm run build) && node bench/http1/client.mjs
// Options: --seconds=S per round (default 3), --rounds=N (default 5), --concurrency=N (default 50).
import { spawn, spawnSync } from "node:child_process";
import { httpClient } from "@tessera/http";
import { clientConnection } from "@tessera/http1";
import { Agent, request as undiciRequest } from "undici";
import { arg, median, onExit, printTable } from "../lib.mjs";

const SECONDS = arg("seconds", 3);
const ROUNDS = arg("rounds", 5);
const CONCURRENCY = arg("concurrency", 50);

const pinned = spawnSync("taskset", ["-c", "1", "true"]).status === 0;
if (pinned) spawnSync("taskset", ["-p", "-c", "1", String(process.pid)], { stdio: "ignore" });

/** A node:http server answering a small body with Content-Length, keep-alive, in its own (pinned) process. */
function startServer() {
  const code = `
    const http = require("node:http");
    const body = Buffer.from("hello from node:http\\n");
    const s = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": body.length });
      res.end(body);
    });
    s.listen(0, "127.0.0.1", () => process.send(s.address().port));
    process.on("disconnect", () => process.exit(0));`;
  const argv = ["-e", code];
  const child = pinned
    ? spawn("taskset", ["-c", "0", process.execPath, ...argv], {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      })
    : spawn(process.execPath, argv, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  onExit(() => child.kill("SIGTERM"));
  return new Promise((resolve) =>
    child.once("message", (port) => resolve({ port, stop: () => child.kill("SIGTERM") })),
  );
}

/** Keep CONCURRENCY calls of `once()` in flight for SECONDS; returns requests per second. */
async function load(once) {
  let done = 0;
  let failed = 0;
  const until = performance.now() + SECONDS * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      try {
        await once();
        done++;
      } catch (error) {
        if (failed++ === 0) console.error("request failed:", error);
      }
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - start) / 1000;
  if (failed > 0) throw new Error(`${failed} requests failed`);
  return done / seconds;
}

const server = await startServer();
const url = `http://127.0.0.1:${server.port}/`;
const expected = "hello from node:http\n";

const tessera = httpClient({ http1: clientConnection, pool: { maxConnectionsPerAuthority: CONCURRENCY } });
const agent = new Agent({ connections: CONCURRENCY, pipelining: 1 });

const clients = {
  "undici request": async () => {
    const res = await undiciRequest(url, { dispatcher: agent });
    if ((await res.body.text()) !== expected) throw new Error("unexpected body");
  },
  "tessera httpClient": async () => {
    const res = await tessera.get(url);
    if ((await res.body.text()) !== expected) throw new Error("unexpected body");
  },
};

const results = Object.fromEntries(Object.keys(clients).map((name) => [name, []]));
for (const once of Object.values(clients)) await load(once); // warm-up (connections, JIT)
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which client goes first, so drift on the machine hits both alike.
  const names = Object.keys(clients);
  if (round % 2 === 1) names.reverse();
  for (const name of names) results[name].push(await load(clients[name]));
}
const connections = tessera.stats().connections;
await tessera.close();
await agent.close();
server.stop();

printTable(
  `http1 client: ${CONCURRENCY} in flight, keep-alive, ${SECONDS} s x ${ROUNDS} rounds, node:http server` +
    `${pinned ? " (server on CPU 0, client on CPU 1)" : " (not pinned: taskset missing)"}, median req/s`,
  Object.entries(results).map(([name, v]) => ({ name, value: median(v), unit: "req/s" })),
  "undici request",
);
console.log(
  `  per round: ${Object.entries(results)
    .map(([name, v]) => `${name} [${v.map((x) => Math.round(x)).join(", ")}]`)
    .join("; ")}`,
);
console.log(`  tessera used ${connections} connections (undici: up to ${CONCURRENCY})`);
