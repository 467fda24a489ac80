// HTTP/1.1 server: @tessera/http1's server against node:http (what a Node user would otherwise pick), both
// serving the same small response ("Hello, World!", text/plain, Content-Length) in their own child process.
//
// 1. Throughput: the same load generator (wrk when installed, else autocannon) with the same connection count,
//    keep-alive, against each server in turn; the server pinned to CPU 0 and the load to CPU 1 with taskset when
//    available; rounds alternate which server goes first; medians and the ratio are printed.
// 2. Memory per idle keep-alive connection: N connections, each having made one request, are held open against
//    a fresh server process; the server's RSS growth (after GC) divided by N, for each server, and the ratio.
//
// Uses the BUILT packages:
//   (cd packages/core && pnpm run build) && ... (net, http, http1) && node bench/http1/server.mjs
// Options: --seconds=S per round (default 3), --rounds=N (default 7), --connections=N (default 50),
//          --idle=N idle connections for the memory part (default 2000), --trials=N (default 5),
//          --handler=service|constant|both (default both), --only=throughput|memory, --warmup=N connections
//          before measuring (50). The memory part measures the `service` server (or `constant` if only that).
//
// Two tessera handlers can be measured: `service` (default: `service(() => Response.text(BODY))`, a new Response
// per request through the Service promise, what an application writes) and `constant` (one prebuilt Response
// returned synchronously from `serve`, the server's fast path with no microtask).
import { spawn, spawnSync } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { arg, median, onExit, printTable } from "../lib.mjs";

const self = fileURLToPath(import.meta.url);
const BODY = "Hello, World!";
let hasWrk = false;
const WARMUP_CONNECTIONS = Number(arg("warmup", 50));

// ---------------------------------------------------------------------------------------------------------
// Child mode: one server, its port sent to the parent; answers "rss" with its RSS after a full GC, and "cpu" with
// the CPU time it has used.

