import { execFile } from "node:child_process";
import http from "node:http";
import type net from "node:net";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../src/args.js";
import { main } from "../src/main.js";
import { cliPath, testIo } from "./cli-helpers.js";

const run = promisify(execFile);
const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    }),
  );
});

async function listen(server: http.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

/** An origin that answers with what it received, in headers of its own casing. */
async function origin(): Promise<number> {
  return listen(
    http.createServer(async (req, res) => {
      let body = "";
      for await (const chunk of req) body += chunk;
      const text = `${req.method} ${req.url} x-a=${req.headers["x-a"] ?? "-"} body=${body}\n`;
      res.writeHead(201, "Made", [
        "X-Custom-Header",
        "yes",
        "content-type",
        "text/plain",
        "Content-Length",
        String(text.length),
      ]);
      res.end(text);
    }),
  );
}

describe("tessera http", () => {
  it("prints the status line, the headers as sent (casing, order), a blank line and the body", async () => {
    const port = await origin();
    const t = testIo();
    const result = await main(["http", `http://127.0.0.1:${port}/path?q=1`], t.io);
    expect(result).toBeUndefined();
    expect(t.out).toEqual([
      "HTTP/1.1 201 Made",
      "X-Custom-Header: yes",
      "content-type: text/plain",
      "Content-Length: 26",
      expect.stringMatching(/^Date: /),
      "Connection: keep-alive",
      "Keep-Alive: timeout=5",
      "",
      "GET /path?q=1 x-a=- body=",
    ]);
    expect(t.err).toEqual([]);
  });

  it("-X, -H and -d set method, headers and body; -v prints the request head to stderr", async () => {
    const port = await origin();
    const t = testIo();
    await main(
      ["http", `http://127.0.0.1:${port}/items`, "-X", "PUT", "-H", "X-A: 1", "-d", "hello", "-v"],
      t.io,
    );
    expect(t.out.at(-1)).toBe("PUT /items x-a=1 body=hello");
    expect(t.err).toEqual([
      "> PUT /items HTTP/1.1",
      `> Host: 127.0.0.1:${port}`,
      "> X-A: 1",
      "> Content-Length: 5",
      ">",
    ]);
    const post = testIo();
    await main(["http", `http://127.0.0.1:${port}/`, "-d", "x"], post.io);
    expect(post.out.at(-1)).toBe("POST / x-a=- body=x");
  });

  it("--proxy sends plain http to the proxy in absolute form, with the URL's credentials", async () => {
    const port = await origin();
    const seen: string[] = [];
    const proxyPort = await listen(
      http.createServer((req, res) => {
        seen.push(`${req.url} ${req.headers["proxy-authorization"]}`);
        const url = new URL(req.url!);
        http.get({ host: url.hostname, port: url.port, path: url.pathname }, (up) => {
          res.writeHead(up.statusCode!, up.rawHeaders);
          up.pipe(res);
        });
      }),
    );
    const t = testIo();
    await main(
      ["http", `http://127.0.0.1:${port}/via`, "--proxy", `http://me:s%3Acret@127.0.0.1:${proxyPort}`, "-v"],
      t.io,
    );
    expect(t.out.at(-1)).toBe("GET /via x-a=- body=");
    expect(seen).toEqual([
      `http://127.0.0.1:${port}/via Basic ${Buffer.from("me:s:cret").toString("base64")}`,
    ]);
    expect(t.err[0]).toBe(`> GET http://127.0.0.1:${port}/via HTTP/1.1`);
  });

  it("usage errors: no URL, a bad header, a bad proxy", async () => {
    const t = testIo();
    await expect(main(["http"], t.io)).rejects.toBeInstanceOf(UsageError);
    await expect(main(["http", "http://127.0.0.1:1/", "-H", "nocolon"], t.io)).rejects.toBeInstanceOf(
      UsageError,
    );
    await expect(main(["http", "http://127.0.0.1:1/", "--proxy", "socks5://x"], t.io)).rejects.toBeInstanceOf(
      UsageError,
    );
    await expect(main(["http", "not a url"], t.io)).rejects.toBeInstanceOf(UsageError);
    const help = testIo();
    await main(["http", "--help"], help.io);
    expect(help.out[0]).toContain("tessera http URL");
  });

  it("a refused connection rejects with the connector's typed error", async () => {
    const closed = await listen(http.createServer());
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const t = testIo();
    await expect(main(["http", `http://127.0.0.1:${closed}/`], t.io)).rejects.toMatchObject({
      code: "ERR_NET_CONNECTION_REFUSED",
    });
  });

  it("the built binary prints the response and exits 0 (no socket keeps it alive)", async () => {
    const port = await origin();
    const { stdout } = await run(process.execPath, [cliPath, "http", `http://127.0.0.1:${port}/bin`], {
      timeout: 10_000,
    });
    expect(stdout.split("\n")[0]).toBe("HTTP/1.1 201 Made");
    expect(stdout.endsWith("GET /bin x-a=- body=\n")).toBe(true);
  });

  it("regression: the built binary exits quietly when its reader closes the pipe early (EPIPE)", async () => {
    const big = "x".repeat(4 * 1024 * 1024);
    const port = await listen(http.createServer((_req, res) => res.end(big)));
    const { stdout, stderr } = await run(
      "sh",
      ["-c", `node ${cliPath} http http://127.0.0.1:${port}/ | head -c 10`],
      { timeout: 10_000 },
    );
    expect(stdout.startsWith("HTTP/1.1 2")).toBe(true);
    expect(stderr).not.toContain("EPIPE");
    expect(stderr).not.toContain("Unhandled");
  });

  it("the built binary reports a failure as message and code, without a stack trace", async () => {
    const closed = await listen(http.createServer());
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const error = await run(process.execPath, [cliPath, "http", `http://127.0.0.1:${closed}/`], {
      timeout: 10_000,
    }).catch((e: { code: number; stderr: string }) => e);
    expect((error as { code: number }).code).toBe(1);
    const stderr = (error as { stderr: string }).stderr;
    expect(stderr).toMatch(/^tessera: .*refused.*\(ERR_NET_CONNECTION_REFUSED\)\n$/);
    expect(stderr).not.toContain("    at ");
  });
});
