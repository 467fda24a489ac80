// HTTP/2 server: @tessera/http2's server against a node:http2 server using its core stream API (the faster of
// node's two APIs), both h2c with prior knowledge, both answering "Hello, World!" in their own child process,
// under the same h2load run (-c connections, -m streams each, -n requests). The server is pinned to CPU 0 and
// h2load to CPU 1 when taskset exists; rounds alternate which server goes first; medians and ratios printed.
//
// Uses the BUILT packages (npm run bench builds them). Options: --rounds=N (default 5), --requests=N per round
// (default 100000), --connections=N (10), --streams=N (100).
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { arg, median, onExit, printTable } from "../lib.mjs";

const self = fileURLToPath(import.meta.url);
const BODY = "Hello, World!";

async function serveChild(kind) {
  let port;
  if (kind === "node") {
    const http2 = await import("node:http2");
    const body = Buffer.from(BODY);
    const s = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
    s.on("stream", (stream) => {
      // A node:http2 server crashes on a peer's RST_STREAM unless every stream has an 'error' listener.
      stream.on("error", () => {});
      stream.respond({ ":status": 200, "content-type": "text/plain", "content-length": body.length });
      stream.end(body);
    });
    await new Promise((resolve) => s.listen(0, "127.0.0.1", resolve));
    port = s.address().port;
  } else {
    const { service } = await import("@tessera/core");
    const { Response } = await import("@tessera/http");
    const { server } = await import("@tessera/http2");
    const { listen } = await import("@tessera/net");
    const handler = service(() => Response.text(BODY));
    const listener = await listen(
      { host: "127.0.0.1", port: 0 },
      server(handler, { maxConcurrentStreams: 1000 }),
    );
    port = listener.address.port;
  }
  process.stdout.write(`${port}\n`);
}

if (process.argv[2] === "--child") {
  await serveChild(process.argv[3]);
} else {
  const rounds = Number(arg("rounds", 5));
  const requests = Number(arg("requests", 100_000));
  const connections = Number(arg("connections", 10));
  const streams = Number(arg("streams", 100));
  const taskset = spawnSync("sh", ["-c", "command -v taskset"]).status === 0;
  if (spawnSync("sh", ["-c", "command -v h2load"]).status !== 0) {
    console.error("bench/http2 needs h2load (apt-get install nghttp2-client)");
    process.exit(1);
  }

  const start = (kind) => {
    const argv = [self, "--child", kind];
    const child = taskset
      ? spawn("taskset", ["-c", "0", process.execPath, ...argv], { stdio: ["ignore", "pipe", "inherit"] })
      : spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "inherit"] });
    onExit(() => child.kill("SIGKILL"));
    return new Promise((resolve) => {
      child.stdout.once("data", (d) => resolve({ port: Number(String(d).trim()), child }));
    });
  };

  const load = (port) => {
    const cmd = [
      ...(taskset ? ["taskset", "-c", "1"] : []),
      "h2load",
      `-c${connections}`,
      `-m${streams}`,
      `-n${requests}`,
      `http://127.0.0.1:${port}/`,
    ];
    const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 120_000 });
    const rate = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(r.stdout);
    const ok = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(r.stdout);
    if (!rate || !ok || Number(ok[2]) !== 0) throw new Error(`h2load failed:\n${r.stdout}\n${r.stderr}`);
    return Number(rate[1]);
  };

  const servers = {
    "tessera http2.server": await start("tessera"),
    "node:http2 (core API)": await start("node"),
  };
  const names = Object.keys(servers);
  const results = Object.fromEntries(names.map((n) => [n, []]));
  for (const name of names) load(servers[name].port); // warm-up
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) results[name].push(load(servers[name].port));
  }
  for (const { child } of Object.values(servers)) child.kill("SIGTERM");
  printTable(
    `http2 server: h2load -c${connections} -m${streams} -n${requests}, h2c, ${rounds} rounds, median req/s`,
    names.map((name) => ({ name, value: median(results[name]), unit: "req/s" })),
    "node:http2 (core API)",
  );
  for (const name of names) console.log(`  per round: ${name} [${results[name].map(Math.round).join(", ")}]`);
}
