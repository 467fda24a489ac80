import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import net from "node:net";
import { fileURLToPath } from "node:url";
import type { Io } from "../src/io.js";
import { main } from "../src/main.js";
import type { Running } from "../src/serve.js";

export const cliPath = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

/** An Io that records lines and lets the test send signals. */
export function testIo() {
  const out: string[] = [];
  const err: string[] = [];
  const signals = new EventEmitter();
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), signals };
  return { io, out, err, signals };
}

export function listeningPort(lines: readonly string[]): number {
  for (const line of lines) {
    const m = /^listening on (?:\[[^\]]+\]|[^:]+):(\d+)$/.exec(line);
    if (m) return Number(m[1]);
  }
  throw new Error(`no "listening on" line in ${JSON.stringify(lines)}`);
}

/** Connect, send `data`, end, and collect what comes back until the server closes. */
export function roundTrip(port: number, data: string | Buffer, host = "127.0.0.1"): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    const chunks: Buffer[] = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks)));
    socket.end(data);
  });
}

/** Start the built CLI as a child process; resolves once it printed its listening line. */
export function startCli(
  args: string[],
): Promise<{ child: ChildProcess; port: number; stdout: () => string }> {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.resume();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 10_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${out}`));
    });
    child.stdout!.on("data", (chunk: string) => {
      out += chunk;
      const m = /^listening on 127\.0\.0\.1:(\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve({ child, port: Number(m[1]), stdout: () => out });
      }
    });
  });
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

const running: Running[] = [];

/** Stop later with {@link stopServers} (each test file calls it in `afterEach`). */
export function track(server: Running): Running {
  running.push(server);
  return server;
}

/** Run a server command in process with its logs silenced; returns its Io, the server and its port. */
export async function startServer(argv: string[]) {
  const t = testIo();
  const r = await main([...argv, "--log-level", "silent"], t.io);
  if (!r) throw new Error("not a server command");
  track(r);
  return { ...t, running: r, port: listeningPort(t.out) };
}

/** Stop every server started or tracked since the last call. */
export async function stopServers(): Promise<void> {
  await Promise.all(running.splice(0).map((r) => r.stop()));
}
