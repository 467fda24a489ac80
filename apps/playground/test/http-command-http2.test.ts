import { execFile } from "node:child_process";
import { once } from "node:events";
import http2 from "node:http2";
import type net from "node:net";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../src/args.js";
import { main } from "../src/main.js";
import { cliPath, testIo } from "./cli-helpers.js";

const run = promisify(execFile);
const servers: http2.Http2Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      setTimeout(resolve, 200).unref();
    });
  }
});

/** node's own h2c server: answers with what it saw, including the pseudo-headers. */
async function h2cOrigin(): Promise<number> {
  const server = http2.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      res.setHeader("x-seen", `${req.method} ${req.url} ${req.headers[":scheme"]} body=${body}`);
      res.writeHead(202);
      res.end("over h2c\n");
    });
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as net.AddressInfo).port;
}

describe("tessera http --http2-prior-knowledge", () => {
  it("speaks h2c to node:http2 and prints an HTTP/2 status line, headers and body", async () => {
    const port = await h2cOrigin();
    const t = testIo();
    await main(["http", `http://127.0.0.1:${port}/p?q`, "--http2-prior-knowledge", "-d", "hi", "-v"], t.io);
    expect(t.out[0]).toBe("HTTP/2 202");
    expect(t.out).toContain("x-seen: POST /p?q http body=hi");
    expect(t.out.at(-1)).toBe("over h2c");
    // -v shows the fields as the HTTP/2 connection encodes them.
    expect(t.err.slice(0, 4)).toEqual([
      "> :method: POST",
      `> :authority: 127.0.0.1:${port}`,
      "> :scheme: http",
      "> :path: /p?q",
    ]);
  });

  it("the built binary exits 0 after the exchange (the HTTP/2 connection keeps nothing alive)", async () => {
    const port = await h2cOrigin();
    const { stdout } = await run(
      process.execPath,
      [cliPath, "http", "--http2-prior-knowledge", `http://127.0.0.1:${port}/bin`],
      { timeout: 10_000 },
    );
    expect(stdout.split("\n")[0]).toBe("HTTP/2 202");
  });

  it("refuses a forward proxy (prior knowledge needs a tunnel)", async () => {
    const t = testIo();
    await expect(
      main(["http", "http://x/", "--http2-prior-knowledge", "--proxy", "http://127.0.0.1:1"], t.io),
    ).rejects.toBeInstanceOf(UsageError);
  });
});
