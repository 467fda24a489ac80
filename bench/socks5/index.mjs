// SOCKS5 through `tessera socks5` (its own process) side by side with the peers a user would otherwise pick, in
// one run: bulk throughput against a direct loopback connection and Debian's danted, and connections per second
// (handshake, CONNECT, one byte each way, close) against danted. Rounds alternate so noise hits each alike;
// medians and ratios are printed. Each proxy's own CPU time (user + system, read from /proc for its whole process
// tree) per GiB and per 1000 connections is printed too: on a shared machine it moves much less than speed.
// Run `node bench/socks5/index.mjs [--bytes=N] [--rounds=N] [--conns=N]`.
// With taskset (util-linux), the proxies run on CPU 0 and this process (client and sink) on CPU 1, as in
// PERFORMANCE.md, so a proxy that forks helpers (danted) gets no more CPU than one that does not.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  arg,
  median,
  onExit,
  printTable,
  sendToSink,
  startCli,
  startSink,
  treeCpuSeconds,
  waitForTimeWait,
} from "../lib.mjs";

const TOTAL = arg("bytes", 512 * 1024 * 1024);
const ROUNDS = arg("rounds", 3);
const CONNS = arg("conns", 2000);
const PARALLEL = arg("parallel", 50);
const pinned = spawnSync("taskset", ["-c", "1", "true"]).status === 0;
if (pinned) spawnSync("taskset", ["-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
const PROXY_CPU = pinned ? 0 : undefined;

/** Read exactly n bytes from a socket (paused mode). */
function readBytes(socket, n) {
  return new Promise((resolve, reject) => {
    const tryRead = () => {
      const chunk = socket.read(n);
      if (chunk === null) return;
      socket.off("readable", tryRead);
      socket.off("error", reject);
      resolve(chunk);
    };
    socket.on("readable", tryRead);
    socket.once("error", reject);
    tryRead();
  });
}

/** Connect to `port`, then (with a proxy) a SOCKS5 no-auth handshake and CONNECT to 127.0.0.1:target. */
async function open(port, target) {
  const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  if (target !== undefined) {
    socket.write(Buffer.from([5, 1, 0]));
    const method = await readBytes(socket, 2);
    if (method[1] !== 0) throw new Error(`method ${method[1]}`);
    const request = Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, 0, 0]);
    request.writeUInt16BE(target, 8);
    socket.write(request);
    const reply = await readBytes(socket, 10);
    if (reply[1] !== 0) throw new Error(`reply ${reply[1]}`);
  }
  return socket;
}

/** Send TOTAL bytes and wait for the sink's count; MiB/s (handshake excluded). */
async function throughput(port, target) {
  return sendToSink(await open(port, target), TOTAL);
}

