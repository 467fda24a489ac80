// Small helpers shared by the benches: starting a `tessera` server command as a child process (the
// `listening on HOST:PORT` contract) and printing side-by-side results.
import { spawn } from "node:child_process";
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
    console.log(`  ${r.name.padEnd(34)} ${r.value.toFixed(1).padStart(10)} ${r.unit}${ratio}`);
  }
}
