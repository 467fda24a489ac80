// HTTP/2 client throughput: @tessera/http's httpClient over @tessera/http2's clientConnection (h2c, prior
// knowledge) against undici's H2CClient (undici's HTTP/2 client, what a Node user would otherwise pick) and
// node:http2's own client session, against
// the SAME server: a node:http2 server (core stream API) in a child process pinned to CPU 0 when taskset exists
// (the clients run on CPU 1). Each client keeps CONCURRENCY requests in flight on ONE connection (multiplexed
// streams) and reads every body; rounds alternate which goes first; medians and the ratio are printed.
// Uses the BUILT packages (npm run bench builds them).
// Options: --seconds=S per round (default 3), --rounds=N (default 5), --concurrency=N (default 100).
import { spawn, spawnSync } from "node:child_process";
import { connect as http2Connect } from "node:http2";
import { httpClient } from "@tessera/http";
import { clientConnection } from "@tessera/http2";
import { H2CClient } from "undici";
import { arg, median, onExit, printTable } from "../lib.mjs";

const SECONDS = Number(arg("seconds", 3));
const ROUNDS = Number(arg("rounds", 5));
const CONCURRENCY = Number(arg("concurrency", 100));

const pinned = spawnSync("taskset", ["-c", "1", "true"]).status === 0;
if (pinned) spawnSync("taskset", ["-p", "-c", "1", String(process.pid)], { stdio: "ignore" });

function startServer() {
  const code = `
    const http2 = require("node:http2");
    const body = Buffer.from("hello from node:http2\\n");
    const s = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
    s.on("stream", (stream) => {
      stream.on("error", () => {});
      stream.respond({ ":status": 200, "content-type": "text/plain", "content-length": body.length });
      stream.end(body);
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
const expected = "hello from node:http2\n";

const tessera = httpClient({
  http1: () => {
    throw new Error("HTTP/1 not expected");
  },
  http2: clientConnection,
  http2PriorKnowledge: true,
});
const undici = new H2CClient(url, { maxConcurrentStreams: CONCURRENCY, pipelining: CONCURRENCY });

const session = http2Connect(url);
await new Promise((resolve, reject) => session.once("connect", resolve).once("error", reject));

/** One GET on node's own client session (core API), body read as text. */
function nodeGet() {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":path": "/" });
    let text = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      text += chunk;
    });
    stream.on("end", () => (text === expected ? resolve() : reject(new Error("unexpected body"))));
    stream.on("error", reject);
  });
}

const clients = {
  "node:http2 client": nodeGet,
  "undici H2CClient": async () => {
    const res = await undici.request({ path: "/", method: "GET" });
    if ((await res.body.text()) !== expected) throw new Error("unexpected body");
  },
  "tessera httpClient (h2c)": async () => {
    const res = await tessera.get(url);
    if ((await res.body.text()) !== expected) throw new Error("unexpected body");
  },
};

const results = Object.fromEntries(Object.keys(clients).map((name) => [name, []]));
for (const once of Object.values(clients)) await load(once); // warm-up (connection, JIT)
for (let round = 0; round < ROUNDS; round++) {
  const names = Object.keys(clients);
  if (round % 2 === 1) names.reverse();
  for (const name of names) results[name].push(await load(clients[name]));
}
const connections = tessera.stats().connections;
await tessera.close();
await undici.close();
session.close();
server.stop();

printTable(
  `http2 client: ${CONCURRENCY} streams in flight on one h2c connection, ${SECONDS} s x ${ROUNDS} rounds, ` +
    `node:http2 server${pinned ? " (server on CPU 0, client on CPU 1)" : " (not pinned: taskset missing)"}, median req/s`,
  Object.entries(results).map(([name, v]) => ({ name, value: median(v), unit: "req/s" })),
  "undici H2CClient",
);
console.log(
  `  per round: ${Object.entries(results)
    .map(([name, v]) => `${name} [${v.map((x) => Math.round(x)).join(", ")}]`)
    .join("; ")}`,
);
console.log(`  tessera used ${connections} connection(s)`);
