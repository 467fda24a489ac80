import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import net from "node:net";
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
  return run("curl", ["-sS", "--max-time", "10", ...args], { maxBuffer: 8 * 1024 * 1024 });
}

/** Send raw bytes, read until the server closes. */
function raw(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let out = "";
    s.setEncoding("latin1");
    s.on("data", (c: string) => {
      out += c;
    });
    s.on("error", reject);
    s.on("close", () => resolve(out));
    s.write(data);
  });
}

describe("tessera echo (in process)", () => {
  it("prints one listening line and answers a JSON view of the request, headers in wire order and casing", async () => {
    const { out, port } = await start(["echo", "--listen", "127.0.0.1:0"]);
    expect(out.filter((l) => l.startsWith("listening on"))).toEqual([`listening on 127.0.0.1:${port}`]);
    const reply = await raw(
      port,
      "PUT /x?y=1 HTTP/1.1\r\nhost: h\r\nX-UPPER: A\r\nx-lower: b\r\nX-Upper: c\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    );
    const [head, body] = reply.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toMatch(/content-type: application\/json/i);
    const doc = JSON.parse(body!) as EchoDocument;
    expect(doc).toEqual({
      method: "PUT",
      target: "/x?y=1",
      version: "HTTP/1.1",
      headers: [
        ["host", "h"],
        ["X-UPPER", "A"],
        ["x-lower", "b"],
        ["X-Upper", "c"],
        ["Content-Length", "3"],
        ["Connection", "close"],
      ],
      bodySize: 3,
      peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
  });

  it("answers bad requests with 400 and closes", async () => {
    const { port } = await start(["echo", "--listen", "127.0.0.1:0"]);
    const reply = await raw(
      port,
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(reply).toMatch(/Connection: close/);
  });

  it("--help lists the HTTP and server options; bad values are usage errors", async () => {
    const { io, out } = testIo();
    await main(["echo", "--help"], io);
    const help = out.join("\n");
    for (const word of ["--listen HOST:PORT", "--header-timeout", "--idle-timeout", "concurrencyLimit"]) {
      expect(help).toContain(word);
    }
    await expect(main(["echo", "--idle-timeout", "soon"], testIo().io)).rejects.toThrow(/whole number/);
  });

  it("curl: casing and order, -d bodies, chunked uploads, HTTP/1.0, one connection for two URLs", async () => {
    if (!peer("curl")) return;
    const { port } = await start(["echo", "--listen", "127.0.0.1:0"]);
    const base = `http://127.0.0.1:${port}`;
    const cased = JSON.parse(
      (await curl("-H", "X-Zeta: 1", "-H", "x-ALPHA: 2", `${base}/c`)).stdout,
    ) as EchoDocument;
    expect(cased.headers.slice(-2)).toEqual([
      ["X-Zeta", "1"],
      ["x-ALPHA", "2"],
    ]);
    const posted = JSON.parse((await curl("-d", "hello", `${base}/p`)).stdout) as EchoDocument;
    expect([posted.method, posted.bodySize]).toEqual(["POST", 5]);
    const chunked = JSON.parse(
      (await curl("-H", "Transfer-Encoding: chunked", "-d", "x".repeat(3000), `${base}/c`)).stdout,
    ) as EchoDocument;
    expect(chunked.bodySize).toBe(3000);
    expect(chunked.headers).toContainEqual(["Transfer-Encoding", "chunked"]);
    const old = JSON.parse((await curl("--http1.0", `${base}/old`)).stdout) as EchoDocument;
    expect(old.version).toBe("HTTP/1.0");
    const two = await curl("-v", `${base}/1`, `${base}/2`);
    expect(two.stderr).toMatch(/Re-using existing connection/);
    expect(two.stdout.match(/"target":"\/\d"/g)).toEqual(['"target":"/1"', '"target":"/2"']);
  });
});

describe("tessera echo over HTTP/2 (same port)", () => {
  it("curl --http2-prior-knowledge gets the JSON view with version HTTP/2, and HTTP/1.1 still works", async () => {
    if (!peer("curl")) return;
    const { port } = await start(["echo", "--listen", "127.0.0.1:0"]);
    const base = `http://127.0.0.1:${port}`;
    const h2 = await curl(
      "--http2-prior-knowledge",
      "-v",
      "-H",
      "X-Two: yes",
      "-d",
      "abc",
      `${base}/two?x=1`,
    );
    expect(h2.stderr).toMatch(/HTTP\/2 200/);
    const doc = JSON.parse(h2.stdout) as EchoDocument;
    expect([doc.method, doc.target, doc.version, doc.bodySize]).toEqual(["POST", "/two?x=1", "HTTP/2", 3]);
    expect(doc.headers).toContainEqual(["x-two", "yes"]);
    // curl (nghttp2) sends :method, :path, :scheme, :authority, and a connection WINDOW_UPDATE.
    const fp = doc.http2!.fingerprint;
    expect(fp).toMatch(/^(\d+:\d+)(;\d+:\d+)*\|\d+\|0\|m,p,s,a$/);
    expect(doc.http2!.hash).toBe(createHash("md5").update(fp).digest("hex"));
    const h1 = JSON.parse((await curl(`${base}/one`)).stdout) as EchoDocument;
    expect(h1.version).toBe("HTTP/1.1");
    expect(h1.http2).toBeUndefined();
  });
});

describe("tessera echo (the built binary)", () => {
  it("serves curl and exits 0 on SIGTERM", async () => {
    const { child, port } = await startCli(["echo", "--listen", "127.0.0.1:0"]);
    try {
      if (peer("curl")) {
        const doc = JSON.parse(
          (await curl("-d", "bin", `http://127.0.0.1:${port}/bin`)).stdout,
        ) as EchoDocument;
        expect([doc.target, doc.bodySize]).toEqual(["/bin", 3]);
      } else {
        expect(await raw(port, "GET /bin HTTP/1.0\r\n\r\n")).toMatch(/"target":"\/bin"/);
      }
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exitOf(child)).toEqual({ code: 0, signal: null });
  });
});
