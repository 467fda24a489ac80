import { execFile } from "node:child_process";
import net from "node:net";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { peer } from "../../../test-support/peers.js";
import { UsageError } from "../src/args.js";
import { main } from "../src/main.js";
import {
  exitOf,
  listeningPort,
  roundTrip,
  startCli,
  startServer,
  stopServers,
  testIo,
  track,
} from "./cli-helpers.js";

const run = promisify(execFile);
afterEach(stopServers);
const start = startServer;

describe("tessera (in process)", () => {
  it("tcp-echo prints exactly one listening line and echoes bytes, half-close included", async () => {
    const { out, port } = await start(["tcp-echo", "--listen", "127.0.0.1:0"]);
    expect(out.filter((l) => l.startsWith("listening on"))).toEqual([`listening on 127.0.0.1:${port}`]);
    const payload = Buffer.alloc(1024 * 1024, 0xab);
    const back = await roundTrip(port, payload);
    expect(back.equals(payload)).toBe(true);
  });

  it("tcp-echo listens on IPv6 loopback and prints a bracketed address", async () => {
    const t = testIo();
    const r = await main(["tcp-echo", "--listen", "[::1]:0", "--log-level", "silent"], t.io);
    track(r!);
    expect(t.out[0]).toMatch(/^listening on \[::1\]:\d+$/);
    const back = await roundTrip(listeningPort(t.out), "six", "::1");
    expect(back.toString()).toBe("six");
  });

  it("forward relays to --to and back", async () => {
    const echo = await start(["tcp-echo", "--listen", "127.0.0.1:0"]);
    const relay = await start(["forward", "--listen", "127.0.0.1:0", "--to", `127.0.0.1:${echo.port}`]);
    const back = await roundTrip(relay.port, "through the relay");
    expect(back.toString()).toBe("through the relay");
  });

  it("forward closes the client's connection when the upstream refuses", async () => {
    // A port that was just free: bind, read the port, close.
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const relay = await start(["forward", "--listen", "127.0.0.1:0", "--to", `127.0.0.1:${closed}`]);
    const back = await roundTrip(relay.port, "anyone?").catch((e: NodeJS.ErrnoException) => e.code);
    expect(back === "ECONNRESET" || (Buffer.isBuffer(back) && back.length === 0)).toBe(true);
  });

  it("--concurrency 1 --queue 0 closes a second connection while the first is served", async () => {
    const { port } = await start([
      "tcp-echo",
      "--listen",
      "127.0.0.1:0",
      "--concurrency",
      "1",
      "--queue",
      "0",
    ]);
    const first = net.connect(port, "127.0.0.1");
    await new Promise((r) => first.once("connect", r));
    first.write("hold");
    await new Promise((r) => first.once("data", r)); // the first is being served
    const second = await roundTrip(port, "refused").catch((e: NodeJS.ErrnoException) => e.code);
    expect(second === "ECONNRESET" || (Buffer.isBuffer(second) && second.length === 0)).toBe(true);
    first.end();
    await new Promise((r) => first.once("close", r));
    expect((await roundTrip(port, "now free")).toString()).toBe("now free");
  });

  it("--timeout closes a connection that lives longer", async () => {
    const { port } = await start(["tcp-echo", "--listen", "127.0.0.1:0", "--timeout", "150"]);
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    const started = Date.now();
    await new Promise((r) => socket.once("close", r));
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });

  it("SIGTERM stops accepting and resolves `closed` once in-flight connections finish", async () => {
    const {
      signals,
      running: r,
      port,
    } = await start(["tcp-echo", "--listen", "127.0.0.1:0", "--grace", "2000"]);
    const open = net.connect(port, "127.0.0.1");
    await new Promise((res) => open.once("connect", res));
    open.write("x");
    await new Promise((res) => open.once("data", res));
    signals.emit("SIGTERM");
    let closed = false;
    void r.closed.then(() => {
      closed = true;
    });
    // New connections are refused while the open one drains.
    await new Promise((res) => setTimeout(res, 50));
    const refused = await roundTrip(port, "late").catch((e: NodeJS.ErrnoException) => e.code);
    expect(refused).toBe("ECONNREFUSED");
    expect(closed).toBe(false);
    open.end();
    await r.closed;
    expect(closed).toBe(true);
  });

  it("rejects bad usage with a UsageError", async () => {
    const { io } = testIo();
    await expect(main(["nope"], io)).rejects.toBeInstanceOf(UsageError);
    await expect(main(["tcp-echo", "--listen", "localhost"], io)).rejects.toThrow(/--listen/);
    await expect(main(["tcp-echo", "--listen", "127.0.0.1:99999"], io)).rejects.toThrow(/--listen/);
    await expect(main(["tcp-echo", "--bogus"], io)).rejects.toThrow(/unknown option --bogus/);
    await expect(main(["tcp-echo", "--concurrency", "many"], io)).rejects.toThrow(/whole number/);
    await expect(main(["forward", "--listen", "127.0.0.1:0"], io)).rejects.toThrow(/--to/);
    await expect(main(["tcp-echo", "--log-level", "loud"], io)).rejects.toThrow(/--log-level/);
  });

  it("--help lists the layers each server command uses", async () => {
    for (const command of ["tcp-echo", "forward", "demo"]) {
      const { io, out } = testIo();
      await expect(main([command, "--help"], io)).resolves.toBeUndefined();
      const help = out.join("\n");
      for (const layer of ["log", "consumeErrors", "concurrencyLimit", "timeout", "--listen HOST:PORT"]) {
        expect(help).toContain(layer);
      }
    }
  });

  it("demo relays to its echo server", async () => {
    const { out, port } = await start(["demo", "--listen", "127.0.0.1:0"]);
    expect(out.join("\n")).toContain(`nc -N 127.0.0.1 ${port}`);
    expect((await roundTrip(port, "demo")).toString()).toBe("demo");
  });
});

