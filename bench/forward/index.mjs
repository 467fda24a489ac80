// Throughput of `tessera forward` (listener + connector + forward, in its own process) against a direct
// loopback connection and a bare `socket.pipe` relay (what a user would otherwise write), in one run.
// Rounds alternate between the three so machine noise hits each alike; medians and ratios are printed.
import { spawn } from "node:child_process";
import net from "node:net";
import { median, onExit, printTable, sendToSink, startCli, startSink } from "../lib.mjs";

const TOTAL = Number(process.env.BENCH_BYTES ?? 512 * 1024 * 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

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

const sink = await startSink(TOTAL);
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

/** TOTAL bytes to port, through to the sink; MiB/s. */
const send = (port) => sendToSink(net.connect(port, "127.0.0.1"), TOTAL);

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
