import net from "node:net";
import { stack } from "@tessera/core";
import { connectRequest, tcpConnector } from "@tessera/net";
import { describe, expect, it } from "vitest";
import { encodeMessage, Reply, socks5Address, socks5Connect } from "../src/index.js";
import { later, rawSocket, startEcho, startSocks } from "./support.js";

describe("graceful shutdown", () => {
  it("a request that arrives after the listener began closing gets 01; open tunnels are reset after the grace period", async () => {
    const echo = await startEcho();
    const { port, listener } = await startSocks();
    // A tunnel that is open when shutdown begins.
    const tunnel = await stack(socks5Connect({ proxy: `127.0.0.1:${port}` }))
      .into(tcpConnector())
      .serve(connectRequest(`127.0.0.1:${echo}`));
    later(() => tunnel.stream.destroy());
    const tunnelClosed = new Promise((r) => tunnel.stream.once("close", r));
    tunnel.stream.on("error", () => {});
    // A client in the middle of its handshake.
    const raw = await rawSocket(port);
    raw.socket.write(Buffer.from([5, 1, 0]));
    expect([...(await raw.read(2))]).toEqual([5, 0]);

    const closing = listener.close({ timeout: 1_000 });
    raw.socket.write(encodeMessage(1, socks5Address({ host: "127.0.0.1", port: echo })));
    expect((await raw.read(10))[1]).toBe(Reply.GeneralFailure);
    // The tunnel still works during the grace period...
    tunnel.stream.write("still");
    expect(await new Promise<string>((r) => tunnel.stream.once("data", (d: Buffer) => r(d.toString())))).toBe(
      "still",
    );
    // ...and is torn down when it ends.
    const result = await closing;
    expect(result.forced).toBe(true);
    await tunnelClosed;
  });
});

describe("IPv6", () => {
  it("CONNECT to an IPv6 literal; the reply's BND address is IPv6", async () => {
    const server = net.createServer((s) => {
      s.on("error", () => {});
      s.pipe(s);
    });
    await new Promise<void>((r) => server.listen(0, "::1", r));
    later(() => new Promise((r) => server.close(r)));
    const { port } = await startSocks();
    const raw = await rawSocket(port);
    raw.socket.write(Buffer.from([5, 1, 0]));
    await raw.read(2);
    raw.socket.write(
      encodeMessage(1, socks5Address({ host: "::1", port: (server.address() as net.AddressInfo).port })),
    );
    const reply = await raw.read(4 + 16 + 2);
    expect([...reply.subarray(0, 4)]).toEqual([5, 0, 0, 4]);
    expect([...reply.subarray(4, 20)]).toEqual([...Buffer.alloc(15), 1]);
    raw.socket.write("six");
    expect((await raw.read(3)).toString()).toBe("six");
  });
});
