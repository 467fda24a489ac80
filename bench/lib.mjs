// Small helpers shared by the benches: starting a `tessera` server command as a child process (the
// `listening on HOST:PORT` contract), a byte sink and its sender for throughput runs, and printing side-by-side
// results.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const cli = join(root, "apps/playground/dist/cli.js");

const cleanups = [];
let exiting = false;
/** Run `fn` when the bench exits, also on SIGINT/SIGTERM, so no child server outlives the bench. */
export function onExit(fn) {
  cleanups.push(fn);
  if (cleanups.length > 1) return;
  const runAll = () => {
    if (exiting) return;
    exiting = true;
    for (const f of cleanups) f();
  };
  process.once("exit", runAll);
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => {
      runAll();
      process.exit(130);
    });
  }
}

/** Start `tessera <args>`, resolve with { port, stop } once it prints its listening line. */
export function startCli(args, { cpu } = {}) {
  const cmd = cpu === undefined ? process.execPath : "taskset";
  const argv = cpu === undefined ? [cli, ...args] : ["-c", String(cpu), process.execPath, cli, ...args];
  const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"] });
  onExit(() => child.kill("SIGTERM"));
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`tessera ${args[0]} did not start`)), 10_000);
    child.once("exit", (code) => reject(new Error(`tessera ${args[0]} exited with ${code}`)));
    child.stdout.on("data", (chunk) => {
      buf += chunk;
      const m = /^listening on (.+):(\d+)$/m.exec(buf);
      if (m) {
        clearTimeout(timer);
        child.stdout.resume();
        resolve({
          host: m[1],
          port: Number(m[2]),
          pid: child.pid,
          stop: () =>
            new Promise((done) => {
              child.once("exit", done);
              child.kill("SIGTERM");
            }),
        });
      }
    });
  });
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
/**
 * CPU seconds (user + system) used so far by process `pid` and all its descendants, live or ended (a proxy that
 * forks workers, like danted, is counted whole), from /proc; undefined where /proc is missing.
 */
export function treeCpuSeconds(pid) {
  let entries;
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const stats = new Map();
  for (const name of entries) {
    try {
      // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
      const text = readFileSync(`/proc/${name}/stat`, "latin1");
      const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
      // utime, stime, and cutime, cstime: children that ended and were reaped count too.
      const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      stats.set(Number(name), { ppid: Number(f[1]), ticks });
    } catch {
      // The process ended while we looked.
    }
  }
  let ticks = 0;
  const wanted = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, s] of stats) {
      if (!wanted.has(p) && wanted.has(s.ppid)) {
        wanted.add(p);
        grew = true;
      }
    }
  }
  for (const p of wanted) ticks += stats.get(p)?.ticks ?? 0;
  return ticks / TICKS_PER_SECOND;
}

/**
 * Wait (at most `maxSeconds`) until fewer than `limit` TCP sockets are in TIME_WAIT, from /proc/net/sockstat.
 * A connection-rate bench leaves tens of thousands behind for a minute; a second run started meanwhile runs out
 * of loopback ports, and its connects fail (a SOCKS5 proxy then answers 03, network unreachable). Returns at once
 * where /proc is missing.
 */
export async function waitForTimeWait(limit = 5000, maxSeconds = 90) {
  const timeWait = () => {
    try {
      const match = /^TCP:.* tw (\d+)/m.exec(readFileSync("/proc/net/sockstat", "latin1"));
      return match === null ? 0 : Number(match[1]);
    } catch {
      return 0;
    }
  };
  let tw = timeWait();
  if (tw < limit) return;
  console.log(`waiting for ${tw} TCP sockets in TIME_WAIT (from an earlier run) to drain below ${limit}...`);
  for (let waited = 0; tw >= limit && waited < maxSeconds; waited++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    tw = timeWait();
  }
}

/**
 * The value of `--name=value` on the command line, or `fallback`; a number when `fallback` is a number.
 */
export function arg(name, fallback) {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (hit === undefined) return fallback;
  const value = hit.slice(name.length + 3);
  return typeof fallback === "number" ? Number(value) : value;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Print rows of { name, value, unit } with each value's ratio to the baseline row. */
export function printTable(title, rows, baseline) {
  const base = rows.find((r) => r.name === baseline)?.value;
  console.log(title);
  for (const r of rows) {
    const ratio = base ? ` ${(r.value / base).toFixed(2)}x ${baseline}` : "";
    console.log(`  ${r.name.padEnd(36)} ${r.value.toFixed(1).padStart(10)} ${r.unit}${ratio}`);
  }
}

/**
 * A sink on 127.0.0.1 for throughput runs: counts bytes and answers "<count>\n" once `total` arrived, without
 * waiting for the client's FIN, so it also works through relays that do not keep half-closed connections open
 * (a bare socket.pipe relay with node:net defaults does not). A connection whose first message is a single byte
 * gets that byte back (a connection-rate probe); bulk senders never write one byte alone.
 */
export function startSink(total) {
  const server = net.createServer((socket) => {
    let n = 0;
    socket.on("data", (d) => {
      n += d.length;
      if (n === 1) socket.write(d);
      if (n >= total) socket.end(`${n}\n`);
    });
    socket.on("error", () => {});
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const CHUNK = Buffer.alloc(64 * 1024, 7);

/**
 * Send `total` bytes on `socket` (connected or still connecting: writes wait for the connection) to a
 * {@link startSink} sink and wait for its count to come back; resolves with MiB/s from the call on, rejects if
 * the count differs or nothing comes back within 60 s.
 */
export function sendToSink(socket, total) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    let sent = 0;
    let reply = "";
    const pump = () => {
      while (sent < total) {
        sent += CHUNK.length;
        if (!socket.write(CHUNK)) return socket.once("drain", pump);
      }
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer after 60 s (reply so far: "${reply}")`));
    }, 60_000);
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
    pump();
  });
}
