import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stack } from "@tessera/core";
import { connectRequest, tcpConnector } from "@tessera/net";
import { describe, expect, it } from "vitest";
import { curl } from "../../../test-support/curl.js";
import { peer } from "../../../test-support/peers.js";
import {
  Reply,
  Socks5AuthError,
  Socks5ReplyError,
  socks5Bind,
  socks5Connect,
  socks5UdpAssociate,
  staticCredentials,
} from "../src/index.js";
import { closedPort, later, roundTrip, startEcho, startSocks, startUdpEcho } from "./support.js";

const run = promisify(execFile);

/** A tiny HTTP server whose answer names the path, to see what curl reached through the proxy. */
async function startHttp(): Promise<number> {
  const server = net.createServer((s) => {
    s.on("error", () => {});
    s.once("data", (d) => {
      const path = d.toString().split(" ")[1];
      s.end(
        `HTTP/1.1 200 OK\r\nContent-Length: ${4 + (path?.length ?? 0)}\r\nConnection: close\r\n\r\npath${path}`,
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  later(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

/** Start a peer process and wait (at most 10 s) until it accepts connections on `port`; stopped after the test. */
async function startPeer(command: string, args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr += d;
  });
  later(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGTERM");
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (up) return child;
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${command} did not start (exit ${child.exitCode}): ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function via(
  proxyPort: number,
  options: { username?: string; password?: string; resolve?: "local" | "remote" } = {},
) {
  return stack(socks5Connect({ proxy: `127.0.0.1:${proxyPort}`, ...options })).into(tcpConnector());
}

describe("curl through our server", () => {
  it("--socks5 (curl resolves), --socks5-hostname (we resolve), socks5h:// URL", async () => {
    if (!peer("curl")) return;
    const http = await startHttp();
    const { port } = await startSocks();
    const a = await curl("--socks5", `127.0.0.1:${port}`, `http://127.0.0.1:${http}/a`);
    expect(a.stdout).toBe("path/a");
    const b = await curl("--socks5-hostname", `127.0.0.1:${port}`, `http://localhost:${http}/b`);
    expect(b.stdout).toBe("path/b");
    const c = await curl("-x", `socks5h://127.0.0.1:${port}`, `http://localhost:${http}/c`);
    expect(c.stdout).toBe("path/c");
    const refused = await curl("--socks5", `127.0.0.1:${port}`, `http://127.0.0.1:${await closedPort()}/`);
    expect(refused.code).toBe(97);
    expect(refused.stderr).toMatch(/\(5\)/);
  });

  it("-x socks5h://user:pass@ passes; a wrong password is refused", async () => {
    if (!peer("curl")) return;
    const http = await startHttp();
    const { port, errors } = await startSocks({ authenticate: staticCredentials({ alice: "s3:cret" }) });
    const ok = await curl(
      "-x",
      `socks5h://alice:s3%3Acret@127.0.0.1:${port}`,
      `http://localhost:${http}/auth`,
    );
    expect(ok.stdout).toBe("path/auth");
    const wrong = await curl(
      "-x",
      `socks5h://alice:wrong@127.0.0.1:${port}`,
      `http://localhost:${http}/auth`,
    );
    expect(wrong.stdout).toBe("");
    expect(wrong.code).toBe(97);
    expect((await errors.wait(1))[0]).toBeInstanceOf(Socks5AuthError);
    const none = await curl("-x", `socks5h://127.0.0.1:${port}`, `http://localhost:${http}/auth`);
    expect(none.code).toBe(97);
  });
});

/** A free port on 127.0.0.1, for a peer that cannot listen on port 0 and tell us. */
async function freePort(): Promise<number> {
  return closedPort();
}

describe("our client through danted", () => {
  async function startDante(method: "none" | "username" = "none"): Promise<number> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "tessera-danted-"));
    later(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, "danted.conf");
    writeFileSync(
      config,
      [
        `logoutput: ${join(dir, "danted.log")}`,
        `internal: 127.0.0.1 port = ${port}`,
        "external: 127.0.0.1",
        `socksmethod: ${method}`,
        "clientmethod: none",
        // Root only to start; the work is done as nobody.
        `user.privileged: ${process.getuid?.() === 0 ? "root" : (process.env.USER ?? "nobody")}`,
        "user.unprivileged: nobody",
        "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }",
        "socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect bind udpassociate }",
        // What comes back to BIND and UDP clients (the peer's connection, datagrams from targets).
        "socks pass { from: 0.0.0.0/0 to: 127.0.0.0/8 command: bindreply udpreply }",
        "",
      ].join("\n"),
    );
    await startPeer("danted", ["-f", config, "-p", join(dir, "danted.pid")], port);
    return port;
  }

  it("CONNECT with remote and local resolution; its refusal is reply 05", async () => {
    if (!peer("danted")) return;
    const echo = await startEcho();
    const port = await startDante();
    const remote = await via(port).serve(connectRequest(`localhost:${echo}`));
    later(() => remote.stream.destroy());
    expect(await roundTrip(remote, "through dante")).toBe("through dante");
    const local = await via(port, { resolve: "local" }).serve(connectRequest(`localhost:${echo}`));
    later(() => local.stream.destroy());
    expect(await roundTrip(local, "local")).toBe("local");
    const refused = await via(port)
      .serve(connectRequest(`127.0.0.1:${await closedPort()}`))
      .catch((e) => e);
    expect(refused).toBeInstanceOf(Socks5ReplyError);
    expect((refused as Socks5ReplyError).reply).toBe(Reply.ConnectionRefused);
  });

  it("UDP ASSOCIATE through dante's relay", async () => {
    if (!peer("danted")) return;
    const echo = await startUdpEcho();
    const port = await startDante();
    const control = await tcpConnector().serve(connectRequest(`127.0.0.1:${port}`));
    const udp = await socks5UdpAssociate(control);
    later(() => udp.close());
    await udp.send(Buffer.from("dgram"), { host: "127.0.0.1", port: echo.port });
    const reply = await udp.receive();
    expect(reply.data.toString()).toBe("echo:dgram");
    expect(reply.from.port).toBe(echo.port);
  });

  it("BIND through dante", async () => {
    if (!peer("danted")) return;
    const port = await startDante();
    const control = await tcpConnector().serve(connectRequest(`127.0.0.1:${port}`));
    const bound = await socks5Bind(control, { host: "127.0.0.1", port: 0 });
    const host = bound.address.host === "0.0.0.0" ? "127.0.0.1" : bound.address.host;
    const other = net.connect(bound.address.port, host);
    other.on("error", () => {});
    later(() => other.destroy());
    const accepted = await bound.accepted();
    later(() => accepted.stream.destroy());
    other.write("bound");
    expect(
      await new Promise<string>((r) => accepted.stream.once("data", (d: Buffer) => r(d.toString()))),
    ).toBe("bound");
  });

  it("username auth (a throwaway system user: dante checks system passwords)", async () => {
    if (!peer("danted") || !peer("useradd")) return;
    if (process.getuid?.() !== 0) {
      process.stderr.write("\n!!! dante username test needs root to create a user; microsocks covers auth\n");
      return;
    }
    const user = `tsocks${process.pid}`;
    await run("useradd", ["-M", "-s", "/usr/sbin/nologin", user]);
    later(() => run("userdel", [user]).catch(() => {}));
    await new Promise<void>((resolve, reject) => {
      const child = spawn("chpasswd", [], { stdio: ["pipe", "ignore", "inherit"] });
      child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`chpasswd exited ${code}`))));
      child.stdin!.end(`${user}:pw-${process.pid}\n`);
    });
    const echo = await startEcho();
    const port = await startDante("username");
    const tunnel = await via(port, { username: user, password: `pw-${process.pid}` }).serve(
      connectRequest(`127.0.0.1:${echo}`),
    );
    later(() => tunnel.stream.destroy());
    expect(await roundTrip(tunnel, "dante auth")).toBe("dante auth");
    const wrong = await via(port, { username: user, password: "wrong" })
      .serve(connectRequest(`127.0.0.1:${echo}`))
      .catch((e) => e);
    expect(wrong).toBeInstanceOf(Socks5AuthError);
  });
});

describe("our client through microsocks", () => {
  it("without and with username/password", async () => {
    if (!peer("microsocks")) return;
    const echo = await startEcho();
    const open = await freePort();
    await startPeer("microsocks", ["-i", "127.0.0.1", "-p", String(open)], open);
    const plain = await via(open).serve(connectRequest(`localhost:${echo}`));
    later(() => plain.stream.destroy());
    expect(await roundTrip(plain, "micro")).toBe("micro");

    const authed = await freePort();
    await startPeer("microsocks", ["-i", "127.0.0.1", "-p", String(authed), "-u", "bob", "-P", "pw"], authed);
    const tunnel = await via(authed, { username: "bob", password: "pw" }).serve(
      connectRequest(`127.0.0.1:${echo}`),
    );
    later(() => tunnel.stream.destroy());
    expect(await roundTrip(tunnel, "authed")).toBe("authed");
    const wrong = await via(authed, { username: "bob", password: "nope" })
      .serve(connectRequest(`127.0.0.1:${echo}`))
      .catch((e) => e);
    expect(wrong).toBeInstanceOf(Socks5AuthError);
  });
});
