import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { AbortedError } from "@tessera/core";
import { describe, expect, it } from "vitest";
import {
  ConnectionRefusedError,
  ConnectTimeoutError,
  happyEyeballs,
  interleaveAddresses,
  type LookupAddress,
  UnreachableError,
} from "../src/index.js";
import { delay } from "./helpers.js";

const v6 = (address: string): LookupAddress => ({ address, family: 6 });
const v4 = (address: string): LookupAddress => ({ address, family: 4 });

describe("interleaveAddresses", () => {
  it("alternates families starting with the resolver's first, keeping order within a family", () => {
    const ordered = interleaveAddresses([
      v6("2001:db8::1"),
      v6("2001:db8::2"),
      v4("192.0.2.1"),
      v4("192.0.2.2"),
    ]);
    expect(ordered.map((a) => a.address)).toEqual(["2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2"]);
    const v4First = interleaveAddresses([v4("192.0.2.1"), v6("2001:db8::1"), v6("2001:db8::2")]);
    expect(v4First.map((a) => a.address)).toEqual(["192.0.2.1", "2001:db8::1", "2001:db8::2"]);
  });

  it("drops duplicates and handles empty input", () => {
    expect(interleaveAddresses([v4("192.0.2.1"), v4("192.0.2.1")])).toHaveLength(1);
    expect(interleaveAddresses([])).toEqual([]);
  });
});

// A stand-in for a connecting socket: the test decides when it connects or fails.
class FakeSocket extends EventEmitter {
  destroyed = false;
  readonly startedAt = Date.now();
  constructor(readonly address: string) {
    super();
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
  succeed(): void {
    this.emit("connect");
  }
  fail(code: string): void {
    this.emit("error", Object.assign(new Error(code), { code }));
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const connect = (address: LookupAddress): Socket => {
    const socket = new FakeSocket(address.address);
    sockets.push(socket);
    return socket as unknown as Socket;
  };
  return { sockets, connect };
}

describe("happyEyeballs", () => {
  it("staggers attempts by the attempt delay; the first to connect wins and the others are destroyed", async () => {
    const { sockets, connect } = harness();
    const started = Date.now();
    const racing = happyEyeballs([v6("::1"), v4("127.0.0.1"), v6("::2")], {
      port: 1,
      attemptDelay: 30,
      connect,
    });
    expect(sockets).toHaveLength(1);
    await delay(45);
    expect(sockets).toHaveLength(2);
    expect(sockets[1]!.startedAt - started).toBeGreaterThanOrEqual(25);
    sockets[1]!.succeed();
    const winner = await racing;
    expect(winner.address.address).toBe("127.0.0.1");
    expect(winner.socket).toBe(sockets[1]);
    expect(sockets[0]!.destroyed).toBe(true);
    expect(sockets[1]!.destroyed).toBe(false);
    await delay(45);
    expect(sockets).toHaveLength(2); // the timer for the third attempt was cleared
  });

  it("starts the next attempt at once when one fails, without waiting for the delay", async () => {
    const { sockets, connect } = harness();
    const racing = happyEyeballs([v6("::1"), v4("127.0.0.1")], { port: 1, attemptDelay: 10_000, connect });
    sockets[0]!.fail("ENETUNREACH");
    expect(sockets).toHaveLength(2);
    sockets[1]!.succeed();
    expect((await racing).address.address).toBe("127.0.0.1");
  });

  it("rejects with a typed error listing all attempts when all fail", async () => {
    const { sockets, connect } = harness();
    const racing = happyEyeballs([v6("::1"), v4("127.0.0.1")], { host: "h.example", port: 80, connect });
    sockets[0]!.fail("EADDRNOTAVAIL");
    sockets[1]!.fail("ECONNREFUSED");
    const error = (await racing.catch((e: unknown) => e)) as ConnectionRefusedError;
    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect(error.address).toBe("127.0.0.1");
    expect(error.attempts).toHaveLength(2);
    expect(error.message).toContain("[::1]: ERR_NET_UNREACHABLE");
  });

  it("reports unreachable when every family is unreachable", async () => {
    const { sockets, connect } = harness();
    const racing = happyEyeballs([v6("::1")], { port: 80, connect });
    sockets[0]!.fail("ENETUNREACH");
    await expect(racing).rejects.toBeInstanceOf(UnreachableError);
  });

  it("destroys every pending attempt and clears its timer when aborted", async () => {
    const { sockets, connect } = harness();
    const controller = new AbortController();
    const racing = happyEyeballs([v4("10.0.0.1"), v4("10.0.0.2"), v4("10.0.0.3")], {
      port: 80,
      attemptDelay: 20,
      connect,
      signal: controller.signal,
    });
    await delay(30);
    controller.abort();
    await expect(racing).rejects.toBeInstanceOf(AbortedError);
    expect(sockets.every((s) => s.destroyed)).toBe(true);
    const count = sockets.length;
    await delay(50);
    expect(sockets).toHaveLength(count);
  });

  it("timeout: destroys every pending attempt and rejects with ConnectTimeoutError naming the caller's limit", async () => {
    const { sockets, connect } = harness();
    const racing = happyEyeballs([v6("::1"), v4("127.0.0.1")], {
      host: "h.example",
      port: 80,
      attemptDelay: 10,
      connect,
      timeout: 40,
      timeoutMs: 1_000,
    });
    sockets[0]!.fail("ECONNREFUSED");
    const error = await racing.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 1_000, host: "h.example", port: 80 });
    expect((error as Error).message).toBe("connecting to h.example:80 timed out after 1000 ms");
    // The first attempt failed before; the second was still pending and is destroyed.
    expect((error as Error).cause).toMatchObject({ code: "ECONNREFUSED" });
    expect(sockets.map((s) => s.destroyed)).toEqual([false, true]);
  });

  it("turns a connect function that throws into a failed attempt", async () => {
    const racing = happyEyeballs([v4("127.0.0.1")], {
      port: 80,
      connect: () => {
        throw Object.assign(new Error("EACCES"), { code: "EACCES" });
      },
    });
    await expect(racing).rejects.toMatchObject({ code: "ERR_NET_CONNECT" });
  });
});
