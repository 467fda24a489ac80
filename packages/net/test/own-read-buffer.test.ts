import { type AddressInfo, connect, createServer, type Server, Socket } from "node:net";
import { PassThrough } from "node:stream";
import { TLSSocket } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { readIntoOwnBuffer } from "../src/own-read-buffer.js";
import { delay, once, until } from "./helpers.js";

describe("readIntoOwnBuffer", () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  /** A connected pair: [the side we switch (accepted by a server, as in a relay), the client writing to it]. */
  async function pair(): Promise<[Socket, Socket]> {
    let accepted!: (socket: Socket) => void;
    const gotSocket = new Promise<Socket>((resolve) => (accepted = resolve));
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, accepted);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const client = connect({ host: "127.0.0.1", port: (server.address() as AddressInfo).port });
    const socket = await gotSocket;
    sockets.push(socket, client);
    await once(client, "connect");
    return [socket, client];
  }

  it("hands every read of an accepted socket to the reader, in the same buffer, and never as 'data'", async () => {
    const [socket, client] = await pair();
    const buffer = Buffer.alloc(1024);
    const seen: Buffer[] = [];
    const buffers = new Set<Buffer>();
    let dataEvents = 0;
    socket.on("data", () => dataEvents++);
    expect(
      readIntoOwnBuffer(socket, buffer, (n, into) => {
        buffers.add(into);
        seen.push(Buffer.from(into.subarray(0, n)));
        return true;
      }),
    ).toBe(true);
    socket.resume();
    const sent = Buffer.alloc(10_000, "x");
    sent.write("first", 0);
    sent.write("last", sent.length - 4);
    client.end(sent);
    await once(socket, "end");
    expect(Buffer.concat(seen).equals(sent)).toBe(true);
    // 10 000 bytes through a 1 KiB buffer: many reads, all into the one buffer we gave.
    expect(seen.length).toBeGreaterThanOrEqual(10);
    expect([...buffers]).toEqual([buffer]);
    expect(dataEvents).toBe(0);
  });

  it("stops reading when the reader returns false, until resume()", async () => {
    const [socket, client] = await pair();
    let reads = 0;
    readIntoOwnBuffer(socket, Buffer.alloc(64), () => {
      reads++;
      return false;
    });
    socket.resume();
    client.write(Buffer.alloc(1_000));
    await until(() => reads === 1);
    await delay(30);
    expect(reads).toBe(1);
    socket.resume();
    await until(() => reads === 2);
  });

  it("switches nothing it cannot: a TLS socket, a wrapper stream, a destroyed or an already switched socket", async () => {
    const [socket] = await pair();
    const reader = () => true;
    expect(readIntoOwnBuffer(new PassThrough(), Buffer.alloc(8), reader)).toBe(false);
    const tls = new TLSSocket(new Socket());
    expect(readIntoOwnBuffer(tls, Buffer.alloc(8), reader)).toBe(false);
    tls.destroy();
    expect(readIntoOwnBuffer(socket, Buffer.alloc(8), reader)).toBe(true);
    expect(readIntoOwnBuffer(socket, Buffer.alloc(8), reader)).toBe(false);
    const [other] = await pair();
    other.destroy();
    expect(readIntoOwnBuffer(other, Buffer.alloc(8), reader)).toBe(false);
  });
});