describe("tessera (the built binary)", () => {
  it("prints the listening line, serves nc (a real peer), and exits 0 on SIGTERM", async () => {
    const { child, port } = await startCli(["tcp-echo", "--listen", "127.0.0.1:0"]);
    try {
      if (peer("nc")) {
        const { stdout } = await run("sh", ["-c", `printf 'hello from nc' | nc -N 127.0.0.1 ${port}`]);
        expect(stdout).toBe("hello from nc");
      } else {
        expect((await roundTrip(port, "hello")).toString()).toBe("hello");
      }
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exitOf(child)).toEqual({ code: 0, signal: null });
  });

  it("socat through tessera forward to tessera tcp-echo", async () => {
    if (!peer("socat")) return;
    const echo = await startCli(["tcp-echo", "--listen", "127.0.0.1:0"]);
    const relay = await startCli(["forward", "--listen", "127.0.0.1:0", "--to", `127.0.0.1:${echo.port}`]);
    try {
      const { stdout } = await run("sh", [
        "-c",
        `head -c 2000000 /dev/zero | socat -t 5 - TCP:127.0.0.1:${relay.port} | wc -c`,
      ]);
      expect(stdout.trim()).toBe("2000000");
    } finally {
      echo.child.kill("SIGTERM");
      relay.child.kill("SIGTERM");
    }
    expect((await exitOf(relay.child)).code).toBe(0);
    expect((await exitOf(echo.child)).code).toBe(0);
  });

  it("regression: a failed connection is logged on stderr, never on stdout (stdout is the listening line)", async () => {
    const free = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const { child, port, stdout } = await startCli([
      "forward",
      "--listen",
      "127.0.0.1:0",
      "--to",
      `127.0.0.1:${free}`,
      "--log-level",
      "warn",
    ]);
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => {
      stderr += c;
    });
    await roundTrip(port, "x").catch(() => {});
    await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGTERM");
    await exitOf(child);
    expect(stdout().trim()).toBe(`listening on 127.0.0.1:${port}`);
    expect(stderr).toContain("ERR_NET_CONNECTION_REFUSED");
  });

  it("a usage error exits 2 with the usage on stderr", async () => {
    const error = await run(process.execPath, [
      (await import("./cli-helpers.js")).cliPath,
      "tcp-echo",
      "--listen",
      "nope",
    ]).catch((e: { code: number; stderr: string }) => e);
    expect((error as { code: number }).code).toBe(2);
    expect((error as { stderr: string }).stderr).toContain("tessera <command>");
  });
});
