// The forward proxy with a real client: curl through it (-x) and through a CONNECT tunnel (-p -x).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { service } from "@tessera/core";
import { type Request, Response } from "@tessera/http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { peer } from "../../../test-support/peers.js";
import { forwardProxy } from "../src/index.js";
import { tcpServer } from "./support/server-harness.js";

const run = promisify(execFile);

const origin = service(async (req: Request) => {
  const body = await req.body.text();
  return Response.json({ method: req.method, target: req.target, via: req.headers.get("via") ?? null, body });
});

// A missing curl skips these loudly (and fails them under CI=true): see support/peers.ts.
const hasCurl = peer("curl");

describe("forward proxy: curl interop", () => {
  let originSrv: Awaited<ReturnType<typeof tcpServer>>;
  let proxy: Awaited<ReturnType<typeof tcpServer>>;
  let authProxy: Awaited<ReturnType<typeof tcpServer>>;
  beforeAll(async () => {
    originSrv = await tcpServer(origin);
    proxy = await tcpServer(forwardProxy());
    authProxy = await tcpServer(forwardProxy({ auth: { username: "user", password: "pa:ss" } }));
  });
  afterAll(async () => {
    await Promise.all([originSrv.close(), proxy.close(), authProxy.close()]);
  });

  async function curl(...args: string[]) {
    return run("curl", ["-sS", "--max-time", "10", ...args]);
  }

  it("curl -x: plain requests are forwarded (GET and POST), Via added", async () => {
    if (!hasCurl) return;
    const url = `http://127.0.0.1:${originSrv.port}/hello?x=1`;
    const get = JSON.parse((await curl("-x", `http://127.0.0.1:${proxy.port}`, url)).stdout);
    expect(get).toEqual({ method: "GET", target: "/hello?x=1", via: "1.1 tessera", body: "" });
    const post = JSON.parse((await curl("-x", `http://127.0.0.1:${proxy.port}`, "-d", "a=b", url)).stdout);
    expect(post.method).toBe("POST");
    expect(post.body).toBe("a=b");
  });

  it("curl -p -x: a CONNECT tunnel carries the request end to end", async () => {
    if (!hasCurl) return;
    const url = `http://127.0.0.1:${originSrv.port}/tunnelled`;
    const { stdout, stderr } = await curl("-v", "-p", "-x", `http://127.0.0.1:${proxy.port}`, url);
    expect(stderr).toMatch(/CONNECT 127\.0\.0\.1:\d+ HTTP\/1\.1/);
    expect(stderr).toMatch(/HTTP\/1\.1 200 Connection Established/);
    // Through a tunnel the proxy sees nothing of the request: no Via.
    expect(JSON.parse(stdout)).toEqual({ method: "GET", target: "/tunnelled", via: null, body: "" });
  });

  it("proxy auth: missing or wrong credentials get 407, right ones pass (plain and CONNECT)", async () => {
    if (!hasCurl) return;
    const url = `http://127.0.0.1:${originSrv.port}/private`;
    const proxyUrl = `http://127.0.0.1:${authProxy.port}`;
    const code = async (...args: string[]) =>
      (await curl("-o", "/dev/null", "-w", "%{http_code}", ...args)).stdout;
    expect(await code("-x", proxyUrl, url)).toBe("407");
    expect(await code("-x", proxyUrl, "-U", "user:wrong", url)).toBe("407");
    expect(await code("-x", proxyUrl, "-U", "user:pa:ss", url)).toBe("200");
    expect(await code("-p", "-x", proxyUrl, "-U", "user:pa:ss", url)).toBe("200");
    const refused = await curl(
      "-p",
      "-x",
      proxyUrl,
      "-U",
      "user:wrong",
      "-o",
      "/dev/null",
      "-w",
      "%{http_connect}",
      url,
    ).catch((e: { stdout: string }) => e);
    expect(refused.stdout).toBe("407");
  });
});
