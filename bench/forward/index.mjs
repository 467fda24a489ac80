// Throughput of `tessera forward` (listener + connector + forward, in its own process) against a direct
// loopback connection and a bare `socket.pipe` relay (what a user would otherwise write), in one run.
// Rounds alternate between the three so machine noise hits each alike; medians and ratios are printed.
import { spawn } from "node:child_process";
import net from "node:net";
import { median, onExit, printTable, startCli } from "../lib.mjs";

const TOTAL = Number(process.env.BENCH_BYTES ?? 512 * 1024 * 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHUNK = Buffer.alloc(64 * 1024, 7);

/**
 * A sink that counts bytes and answers "<count>\n" once TOTAL arrived. The answer does not wait for the
 * client's FIN, so the bench also works through relays that do not keep half-closed connections open
 * (a bare socket.pipe relay with node:net defaults does not).
 */
function startSink() {
  const server = net.createServer((socket) => {
    let n = 0;
    socket.on("data", (d) => {
      n += d.length;
      if (n >= TOTAL) socket.end(`${n}\n`);
    });
    socket.on("error", () => {});
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** Send TOTAL bytes to port and wait for the sink's count to come back; returns MiB/s. */
function send(port) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const socket = net.connect(port, "127.0.0.1");
    let sent = 0;
    let reply = "";
    const pump = () => {
      while (sent < TOTAL) {
        sent += CHUNK.length;
        if (!socket.write(CHUNK)) return socket.once("drain", pump);
      }
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer after 60 s (reply so far: "${reply}")`));
    }, 60_000);
    socket.once("connect", pump);
    socket.on("data", (d) => {
      reply += d;
      if (!reply.endsWith("\n")) return;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      clearTimeout(timer);
      socket.destroy();
      if (Number(reply) !== sent) reject(new Error(`sink saw ${reply.trim()} of ${sent} bytes`));
      else resolve(sent / 1024 / 1024 / seconds);
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** A bare node:net relay in a child process: socket.pipe both ways. */
function startPipeRelay(targetPort) {
  const code = `
    const net = require("node:net");
    const s = net.createServer((c) => {
      const u = net.connect(${targetPort}, "127.0.0.1");
      c.pipe(u); u.pipe(c);
      c.on("error", () => u.destroy()); u.on("error", () => c.destroy());
    });
    s.listen(0, "127.0.0.1", () => process.send(s.address().port));
    process.on("disconnect", () => process.exit(0));`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  onExit(() => child.kill("SIGTERM"));
  return new Promise((resolve) =>
    child.once("message", (port) => resolve({ port, stop: () => child.kill("SIGTERM") })),
  );
}

const sink = await startSink();
const sinkPort = sink.address().port;
const tessera = await startCli([
  "forward",
  "--listen",
  "127.0.0.1:0",
  "--to",
  `127.0.0.1:${sinkPort}`,
  "--log-level",
  "warn",
]);
const pipe = await startPipeRelay(sinkPort);

const results = { direct: [], "socket.pipe relay": [], "tessera forward": [] };
await send(sinkPort); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  results.direct.push(await send(sinkPort));
  results["socket.pipe relay"].push(await send(pipe.port));
  results["tessera forward"].push(await send(tessera.port));
}
await tessera.stop();
pipe.stop();
sink.close();

printTable(
  `forward: ${TOTAL / 1024 / 1024} MiB per run, ${ROUNDS} rounds, median MiB/s`,
  Object.entries(results).map(([name, v]) => ({ name, value: median(v), unit: "MiB/s" })),
  "direct",
);