async function serveChild(kind) {
  let port;
  if (kind === "node") {
    const http = await import("node:http");
    const body = Buffer.from(BODY);
    const s = http.createServer({ keepAliveTimeout: 600_000 }, (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": body.length });
      res.end(body);
    });
    await new Promise((resolve) => s.listen(0, "127.0.0.1", resolve));
    port = s.address().port;
  } else {
    const { service } = await import("@tessera/core");
    const { Body, HeaderMap, Response } = await import("@tessera/http");
    const { server } = await import("@tessera/http1");
    const { listen } = await import("@tessera/net");
    let handler;
    if (kind === "tessera-constant") {
      const res = new Response(
        200,
        HeaderMap.fromPairs([["Content-Type", "text/plain"]]),
        Body.fromText(BODY),
      );
      handler = { serve: () => res };
    } else {
      handler = service(() => Response.text(BODY)); // Content-Type: text/plain; charset=utf-8
    }
    const listener = await listen(
      { host: "127.0.0.1", port: 0 },
      server(handler, { idleTimeout: 600_000, headerTimeout: 600_000 }),
    );
    port = listener.address.port;
  }
  process.send({ port });
  process.on("message", (message) => {
    if (message === "cpu") {
      const { user, system } = process.cpuUsage();
      process.send({ cpu: user + system });
      return;
    }
    if (message !== "rss") return;
    globalThis.gc?.();
    setTimeout(() => {
      globalThis.gc?.();
      process.send({ rss: process.memoryUsage().rss });
    }, 200);
  });
  process.on("disconnect", () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------------------
// Parent mode.

function startServer(kind, cpu) {
  const argv = ["--expose-gc", self, `--serve=${kind}`];
  const proc =
    cpu !== undefined
      ? spawn("taskset", ["-c", String(cpu), process.execPath, ...argv], {
          stdio: ["ignore", "inherit", "inherit", "ipc"],
        })
      : spawn(process.execPath, argv, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  onExit(() => proc.kill("SIGTERM"));
  const next = () => new Promise((resolve) => proc.once("message", resolve));
  return next().then(({ port }) => ({
    port,
    cpu: async () => {
      proc.send("cpu");
      return (await next()).cpu;
    },
    rss: async () => {
      proc.send("rss");
      return (await next()).rss;
    },
    stop: () =>
      new Promise((resolve) => {
        proc.once("exit", resolve);
        proc.kill("SIGTERM");
      }),
  }));
}

/** wrk if installed (pinned to `cpu`), else autocannon in this process; returns req/s. */
async function load(port, seconds, connections, cpu) {
  const url = `http://127.0.0.1:${port}/`;
  if (hasWrk) {
    const wrk = ["-t1", `-c${connections}`, `-d${seconds}s`, url];
    const r =
      cpu !== undefined
        ? spawnSync("taskset", ["-c", String(cpu), "wrk", ...wrk], { encoding: "utf8" })
        : spawnSync("wrk", wrk, { encoding: "utf8" });
    const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
    const total = /(\d+) requests in/.exec(r.stdout);
    if (!m || !total) throw new Error(`wrk said: ${r.stdout}${r.stderr}`);
    if (/Non-2xx|Socket errors/.test(r.stdout)) console.error(`  wrk reported errors:\n${r.stdout}`);
    return { rps: Number(m[1]), requests: Number(total[1]) };
  }
  const { default: autocannon } = await import("autocannon");
  const result = await autocannon({ url, connections, duration: seconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0)
    console.error(`  autocannon: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, requests: result.requests.total };
}

/** Open `n` keep-alive connections, each making one request; resolves with the sockets once all answered. */
async function openIdle(port, n) {
  const request = Buffer.from("GET / HTTP/1.1\r\nHost: bench\r\n\r\n");
  const one = () =>
    new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
      socket.once("data", () => resolve(socket));
      socket.once("error", reject);
    });
  const sockets = [];
  for (let i = 0; i < n; i += 200) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(200, n - i) }, one))));
  }
  return sockets;
}

async function idleMemory(kind, n) {
  const srv = await startServer(kind, undefined);
  try {
    // Warm up (code paths, pools) with a few connections that come and go.
    for (const s of await openIdle(srv.port, WARMUP_CONNECTIONS)) s.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const before = await srv.rss();
    const sockets = await openIdle(srv.port, n);
    await new Promise((r) => setTimeout(r, 500));
    const after = await srv.rss();
    for (const s of sockets) s.destroy();
    return (after - before) / n / 1024;
  } finally {
    await srv.stop();
  }
}

async function run() {
  const SECONDS = Number(arg("seconds", 3));
  const ROUNDS = Number(arg("rounds", 7));
  const CONNECTIONS = Number(arg("connections", 50));
  const IDLE = Number(arg("idle", 2000));
  const TRIALS = Number(arg("trials", 5));
  const handler = arg("handler", "both");
  hasWrk = spawnSync("wrk", ["--version"]).error === undefined;
  const pinned = spawnSync("taskset", ["-c", "0", "true"]).status === 0;
  const serverCpu = pinned ? 0 : undefined;
  const loadCpu = pinned ? 1 : undefined;
  const kinds = {};
  if (handler !== "constant") kinds["tessera http1.server (service)"] = "tessera";
  if (handler !== "service") kinds["tessera http1.server (constant)"] = "tessera-constant";
  kinds["node:http"] = "node";

  const only = arg("only", "all");
  if (only !== "memory") await throughput(kinds, SECONDS, ROUNDS, CONNECTIONS, serverCpu, loadCpu, pinned);
  if (only !== "throughput") await memoryPerConnection(kinds, IDLE, TRIALS);
}

async function throughput(kinds, SECONDS, ROUNDS, CONNECTIONS, serverCpu, loadCpu, pinned) {
  const servers = {};
  for (const [name, kind] of Object.entries(kinds)) servers[name] = await startServer(kind, serverCpu);
  const results = Object.fromEntries(Object.keys(kinds).map((name) => [name, []]));
  const cpu = Object.fromEntries(Object.keys(kinds).map((name) => [name, []]));
  for (const name of Object.keys(kinds)) await load(servers[name].port, 2, CONNECTIONS, loadCpu); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    const names = Object.keys(kinds);
    if (round % 2 === 1) names.reverse();
    for (const name of names) {
      const before = await servers[name].cpu();
      const { rps, requests } = await load(servers[name].port, SECONDS, CONNECTIONS, loadCpu);
      results[name].push(rps);
      cpu[name].push(((await servers[name].cpu()) - before) / requests);
    }
  }
  for (const srv of Object.values(servers)) await srv.stop();

  const tool = hasWrk ? "wrk -t1" : "autocannon";
  printTable(
    `http1 server: ${tool} -c${CONNECTIONS}, keep-alive, ${SECONDS} s x ${ROUNDS} rounds, "${BODY}"` +
      `${pinned ? " (server on CPU 0, load on CPU 1)" : " (not pinned: taskset missing)"}, median req/s`,
    Object.entries(results).map(([name, v]) => ({ name, value: median(v), unit: "req/s" })),
    "node:http",
  );
  console.log(
    `  per round: ${Object.entries(results)
      .map(([name, v]) => `${name} [${v.map((x) => Math.round(x)).join(", ")}]`)
      .join("; ")}`,
  );
  // The machine drifts during a run: a ratio taken within each round (servers measured back to back) is
  // steadier than the ratio of medians.
  const base = results["node:http"];
  for (const [name, v] of Object.entries(results)) {
    if (name === "node:http") continue;
    const ratios = v.map((x, i) => x / base[i]);
    console.log(`  ${name}: median of per-round ratios ${median(ratios).toFixed(2)}x node:http`);
  }
  // CPU time the server spent per request: what the server itself costs, less sensitive to a busy machine.
  printTable(
    "http1 server: server CPU time (user + system) per request, median",
    Object.entries(cpu).map(([name, v]) => ({ name, value: median(v), unit: "µs/req" })),
    "node:http",
  );
}

async function memoryPerConnection(allKinds, IDLE, TRIALS) {
  // Idle connections cost the same whatever the handler: measure one tessera server.
  const names = Object.keys(allKinds);
  const kinds = { [names[0]]: allKinds[names[0]], "node:http": "node" };
  // RSS moves in pages and with the heap's own sizing: several trials, alternating, and the median.
  const memKinds = kinds;
  const memory = Object.fromEntries(Object.keys(memKinds).map((name) => [name, []]));
  for (let trial = 0; trial < TRIALS; trial++) {
    const names = Object.keys(memKinds);
    if (trial % 2 === 1) names.reverse();
    for (const name of names) memory[name].push(await idleMemory(memKinds[name], IDLE));
  }
  printTable(
    `http1 server: memory per idle keep-alive connection (${IDLE} connections, one request each, RSS growth ` +
      `after GC, median of ${TRIALS})`,
    Object.entries(memory).map(([name, v]) => ({ name, value: median(v), unit: "KB/conn" })),
    "node:http",
  );
  console.log(
    `  per trial: ${Object.entries(memory)
      .map(([name, v]) => `${name} [${v.map((x) => x.toFixed(1)).join(", ")}]`)
      .join("; ")}`,
  );
}

const child = arg("serve", undefined);
if (child !== undefined) {
  await serveChild(child);
} else {
  await run();
}
