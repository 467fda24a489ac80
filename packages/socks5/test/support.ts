import { createSocket } from "node:dgram";
import net from "node:net";
import type { Service } from "@tessera/core";
import { type Conn, type Listener, listen } from "@tessera/net";
import { afterEach } from "vitest";
import { type Socks5ServerOptions, socks5Server } from "../src/index.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** Run `fn` after the current test. */
export function later(fn: () => unknown): void {
  cleanups.push(fn);
}

/** A SOCKS5 server on 127.0.0.1:0; `errors` collects what the service rejected with. */
export async function startSocks(options: Socks5ServerOptions = {}, service?: Service<Conn, void>) {
  const list: Error[] = [];
  /** The service's rejections; `wait(n)` resolves once there are n (they come after the client saw the close). */
  const errors = Object.assign(list, {
    wait: async (n: number): Promise<Error[]> => {
      for (let i = 0; i < 500 && list.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      return list;
    },
  });
  let served = 0;
  const inner = service ?? socks5Server(options);
  const counting: Service<Conn, void> = {
    serve: (c) =>
      inner.serve(c).finally(() => {
        served++;
      }),
  };
  const listener: Listener = await listen({ host: "127.0.0.1", port: 0 }, counting, {
    onError: (e) => list.push(e),
  });
  later(() => listener.close({ timeout: 100 }));
  const port = (listener.address as { port: number }).port;
  return { port, errors, listener, served: () => served };
}

/** A TCP echo server on 127.0.0.1:0. */
export async function startEcho() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  later(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

/** A UDP echo server on 127.0.0.1:0; `received` lists what it got. */
export async function startUdpEcho() {
  const socket = createSocket("udp4");
  const received: string[] = [];
  socket.on("message", (m, from) => {
    received.push(m.toString());
    socket.send(Buffer.concat([Buffer.from("echo:"), m]), from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  later(() => socket.close());
  return { port: socket.address().port, received };
}

/** A port on 127.0.0.1 where nothing listens (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * Connect to `port`, write `chunks` one by one (a tick apart, each its own segment), and collect every byte the
 * server sends until it closes (at most 5 s).
 */
export function rawExchange(
  port: number,
  chunks: readonly (Buffer | number[])[],
  opts: { end?: boolean } = {},
) {
  return new Promise<Buffer>((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 5 s; got ${Buffer.concat(got).toString("hex")}`));
    }, 5_000);
    socket.on("data", (d) => got.push(d));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got));
    });
    socket.on("connect", async () => {
      for (const chunk of chunks) {
        socket.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
        await new Promise((r) => setTimeout(r, 2));
      }
      if (opts.end) socket.end();
    });
  });
}

/** Open a raw socket and return helpers to read exactly n bytes. */
export async function rawSocket(port: number) {
  const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
  socket.on("error", () => {});
  await new Promise((r) => socket.once("connect", r));
  later(() => socket.destroy());
  let buffered = Buffer.alloc(0);
  let ended = false;
  const waiters: (() => void)[] = [];
  socket.on("data", (d) => {
    buffered = Buffer.concat([buffered, d]);
    for (const w of waiters.splice(0)) w();
  });
  socket.on("close", () => {
    ended = true;
    for (const w of waiters.splice(0)) w();
  });
  const read = async (n: number): Promise<Buffer> => {
    while (buffered.length < n) {
      if (ended)
        throw new Error(`closed after ${buffered.length} of ${n} bytes: ${buffered.toString("hex")}`);
      await new Promise<void>((r) => waiters.push(r));
    }
    const out = buffered.subarray(0, n);
    buffered = buffered.subarray(n);
    return out;
  };
  const closed = () =>
    new Promise<Buffer>((r) => {
      if (ended) return r(buffered);
      socket.once("close", () => r(buffered));
    });
  return { socket, read, closed };
}

/** Write `text` on a connection and resolve with as many characters as come back. */
export function roundTrip(c: Conn, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    c.stream.on("data", (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) resolve(got);
    });
    c.stream.on("error", reject);
    c.stream.write(text);
  });
}
