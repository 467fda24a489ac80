// TLS handshakes per server CPU-second: @tessera/tls's tlsAcceptor (ClientHello peeked and parsed, JA3 and JA4
// computed, then node:tls) against a plain node:tls server, same certificate (ECDSA P-256), same ALPN list, both
// closing the connection right after the handshake, each in its own child process pinned to CPU 0 (when taskset
// exists). The load generator (Node clients, pinned to CPU 1) saturates before the server does, so raw
// handshakes per second would hide the server's cost: each server reports its own process.cpuUsage(), and the
// figure is handshakes completed / server CPU seconds (user + system). Rounds alternate the order.
//
// Rows: the acceptor alone (on a node:net server) and on @tessera/net's listener (what a Tessera server runs);
// then, to show where its cost goes, the acceptor with an inner service that never reads JA3/JA4 (computed on
// first read, so never computed), the floor (the least any server can do to fingerprint in JavaScript: wait for
// the first chunk, parse it as a ClientHello, put it back, hand the socket to a TLSSocket, compute JA3 and JA4;
// no timeout, no extensions, no error handling), net's peek followed by a bare TLSSocket (reading the ClientHello
// in JS and replaying it, no parsing), and a bare TLSSocket on the listener (the listener's own cost).
//
// Uses the BUILT packages (npm run bench builds them). Options: --rounds=N (default 5), --handshakes=N per round
// (default 3000), --concurrency=N (default 32), --paired: measure each row at the same time as a node:tls run (both
// servers on CPU 0, both loads on CPU 1) and report the median of those paired ratios. On a shared machine the
// one-after-the-other rounds swing by tens of percent from round to round; paired runs see the same conditions,
// so their ratio holds within a few percent (the absolute figures are lower: the two servers share a CPU).
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:tls";
import { fileURLToPath } from "node:url";
import { arg, median, onExit, printTable, waitForTimeWait } from "../lib.mjs";

const self = fileURLToPath(import.meta.url);
const ALPN = ["h2", "http/1.1"];