/** CONNS connections, PARALLEL at a time: handshake, one byte there and back, close. Connections per second. */
async function connectionRate(port, target) {
  let next = 0;
  let failed = 0;
  let firstError;
  const start = process.hrtime.bigint();
  const worker = async () => {
    while (next < CONNS) {
      next++;
      try {
        const socket = await open(port, target);
        socket.write("x");
        await readBytes(socket, 1);
        socket.destroy();
      } catch (error) {
        failed++;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (failed > CONNS / 100) {
    throw new Error(`${failed} of ${CONNS} connections failed, the first with: ${firstError?.message}`);
  }
  return CONNS / seconds;
}

/** danted (Debian's dante-server) on a free port, no authentication, as nobody after start. */
async function startDante() {
  try {
    execFileSync("sh", ["-c", "command -v danted"], { stdio: "ignore" });
  } catch {
    console.log("  (danted is missing: apt-get install dante-server; its rows are skipped)");
    return undefined;
  }
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, "127.0.0.1", r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  const dir = mkdtempSync(join(tmpdir(), "bench-danted-"));
  const config = join(dir, "danted.conf");
  writeFileSync(
    config,
    [
      "logoutput: /dev/null",
      `internal: 127.0.0.1 port = ${port}`,
      "external: 127.0.0.1",
      "socksmethod: none",
      "clientmethod: none",
      `user.privileged: ${process.getuid?.() === 0 ? "root" : process.env.USER}`,
      "user.unprivileged: nobody",
      "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }",
      "socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect }",
      "",
    ].join("\n"),
  );
  const argv = ["-f", config, "-p", join(dir, "pid")];
  const child = pinned
    ? spawn("taskset", ["-c", String(PROXY_CPU), "danted", ...argv], { stdio: "ignore" })
    : spawn("danted", argv, { stdio: "ignore" });
  const stop = () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  };
  onExit(stop);
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (up) return { port, stop, pid: child.pid };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("danted did not start");
}

await waitForTimeWait();
const sink = await startSink(TOTAL);
const sinkPort = sink.address().port;
const tessera = await startCli(
  ["socks5", "--listen", "127.0.0.1:0", "--allow-private", "--log-level", "warn"],
  { cpu: PROXY_CPU },
);
const relay = await startCli(
  ["forward", "--listen", "127.0.0.1:0", "--to", `127.0.0.1:${sinkPort}`, "--log-level", "warn"],
  { cpu: PROXY_CPU },
);
const dante = await startDante();

// `tessera forward` (a plain TCP relay, no SOCKS) shows what the relay itself costs.
const bulk = { direct: [], "tessera forward (no SOCKS)": [], "tessera socks5": [] };
const rate = { "tessera socks5": [] };
// The proxy process's own CPU (user + system, forked workers included) per GiB and per 1000 connections: the
// machine is shared and noisy, and a relay's CPU cost per byte moves much less with that noise than its speed.
const bulkCpu = { "tessera forward (no SOCKS)": [], "tessera socks5": [] };
const rateCpu = { "tessera socks5": [] };
if (dante) {
  bulk.danted = [];
  rate.danted = [];
  bulkCpu.danted = [];
  rateCpu.danted = [];
}
/** Run `work` (resolving with a speed), record the speed in `speeds[name]` and `proxy`'s CPU per `per` units. */
async function measure(name, proxy, work, units, speeds, cpu) {
  const before = proxy === undefined ? undefined : treeCpuSeconds(proxy.pid);
  speeds[name].push(await work());
  const after = proxy === undefined ? undefined : treeCpuSeconds(proxy.pid);
  if (before !== undefined && after !== undefined) cpu[name].push(((after - before) * 1000) / units);
}
const GIB = TOTAL / 1024 ** 3;
await throughput(sinkPort, undefined); // warm-up
await throughput(tessera.port, sinkPort);
await connectionRate(tessera.port, sinkPort);
if (dante) await connectionRate(dante.port, sinkPort);
for (let round = 0; round < ROUNDS; round++) {
  bulk.direct.push(await throughput(sinkPort, undefined));
  const viaRelay = () => throughput(relay.port, undefined);
  await measure("tessera forward (no SOCKS)", relay, viaRelay, GIB, bulk, bulkCpu);
  const viaTessera = () => throughput(tessera.port, sinkPort);
  await measure("tessera socks5", tessera, viaTessera, GIB, bulk, bulkCpu);
  if (dante) await measure("danted", dante, () => throughput(dante.port, sinkPort), GIB, bulk, bulkCpu);
  const connections = CONNS / 1000;
  await measure(
    "tessera socks5",
    tessera,
    () => connectionRate(tessera.port, sinkPort),
    connections,
    rate,
    rateCpu,
  );
  if (dante)
    await measure("danted", dante, () => connectionRate(dante.port, sinkPort), connections, rate, rateCpu);
}
await tessera.stop();
await relay.stop();
dante?.stop();
sink.close();

const where = pinned ? "proxies on CPU 0, client and sink on CPU 1" : "not pinned: taskset missing";
printTable(
  `socks5 bulk (${where}): ${TOTAL / 1024 / 1024} MiB per run, ${ROUNDS} rounds, median MiB/s`,
  Object.entries(bulk).map(([name, v]) => ({ name, value: median(v), unit: "MiB/s" })),
  "direct",
);
printTable(
  `socks5 connections (${where}): ${CONNS} per run (${PARALLEL} at a time), ${ROUNDS} rounds, median conn/s`,
  Object.entries(rate).map(([name, v]) => ({ name, value: median(v), unit: "conn/s" })),
  dante ? "danted" : "tessera socks5",
);
// Each round's proxies ran right after that round's direct run, so a per-round ratio cancels slow drifts in
// the machine's load that the ratio of medians keeps.
console.log("socks5 bulk, median of per-round ratios to that round's direct run");
for (const [name, speeds] of Object.entries(bulk)) {
  if (name === "direct") continue;
  const ratios = speeds.map((v, i) => v / bulk.direct[i]);
  console.log(
    `  ${name.padEnd(34)} ${median(ratios).toFixed(2)}x direct (rounds: ${ratios.map((r) => r.toFixed(2)).join(" ")})`,
  );
}
printTable(
  "proxy CPU per GiB relayed (user + system of the proxy process; lower is better), median ms",
  Object.entries(bulkCpu).map(([name, v]) => ({ name, value: median(v), unit: "ms/GiB" })),
  dante ? "danted" : "tessera forward (no SOCKS)",
);
printTable(
  "proxy CPU per 1000 connections (lower is better), median ms",
  Object.entries(rateCpu).map(([name, v]) => ({ name, value: median(v), unit: "ms/1000" })),
  dante ? "danted" : "tessera socks5",
);
