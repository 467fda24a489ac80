import { stack } from "@tessera/core";
import { connectRequest, listen, tcpConnector } from "@tessera/net";
import { Reply, type Socks5ReplyError, socks5Connect, socks5Server } from "@tessera/socks5";
import { afterEach, describe, expect, it } from "vitest";
import { curl } from "../../../test-support/curl.js";
import { peer } from "../../../test-support/peers.js";
import type { EchoDocument } from "../src/commands/echo.js";
import { main } from "../src/main.js";
import { exitOf, startCli, startServer, stopServers, testIo } from "./cli-helpers.js";

afterEach(stopServers);

/** `tessera socks5` that reaches loopback (the tests' targets are there), with --auth. */
function startOpenSocks(auth: string) {
  return startServer(["socks5", "--listen", "127.0.0.1:0", "--allow-private", "--auth", auth]);
}

function via(port: number, username?: string, password?: string) {
  return stack(socks5Connect({ proxy: `127.0.0.1:${port}`, username, password })).into(tcpConnector());
}

describe("tessera socks5", () => {
  it("--help names its options; bad --auth is a usage error; it is listed in the usage", async () => {
    const { io, out } = testIo();
    await main(["socks5", "--help"], io);
    for (const word of ["--auth USER:PASS", "--allow-private", "--connect-timeout", "--listen HOST:PORT"]) {
      expect(out.join("\n")).toContain(word);
    }
    await expect(main(["socks5", "--auth", "nocolon"], testIo().io)).rejects.toThrow(/--auth/);
    const usage = testIo();
    await main(["--help"], usage.io);
    expect(usage.out.join("\n")).toMatch(/socks5 +SOCKS5 proxy/);
  });

  it("refuses loopback targets by default (literal and by name) with reply 02; --allow-private lets them in", async () => {
    const echo = await startServer(["echo", "--listen", "127.0.0.1:0"]);
    const strict = await startServer(["socks5", "--listen", "127.0.0.1:0"]);
    for (const target of [`127.0.0.1:${echo.port}`, `localhost:${echo.port}`]) {
      const error = await via(strict.port)
        .serve(connectRequest(target))
        .catch((e) => e);
      expect((error as Socks5ReplyError).reply).toBe(Reply.NotAllowed);
    }
    const open = await startServer(["socks5", "--listen", "127.0.0.1:0", "--allow-private"]);
    const tunnel = await via(open.port).serve(connectRequest(`localhost:${echo.port}`));
    tunnel.stream.end("GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    let text = "";
    for await (const chunk of tunnel.stream) text += chunk;
    expect(text).toMatch(/^HTTP\/1.1 200/);
  });

  it("curl --socks5-hostname and -x socks5h://user:pass@ through it; a wrong password is refused", async () => {
    if (!peer("curl")) return;
    const echo = await startServer(["echo", "--listen", "127.0.0.1:0"]);
    const socks = await startOpenSocks("me:p:w");
    const url = `http://localhost:${echo.port}/via-socks`;
    const ok = await curl("-x", `socks5h://me:p%3Aw@127.0.0.1:${socks.port}`, url);
    expect((JSON.parse(ok.stdout) as EchoDocument).target).toBe("/via-socks");
    const wrong = await curl("-x", `socks5h://me:nope@127.0.0.1:${socks.port}`, url);
    expect(wrong.code).toBe(97);
    // --socks5: curl resolves the name itself; -U gives the SOCKS5 credentials.
    const plain = await curl("--socks5", `127.0.0.1:${socks.port}`, "-U", "me:p:w", url);
    expect((JSON.parse(plain.stdout) as EchoDocument).target).toBe("/via-socks");
  });

  it("tessera http --proxy socks5h://USER:PASS@HOST:PORT and socks5://", async () => {
    const echo = await startServer(["echo", "--listen", "127.0.0.1:0"]);
    const socks = await startOpenSocks("u:pw");
    for (const scheme of ["socks5h", "socks5"]) {
      const t = testIo();
      await main(
        [
          "http",
          `http://localhost:${echo.port}/${scheme}`,
          "--proxy",
          `${scheme}://u:pw@127.0.0.1:${socks.port}`,
        ],
        t.io,
      );
      expect(t.out[0]).toMatch(/^HTTP\/1.1 200/);
      const body = t.out.slice(t.out.indexOf("") + 1).join("\n");
      expect((JSON.parse(body) as EchoDocument).target).toBe(`/${scheme}`);
    }
    const refused = main(
      ["http", `http://localhost:${echo.port}/`, "--proxy", `socks5h://u:bad@127.0.0.1:${socks.port}`],
      testIo().io,
    );
    await expect(refused).rejects.toMatchObject({ code: "ERR_SOCKS5_AUTH_FAILED" });
    await expect(
      main(["http", "http://a/", "--proxy", "socks5h://127.0.0.1:1", "--proxy-tunnel"], testIo().io),
    ).rejects.toThrow(/--proxy-tunnel/);
    await expect(main(["http", "http://a/", "--proxy", "socks5://127.0.0.1"], testIo().io)).rejects.toThrow(
      /must be socks5:\/\/\[USER:PASS@\]HOST:PORT/,
    );
    await expect(main(["http", "http://a/", "--proxy", "socks4://127.0.0.1:1"], testIo().io)).rejects.toThrow(
      /only http:\/\/, socks5/,
    );
  });
  it("tessera http --proxy socks5:// resolves the name here (the proxy gets an IP address); socks5h:// sends the name", async () => {
    const echo = await startServer(["echo", "--listen", "127.0.0.1:0"]);
    const asked: string[] = [];
    const recording = socks5Server({
      policy: {
        serve: async ({ target }) => {
          asked.push(target.host);
          return true;
        },
      },
    });
    const socks = await listen({ host: "127.0.0.1", port: 0 }, recording);
    try {
      for (const scheme of ["socks5h", "socks5"]) {
        const t = testIo();
        await main(
          [
            "http",
            `http://localhost:${echo.port}/`,
            "--proxy",
            `${scheme}://127.0.0.1:${socks.address.port}`,
          ],
          t.io,
        );
        expect(t.out[0]).toMatch(/^HTTP\/1.1 200/);
      }
    } finally {
      await socks.close();
    }
    expect(asked).toEqual(["localhost", expect.stringMatching(/^(127\.0\.0\.1|::1)$/)]);
  });
});

describe("tessera proxy speaks SOCKS5 and HTTP on one port", () => {
  it("curl --socks5-hostname and curl -x http:// through the same port", async () => {
    if (!peer("curl")) return;
    const echo = await startServer(["echo", "--listen", "127.0.0.1:0"]);
    const proxy = await startServer(["proxy", "--listen", "127.0.0.1:0"]);
    const socks = await curl(
      "--socks5-hostname",
      `127.0.0.1:${proxy.port}`,
      `http://localhost:${echo.port}/s`,
    );
    expect((JSON.parse(socks.stdout) as EchoDocument).target).toBe("/s");
    const httpProxied = await curl("-x", `http://127.0.0.1:${proxy.port}`, `http://127.0.0.1:${echo.port}/h`);
    const doc = JSON.parse(httpProxied.stdout) as EchoDocument;
    expect(doc.target).toBe("/h");
    expect(doc.headers).toContainEqual(["Via", "1.1 tessera"]);
  });

  it("--auth guards both: RFC 1929 for SOCKS5, Basic for HTTP", async () => {
    const echo = await startServer(["echo", "--listen", "127.0.0.1:0"]);
    const proxy = await startServer(["proxy", "--listen", "127.0.0.1:0", "--auth", "a:b"]);
    const tunnel = await via(proxy.port, "a", "b").serve(connectRequest(`127.0.0.1:${echo.port}`));
    tunnel.stream.destroy();
    const error = await via(proxy.port, "a", "wrong")
      .serve(connectRequest(`127.0.0.1:${echo.port}`))
      .catch((e) => e);
    expect(error).toMatchObject({ code: "ERR_SOCKS5_AUTH_FAILED" });
    const viaHttp = async (credentials: string): Promise<string | undefined> => {
      const t = testIo();
      const proxyUrl = `http://${credentials}127.0.0.1:${proxy.port}`;
      await main(["http", `http://127.0.0.1:${echo.port}/basic`, "--proxy", proxyUrl], t.io);
      return t.out[0];
    };
    expect(await viaHttp("a:b@")).toMatch(/^HTTP\/1.1 200/);
    expect(await viaHttp("a:wrong@")).toMatch(/^HTTP\/1.1 407/);
    expect(await viaHttp("")).toMatch(/^HTTP\/1.1 407/);
  });
});

describe("the built binary", () => {
  it("tessera socks5 relays curl and exits 0 on SIGTERM", async () => {
    const echo = await startCli(["echo", "--listen", "127.0.0.1:0"]);
    const socks = await startCli(["socks5", "--listen", "127.0.0.1:0", "--allow-private"]);
    try {
      if (peer("curl")) {
        const r = await curl(
          "--socks5-hostname",
          `127.0.0.1:${socks.port}`,
          `http://localhost:${echo.port}/bin`,
        );
        expect((JSON.parse(r.stdout) as EchoDocument).target).toBe("/bin");
      }
    } finally {
      echo.child.kill("SIGTERM");
      socks.child.kill("SIGTERM");
    }
    expect((await exitOf(socks.child)).code).toBe(0);
    expect((await exitOf(echo.child)).code).toBe(0);
  });
});
