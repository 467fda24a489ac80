import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import type { Listener } from "@tessera/net";
import { conn } from "@tessera/net";
import { afterAll, expect, it } from "vitest";
import { RawClient } from "./support/raw-client.js";

// The README's server example must run: it is written to a module (port 0 instead of 8080) and imported.
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const section = readme.slice(readme.indexOf("## Serving HTTP/2"));
const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
const file = new URL("./readme-server.generated.ts", import.meta.url);

afterAll(() => rmSync(file, { force: true }));

it("the README server example serves GET and POST over HTTP/2", async () => {
  expect(code).toContain('from "@tessera/http2"');
  writeFileSync(file, `${code.replace("port: 8080", "port: 0")}\nexport { listener };\n`);
  const { listener } = (await import(file.href)) as { listener: Listener };
  try {
    const address = listener.address as { port: number };
    const socket = connect(address.port, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    const client = new RawClient(conn(socket));
    await client.handshake();
    client.get(1, "/world");
    expect((await client.response(1)).body).toBe("hello /world over HTTP/2\n");
    client.headers(
      3,
      [
        [":method", "POST"],
        [":scheme", "http"],
        [":path", "/"],
      ],
      false,
    );
    client.w.data(3, Buffer.from("abcd"), { endStream: true });
    client.flush();
    expect((await client.response(3)).body).toBe("got 4 bytes\n");
    socket.destroy();
  } finally {
    await listener.close({ timeout: 1000 });
  }
});
