import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { peer } from "../../../test-support/peers.js";
import type { EchoDocument } from "../src/commands/echo.js";
import { main } from "../src/main.js";
import { exitOf, startCli, startServer, stopServers, testIo } from "./cli-helpers.js";

const run = promisify(execFile);
afterEach(stopServers);
const start = startServer;

function curl(...args: string[]) {
  return run("curl", ["-sS", "--max-time", "10", ...args]);
}

async function code(...args: string[]): Promise<string> {
  return (await curl("-o", "/dev/null", "-w", "%{http_code}", ...args).catch((e: { stdout: string }) => e))
    .stdout;
}

describe("tessera proxy", () => {
  it("--help names its options; bad --auth is a usage error", async () => {
    const { io, out } = testIo();
    await main(["proxy", "--help"], io);
    for (const word of ["--auth USER:PASS", "--connect-timeout", "--listen HOST:PORT", "CONNECT"]) {
      expect(out.join("\n")).toContain(word);
    }
    await expect(main(["proxy", "--auth", "nocolon"], testIo().io)).rejects.toThrow(/--auth/);
  });

  it("curl -x and curl -p -x through it to tessera echo; Via shows on forwarded requests", async () => {
    if (!peer("curl")) return;
    const echo = await start(["echo", "--listen", "127.0.0.1:0"]);
    const proxy = await start(["proxy", "--listen", "127.0.0.1:0"]);
    const url = `http://127.0.0.1:${echo.port}/through`;
    const proxyUrl = `http://127.0.0.1:${proxy.port}`;
    const plain = JSON.parse((await curl("-x", proxyUrl, "-d", "abc", url)).stdout) as EchoDocument;
    expect(plain.target).toBe("/through");
    expect(plain.bodySize).toBe(3);
    expect(plain.headers).toContainEqual(["Via", "1.1 tessera"]);
    const tunnelled = await curl("-v", "-p", "-x", proxyUrl, url);
    expect(tunnelled.stderr).toMatch(/200 Connection Established/);
    const doc = JSON.parse(tunnelled.stdout) as EchoDocument;
    expect(doc.headers.some(([n]) => n === "Via")).toBe(false);
  });

  it("--auth: 407 without or with wrong credentials, through with the right ones", async () => {
    if (!peer("curl")) return;
    const echo = await start(["echo", "--listen", "127.0.0.1:0"]);
    const proxy = await start(["proxy", "--listen", "127.0.0.1:0", "--auth", "me:se:cret"]);
    const url = `http://127.0.0.1:${echo.port}/p`;
    const proxyUrl = `http://127.0.0.1:${proxy.port}`;
    expect(await code("-x", proxyUrl, url)).toBe("407");
    expect(await code("-x", proxyUrl, "-U", "me:wrong", url)).toBe("407");
    expect(await code("-x", proxyUrl, "-U", "me:se:cret", url)).toBe("200");
    expect(await code("-p", "-x", proxyUrl, "-U", "me:se:cret", url)).toBe("200");
    const refused = await curl("-p", "-x", proxyUrl, "-o", "/dev/null", "-w", "%{http_connect}", url).catch(
      (e: { stdout: string }) => e,
    );
    expect(refused.stdout).toBe("407");
  });

  it("the built binary proxies curl and exits 0 on SIGTERM", async () => {
    const echo = await startCli(["echo", "--listen", "127.0.0.1:0"]);
    const proxy = await startCli(["proxy", "--listen", "127.0.0.1:0"]);
    try {
      if (peer("curl")) {
        const doc = JSON.parse(
          (await curl("-x", `http://127.0.0.1:${proxy.port}`, `http://127.0.0.1:${echo.port}/bin`)).stdout,
        ) as EchoDocument;
        expect(doc.target).toBe("/bin");
      }
    } finally {
      echo.child.kill("SIGTERM");
      proxy.child.kill("SIGTERM");
    }
    expect((await exitOf(proxy.child)).code).toBe(0);
    expect((await exitOf(echo.child)).code).toBe(0);
  });
});
