// The server against a real client: curl (skipped loudly when missing, fails under CI=true).
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { service } from "@tessera/core";
import { type Request, Response } from "@tessera/http";
import { formatSocketAddress, PeerAddr } from "@tessera/net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { peer } from "../../../test-support/peers.js";
import { tcpServer } from "./support/server-harness.js";

const run = promisify(execFile);

/** Answers a JSON description of the request (what `tessera echo` does). */
const describeRequest = service(async (req: Request) => {
  let size = 0;
  for await (const chunk of req.body) size += chunk.byteLength;
  const peerAddr = req.extensions.get(PeerAddr);
  return Response.json({
    method: req.method,
    target: req.target,
    version: req.version,
    headers: req.headers.toJSON(),
    bodySize: size,
    peer: peerAddr === undefined ? null : formatSocketAddress(peerAddr),
  });
});

interface Echo {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  bodySize: number;
  peer: string;
}

// A missing curl skips these loudly (and fails them under CI=true): see support/peers.ts.
const hasCurl = peer("curl");

describe("http1 server: curl interop", () => {
  let srv: Awaited<ReturnType<typeof tcpServer>>;
  let base: string;
  beforeAll(async () => {
    srv = await tcpServer(describeRequest);
    base = `http://127.0.0.1:${srv.port}`;
  });
  afterAll(async () => {
    await srv.close();
  });

  async function curl(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return run("curl", ["-sS", "--max-time", "10", ...args], { maxBuffer: 16 * 1024 * 1024 });
  }

  it("keeps header casing and order, and reports the peer", async () => {
    if (!hasCurl) return;
    const { stdout } = await curl(
      "-H",
      "X-First: 1",
      "-H",
      "x-MiXeD-case: 2",
      "-H",
      "X-Last: 3",
      `${base}/a?b=c`,
    );
    const echo = JSON.parse(stdout) as Echo;
    expect(echo.method).toBe("GET");
    expect(echo.target).toBe("/a?b=c");
    expect(echo.version).toBe("HTTP/1.1");
    const names = echo.headers.map(([n]) => n);
    expect(names.slice(-3)).toEqual(["X-First", "x-MiXeD-case", "X-Last"]);
    expect(names[0]).toBe("Host");
    expect(echo.peer).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it("reuses one connection for two URLs", async () => {
    if (!hasCurl) return;
    const { stdout, stderr } = await curl("-v", `${base}/one`, `${base}/two`);
    expect(stderr).toMatch(/Re-using existing connection/);
    const bodies = stdout.split("}{").length;
    expect(bodies).toBe(2);
  });

  it("-d bodies, chunked uploads and large uploads with Expect: 100-continue", async () => {
    if (!hasCurl) return;
    const small = JSON.parse((await curl("-d", "hello=world", `${base}/form`)).stdout) as Echo;
    expect(small.method).toBe("POST");
    expect(small.bodySize).toBe(11);

    const chunked = JSON.parse(
      (await curl("-H", "Transfer-Encoding: chunked", "-d", "x".repeat(5000), `${base}/chunked`)).stdout,
    ) as Echo;
    expect(chunked.headers).toContainEqual(["Transfer-Encoding", "chunked"]);
    expect(chunked.bodySize).toBe(5000);

    const file = join(tmpdir(), `tessera-upload-${process.pid}.bin`);
    writeFileSync(file, Buffer.alloc(3 * 1024 * 1024, 7));
    const { stdout, stderr } = await curl(
      "-v",
      "-H",
      "Expect: 100-continue",
      "--data-binary",
      `@${file}`,
      `${base}/big`,
    );
    expect(stderr).toContain("HTTP/1.1 100 Continue");
    expect((JSON.parse(stdout) as Echo).bodySize).toBe(3 * 1024 * 1024);
  });

  it("HTTP/1.0 requests get answers, and the connection closes", async () => {
    if (!hasCurl) return;
    const { stdout, stderr } = await curl("-v", "--http1.0", `${base}/old`);
    expect((JSON.parse(stdout) as Echo).version).toBe("HTTP/1.0");
    expect(stderr).toMatch(/Connection: close/i);
  });

  it("HEAD gets the headers without a body", async () => {
    if (!hasCurl) return;
    const { stdout } = await curl("-I", `${base}/head`);
    expect(stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(stdout).toMatch(/Content-Length: \d+/);
  });
});