// The child: a server that answers "cpu" on stdin with its CPU time so far (microseconds, user + system).
async function serveChild(kind, cert, key) {
  const tls = await import("node:tls");
  const net = await import("node:net");
  const { listen, conn } = await import("@tessera/net");
  const { Fingerprints, tlsAcceptor } = await import("@tessera/tls");
  // The inner service of the acceptor: end the TLS stream, and finish with it.
  const closeOnly = {
    serve: (c) =>
      new Promise((resolve) => {
        c.stream.once("close", resolve);
        c.stream.end();
      }),
  };
  // The same after reading the fingerprints (computed on first read, so this is what makes the acceptor compute
  // JA3 and JA4). Without it (closeOnly): what a server that does not need JA3/JA4 pays, and by difference what
  // computing them costs.
  const close = {
    serve: (c) => {
      if (c.extensions.get(Fingerprints).ja4.fingerprint === "") throw new Error("no JA4");
      return closeOnly.serve(c);
    },
  };
  const acceptor = tlsAcceptor({ config: { cert, key, alpn: ALPN } }).layer(close);
  const acceptorNoFingerprints = tlsAcceptor({ config: { cert, key, alpn: ALPN } }).layer(closeOnly);
  let port;
  if (kind === "node") {
    const server = tls.createServer({ cert, key, ALPNProtocols: ALPN }, (socket) => {
      socket.on("error", () => {});
      socket.end();
    });
    server.on("tlsClientError", () => {});
    await new Promise((resolve) => server.listen(0, "127.0.0.1", 511, resolve));
    port = server.address().port;
  } else if (kind === "peek-on-net") {
    // net's peek (the ClientHello read in JS, then replayed), then a bare TLSSocket: what reading the hello
    // before the handshake costs, without parsing it.
    const { peekConn } = await import("@tessera/net");
    const { neverAborts } = await import("@tessera/core");
    const context = tls.createSecureContext({ cert, key });
    const whole = (b) => b.length >= 5 && b.length >= 5 + b.readUInt16BE(3);
    const server = net.createServer(async (socket) => {
      socket.on("error", () => {});
      const peeked = await peekConn(conn(socket), { until: whole, signal: neverAborts() });
      const s = new tls.TLSSocket(peeked.conn.stream, {
        isServer: true,
        secureContext: context,
        ALPNCallback: () => "h2",
      });
      s.on("error", () => {});
      s.once("secure", () => s.end());
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", 511, resolve));
    port = server.address().port;
  } else if (kind === "floor-on-net") {
    // Node clients send the ClientHello in one chunk; a server that does only this could not serve anyone else.
    const { readClientHello, ja3, ja4 } = await import("@tessera/tls");
    const context = tls.createSecureContext({ cert, key });
    const limits = { maxBytes: 16 * 1024 };
    const options = {
      isServer: true,
      secureContext: context,
      ALPNProtocols: Buffer.from("\x02h2", "latin1"),
    };
    const server = net.createServer((socket) => {
      socket.on("error", () => {});
      socket.once("readable", () => {
        const chunk = socket.read();
        const read = readClientHello(chunk, limits);
        if (read.status !== "complete") throw new Error("the ClientHello came in pieces");
        socket.unshift(chunk);
        const s = new tls.TLSSocket(socket, options);
        s.on("error", () => {});
        s.once("secure", () => {
          if (ja3(read.hello).hash === "" || ja4(read.hello).fingerprint === "")
            throw new Error("no fingerprint");
          s.end();
        });
      });
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", 511, resolve));
    port = server.address().port;
  } else if (kind === "acceptor-on-net" || kind === "acceptor-no-fingerprints-on-net") {
    // The acceptor alone: a node:net server hands it each socket as a Conn.
    const service = kind === "acceptor-on-net" ? acceptor : acceptorNoFingerprints;
    const server = net.createServer((socket) => {
      socket.on("error", () => {});
      service.serve(conn(socket)).catch(() => socket.destroy());
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", 511, resolve));
    port = server.address().port;
  } else {
    // On @tessera/net's listener: the acceptor, or (to show what the listener itself costs) a bare TLSSocket.
    const context = tls.createSecureContext({ cert, key });
    const bare = {
      serve: (c) =>
        new Promise((resolve) => {
          const s = new tls.TLSSocket(c.stream, {
            isServer: true,
            secureContext: context,
            ALPNCallback: () => "h2",
          });
          s.on("error", () => {});
          s.once("secure", () => s.end());
          s.once("close", resolve);
        }),
    };
    const service = kind === "acceptor-on-listen" ? acceptor : bare;
    const listener = await listen({ host: "127.0.0.1", port: 0 }, service, { onError: () => {} });
    port = listener.address.port;
  }
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", () => {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`cpu ${user + system}\n`);
  });
  process.stdout.write(`port ${port}\n`);
}

// The load: `count` handshakes, `concurrency` at a time, each a fresh connection (no session resumption).
async function handshakes(port, count, concurrency) {
  let started = 0;
  let done = 0;
  let failed = 0;
  const one = () =>
    new Promise((resolve) => {
      const socket = connect({
        port,
        host: "127.0.0.1",
        servername: "localhost",
        rejectUnauthorized: false,
        ALPNProtocols: ALPN,
      });
      // Wait for the server's close (it ends right after its side of the handshake): a client that left at
      // once would cut TLS 1.3 servers off before they read its Finished, and they would count a failure.
      socket.once("secureConnect", () => {
        done++;
        socket.resume();
      });
      socket.once("close", () => resolve());
      socket.once("error", () => {
        failed++;
      });
    });
  const worker = async () => {
    while (started < count) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { done, failed };
}

if (process.argv[2] === "--child") {
  const { readFileSync } = await import("node:fs");
  await serveChild(process.argv[3], readFileSync(process.argv[4]), readFileSync(process.argv[5]));
} else if (process.argv[2] === "--load") {
  const r = await handshakes(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]));
  process.stdout.write(`${JSON.stringify(r)}\n`);
} else {
  const rounds = Number(arg("rounds", 5));
  const count = Number(arg("handshakes", 3000));
  const concurrency = Number(arg("concurrency", 32));
  const taskset = spawnSync("sh", ["-c", "command -v taskset"]).status === 0;
  const pinned = (cpu, argv, options) =>
    taskset
      ? spawn("taskset", ["-c", String(cpu), process.execPath, ...argv], options)
      : spawn(process.execPath, argv, options);

  const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { selfSignedCertificate } = await import("@tessera/tls");
  const dir = mkdtempSync(join(tmpdir(), "bench-tls-"));
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  const pair = selfSignedCertificate({ names: ["localhost"] });
  writeFileSync(join(dir, "cert.pem"), pair.cert);
  writeFileSync(join(dir, "key.pem"), pair.key);

  const start = async (kind) => {
    const child = pinned(0, [self, "--child", kind, join(dir, "cert.pem"), join(dir, "key.pem")], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    onExit(() => child.kill("SIGTERM"));
    child.stdout.setEncoding("utf8");
    const lines = [];
    let waiting;
    let buffer = "";
    child.stdout.on("data", (chunk) => {
      buffer += chunk;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        lines.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        waiting?.();
      }
    });
    const next = async () => {
      while (lines.length === 0) await new Promise((r) => (waiting = r));
      return lines.shift();
    };
    const port = Number((await next()).split(" ")[1]);
    const cpu = async () => {
      child.stdin.write("cpu\n");
      return Number((await next()).split(" ")[1]);
    };
    return { child, port, cpu };
  };
  const load = async (port) => {
    const child = pinned(1, [self, "--load", String(port), String(count), String(concurrency)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    await once(child, "exit");
    return JSON.parse(out);
  };
  const measure = async (server) => {
    const before = await server.cpu();
    const { done, failed } = await load(server.port);
    const after = await server.cpu();
    if (failed > 0) throw new Error(`${failed} handshakes failed`);
    return done / ((after - before) / 1e6);
  };

  await waitForTimeWait();
  const servers = {
    "tlsAcceptor (JA3+JA4), node:net": await start("acceptor-on-net"),
    "tlsAcceptor (JA3+JA4), net listen": await start("acceptor-on-listen"),
    "tlsAcceptor (no JA read), node:net": await start("acceptor-no-fingerprints-on-net"),
    "floor: hello read+JA3+JA4, node:net": await start("floor-on-net"),
    "net peek + TLSSocket, node:net": await start("peek-on-net"),
    "bare TLSSocket, net listen": await start("bare-on-listen"),
    "node:tls server": await start("node"),
  };
  const names = Object.keys(servers);
  const results = Object.fromEntries(names.map((n) => [n, []]));
  for (const name of names) await measure(servers[name]); // warm-up
  if (process.argv.includes("--paired")) {
    const baseline = "node:tls server";
    const ratios = Object.fromEntries(names.map((n) => [n, []]));
    for (let round = 0; round < rounds; round++) {
      for (const name of names) {
        if (name === baseline) continue;
        const [base, value] = await Promise.all([measure(servers[baseline]), measure(servers[name])]);
        ratios[name].push(value / base);
      }
    }
    for (const { child } of Object.values(servers)) child.kill("SIGTERM");
    console.log(
      `tls handshakes, paired with node:tls (run at the same time): ${count} per round, ${concurrency} at a time, TLS 1.3, ECDSA P-256, ${rounds} rounds, median ratio of handshakes per server CPU-second`,
    );
    for (const name of names) {
      if (name === baseline) continue;
      const all = ratios[name].map((r) => r.toFixed(2)).join(", ");
      console.log(`  ${name.padEnd(36)} ${median(ratios[name]).toFixed(2)}x ${baseline}  [${all}]`);
    }
    process.exit(0);
  }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) results[name].push(await measure(servers[name]));
  }
  for (const { child } of Object.values(servers)) child.kill("SIGTERM");
  printTable(
    `tls handshakes: ${count} per round, ${concurrency} at a time, TLS 1.3, ECDSA P-256, ${rounds} rounds, median handshakes per server CPU-second`,
    names.map((name) => ({ name, value: median(results[name]), unit: "hs/cpu-s" })),
    "node:tls server",
  );
  for (const name of names) console.log(`  per round: ${name} [${results[name].map(Math.round).join(", ")}]`);
}
