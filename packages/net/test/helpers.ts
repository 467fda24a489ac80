import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import type { Duplex, Readable } from "node:stream";

/** Every byte a readable yields until it ends. */
export function collect(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.once("end", () => resolve(Buffer.concat(chunks)));
    stream.once("error", reject);
  });
}

/** Resolves with the first `event` (and its first argument). */
export function once<T = unknown>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (value: T) => resolve(value)));
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `condition` every few ms until true (bounded). */
export async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await delay(5);
  }
}

/** Deterministic-enough random payload. */
export function payload(size: number): Buffer {
  return randomBytes(size);
}

/** Write `data` to `stream` in chunks honouring backpressure, then end. */
export async function writeAll(stream: Duplex, data: Buffer, chunk = 64 * 1024): Promise<void> {
  for (let offset = 0; offset < data.length; offset += chunk) {
    if (!stream.write(data.subarray(offset, offset + chunk))) await once(stream, "drain");
  }
  stream.end();
}

/** Counts of active timers and TCP handles (what a leak would leave behind). */
export function activeResources(): { timers: number; tcp: number } {
  const list = process.getActiveResourcesInfo();
  return {
    timers: list.filter((r) => r === "Timeout").length,
    tcp: list.filter((r) => r === "TCPSocketWrap" || r === "TCPWrap").length,
  };
}

/**
 * A TCP listener on `host` that never accepts: a child Node process listens with a tiny backlog and then blocks
 * its event loop (Atomics.wait: no CPU), and we fill its accept queue. Further SYNs to it are dropped by the
 * kernel, so a connect hangs until a timeout: a "non-routable" address that stays on this machine.
 */
export interface Blackhole {
  readonly host: string;
  readonly port: number;
  close(): void;
}

export async function blackhole(host = "127.0.0.2", port = 0): Promise<Blackhole> {
  const script = `
    const net = require("node:net");
    const server = net.createServer().listen({ host: ${JSON.stringify(host)}, port: ${port}, backlog: 1 }, () => {
      process.stdout.write(server.address().port + "\\n", () => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
      });
    });`;
  const child: ChildProcess = spawn(process.execPath, ["-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const bound = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.stdout!.once("data", (data: Buffer) => resolve(Number(String(data).trim())));
  });
  // Fill the accept queue (backlog 1 holds two); extra fillers just hang, which is fine.
  const fillers: Socket[] = [];
  let connected = 0;
  for (let i = 0; i < 3; i++) {
    const socket = connect({ host, port: bound });
    socket.on("error", () => {});
    socket.on("connect", () => connected++);
    fillers.push(socket);
  }
  await until(() => connected >= 2);
  await delay(20);
  return {
    host,
    port: bound,
    close() {
      for (const socket of fillers) socket.destroy();
      child.kill("SIGKILL");
    },
  };
}

/**
 * The TCP_NODELAY setting Node applied to a socket. Node keeps it under a private symbol (`kSetNoDelay`) and
 * offers no getter; reading it is the only way to check the option short of timing Nagle's algorithm.
 */
export function noDelayOf(socket: Socket): boolean {
  const symbol = Object.getOwnPropertySymbols(socket).find((s) => s.description === "kSetNoDelay");
  if (symbol === undefined) throw new Error("this Node keeps no kSetNoDelay");
  return (socket as unknown as Record<symbol, unknown>)[symbol] === true;
}
