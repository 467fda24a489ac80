// Download throughput through `tessera proxy --mitm` (CONNECT, TLS terminated with an issued certificate, each
// request relayed over the proxy's own TLS connection to the origin) against the same download straight from the
// origin over TLS. The origin is a node:https server sending --mib MiB; curl downloads (HTTP/1.1 on the client
// side) and reports its speed. The proxy runs pinned to CPU 0 when taskset exists. Rounds alternate the order;
// medians and the ratio are printed.
//
// Uses the BUILT playground (npm run bench builds it). Options: --rounds=N (default 3), --mib=N (default 256).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { arg, median, onExit, printTable, startCli } from "../lib.mjs";

const self = fileURLToPath(import.meta.url);

async function originChild(certFile, keyFile, mib) {
  const https = await import("node:https");
  const { readFileSync } = await import("node:fs");
  const chunk = Buffer.alloc(1 << 20, 120);
  const server = https.createServer(
    { cert: readFileSync(certFile), key: readFileSync(keyFile) },
    (_req, res) => {
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": mib * chunk.length,
      });
      let sent = 0;
      const write = () => {
        while (sent < mib) {
          sent++;
          if (!res.write(chunk)) return res.once("drain", write);
        }
        res.end();
      };
      write();
    },
  );
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.stdout.write(`${server.address().port}\n`);
}

if (process.argv[2] === "--origin") {
  await originChild(process.argv[3], process.argv[4], Number(process.argv[5]));
} else {
  const rounds = Number(arg("rounds", 3));
  const mib = Number(arg("mib", 256));
  if (spawnSync("sh", ["-c", "command -v curl"]).status !== 0) {
    console.error("bench/tls needs curl");
    process.exit(1);
  }
  const taskset = spawnSync("sh", ["-c", "command -v taskset"]).status === 0;
  const { certificateIssuer, createCertificateAuthority } = await import("@tessera/tls");
  const dir = mkdtempSync(join(tmpdir(), "bench-tls-mitm-"));
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name, text) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const originCa = createCertificateAuthority({ commonName: "bench origin CA" });
  const leaf = certificateIssuer({ ca: originCa }).issue("localhost");
  const mitmCa = createCertificateAuthority({ commonName: "bench MITM CA" });
  const originCaFile = file("origin-ca.pem", originCa.cert);
  const mitmCaFile = file("mitm-ca.pem", mitmCa.cert);

  const origin = spawn(
    process.execPath,
    [self, "--origin", file("cert.pem", leaf.cert), file("key.pem", leaf.key), String(mib)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  onExit(() => origin.kill("SIGTERM"));
  const originPort = await new Promise((resolve) =>
    origin.stdout.once("data", (d) => resolve(Number(String(d).trim()))),
  );
  const proxy = await startCli(
    [
      "proxy",
      "--mitm",
      "--ca-cert",
      mitmCaFile,
      "--ca-key",
      file("mitm-key.pem", mitmCa.key),
      "--upstream-ca",
      originCaFile,
      "--log-level",
      "warn",
    ],
    taskset ? { cpu: 0 } : {},
  );

  const url = `https://localhost:${originPort}/big`;
  const resolve = `localhost:${originPort}:127.0.0.1`;
  const download = (viaProxy) => {
    const args = [
      "-sS",
      "--http1.1",
      "-o",
      "/dev/null",
      "-w",
      "%{speed_download} %{size_download}",
      "--resolve",
      resolve,
    ];
    if (viaProxy) args.push("--cacert", mitmCaFile, "-x", `http://127.0.0.1:${proxy.port}`);
    else args.push("--cacert", originCaFile);
    const r = spawnSync("curl", [...args, url], { encoding: "utf8" });
    const [speed, size] = r.stdout.trim().split(" ").map(Number);
    if (r.status !== 0 || size !== mib * 1048576) throw new Error(`curl failed: ${r.stderr} ${r.stdout}`);
    return speed / 1048576;
  };
  const kinds = { "through tessera proxy --mitm": true, "direct TLS": false };
  const names = Object.keys(kinds);
  const results = Object.fromEntries(names.map((n) => [n, []]));
  for (const name of names) download(kinds[name]); // warm-up
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) results[name].push(download(kinds[name]));
  }
  await proxy.stop();
  origin.kill("SIGTERM");
  printTable(
    `tls MITM: curl downloading ${mib} MiB over HTTP/1.1 from a node:https origin, ${rounds} rounds, median MiB/s`,
    names.map((name) => ({ name, value: median(results[name]), unit: "MiB/s" })),
    "direct TLS",
  );
  for (const name of names) console.log(`  per round: ${name} [${results[name].map(Math.round).join(", ")}]`);
}
