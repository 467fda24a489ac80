import type { Duplex } from "node:stream";
import { AbortedError, neverAborts } from "@tessera/core";
import { ConnectionResetError, memoryPair } from "@tessera/net";
import { describe, expect, it } from "vitest";
import { parseMessage, parseMethodSelection, readMessage, Socks5ProtocolError } from "../src/index.js";

async function readAll(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const REPLY = Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90]);

describe("readMessage", () => {
  it("reads a message split anywhere and hands on the stream with the bytes after it first", async () => {
    const [a, b] = memoryPair();
    const read = readMessage(b, parseMessage, neverAborts());
    a.write(REPLY.subarray(0, 3));
    await new Promise((r) => setImmediate(r));
    a.write(Buffer.concat([REPLY.subarray(3), Buffer.from("early")]));
    a.end("-late");
    const { value, stream } = await read;
    expect(value).toEqual({ code: 0, address: { type: "ipv4", host: "127.0.0.1", port: 8080 } });
    expect((await readAll(stream)).toString()).toBe("early-late");
  });

  it("reads back-to-back messages from the stream the previous one handed on", async () => {
    const [a, b] = memoryPair();
    a.write(Buffer.concat([Buffer.from([5, 2]), REPLY]));
    const first = await readMessage(b, parseMethodSelection, neverAborts());
    expect(first.value).toBe(2);
    const second = await readMessage(first.stream, parseMessage, neverAborts());
    expect(second.value.address.port).toBe(8080);
  });

  it("a peer that ends mid-message, or before one, is a truncated Socks5ProtocolError", async () => {
    const [a, b] = memoryPair();
    const read = readMessage(b, parseMessage, neverAborts());
    a.end(REPLY.subarray(0, 6));
    await expect(read).rejects.toBeInstanceOf(Socks5ProtocolError);
    await expect(read).rejects.toMatchObject({ reason: "truncated" });
    const [c, d] = memoryPair();
    const before = readMessage(d, parseMessage, neverAborts());
    c.end();
    await expect(before).rejects.toMatchObject({ reason: "truncated" });
  });

  it("a parser error rejects at once, a reset is a typed socket error", async () => {
    const [a, b] = memoryPair();
    const bad = readMessage(b, parseMessage, neverAborts());
    a.write(Buffer.from([4, 0]));
    await expect(bad).rejects.toMatchObject({ reason: "version" });
    const [c, d] = memoryPair();
    const reset = readMessage(d, parseMessage, neverAborts());
    c.resetAndDestroy();
    await expect(reset).rejects.toBeInstanceOf(ConnectionResetError);
  });

  it("stops with the signal's reason", async () => {
    const [, b] = memoryPair();
    const controller = new AbortController();
    const read = readMessage(b, parseMessage, controller.signal);
    const reason = new Error("stop");
    controller.abort(reason);
    await expect(read).rejects.toBeInstanceOf(AbortedError);
    await expect(read).rejects.toMatchObject({ cause: reason });
  });
});
