import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { peer } from "../../../test-support/peers.js";
import { UsageError } from "../src/args.js";
import type { EchoDocument } from "../src/commands/echo.js";
import { main } from "../src/main.js";
import { roundTrip, startServer, stopServers, testIo } from "./cli-helpers.js";

const run = promisify(execFile);
afterEach(stopServers);

/** Send raw bytes (then end), read until the server closes. */
async function raw(port: number, data: string): Promise<string> {
  return (await roundTrip(port, data)).toString("latin1");
}

const request = "GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
const header = "PROXY TCP4 203.0.113.9 198.51.100.2 5555 80\r\n";

function documentOf(reply: string): EchoDocument {
  const [head, body] = reply.split("\r\n\r\n");
  expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  return JSON.parse(body!) as EchoDocument;
}

describe("--proxy-protocol on server commands", () => {
  it("tessera echo --proxy-protocol shows the client from the header next to the socket's peer", async () => {
    const { port } = await startServer(["echo", "--proxy-protocol"]);
    const doc = documentOf(await raw(port, header + request));
    expect(doc.proxied).toEqual({ client: "203.0.113.9:5555", destination: "198.51.100.2:80" });
    expect(doc.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(doc.target).toBe("/who");
  });

  it("strict: a connection without a header is closed unanswered", async () => {
    const { port } = await startServer(["echo", "--proxy-protocol"]);
    expect(await raw(port, request)).toBe("");
  });

  it("--proxy-protocol-optional serves both, and shows no proxied client without a header", async () => {
    const { port } = await startServer(["echo", "--proxy-protocol-optional"]);
    expect(documentOf(await raw(port, header + request)).proxied?.client).toBe("203.0.113.9:5555");
    const direct = documentOf(await raw(port, request));
    expect(direct.proxied).toBeUndefined();
    expect(direct.target).toBe("/who");
  });

  it("without the flag a header is not read (the echo server answers it as a bad request)", async () => {
    const { port } = await startServer(["echo"]);
    expect(await raw(port, header + request)).toMatch(/^HTTP\/1\.1 400 /);
  });

  it("tcp-echo --proxy-protocol echoes what follows the header, not the header", async () => {
    const { port } = await startServer(["tcp-echo", "--proxy-protocol"]);
    expect((await roundTrip(port, `${header}hello`)).toString()).toBe("hello");
  });

  it("demo --proxy-protocol: the relay reads the header, the echo server behind it gets the plain bytes", async () => {
    const { port } = await startServer(["demo", "--proxy-protocol"]);
    expect((await roundTrip(port, `${header}through the relay`)).toString()).toBe("through the relay");
  });

  it("the two flags together are a usage error", async () => {
    const { io } = testIo();
    await expect(main(["echo", "--proxy-protocol", "--proxy-protocol-optional"], io)).rejects.toBeInstanceOf(
      UsageError,
    );
  });

  it("curl --haproxy-protocol against tessera echo --proxy-protocol: the proxied client is curl itself", async () => {
    if (!peer("curl")) return;
    const { port } = await startServer(["echo", "--proxy-protocol"]);
    const { stdout } = await run("curl", [
      "-sS",
      "--max-time",
      "10",
      "--haproxy-protocol",
      `http://127.0.0.1:${port}/c`,
    ]);
    const doc = JSON.parse(stdout) as EchoDocument;
    expect(doc.proxied?.client).toBe(doc.peer);
    expect(doc.proxied?.destination).toBe(`127.0.0.1:${port}`);
  });
});
