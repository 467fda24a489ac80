// Helpers for the server tests: a server over an in-memory connection pair or a real socket, and a client side
// that reads responses with our own ResponseParser (so tests see exactly what went over the wire).
import net from "node:net";
import type { Duplex } from "node:stream";
import { type Service, service } from "@tessera/core";
import { type Request, Response } from "@tessera/http";
import { type Conn, type Listener, listen, type MemoryConnPairOptions, memoryConnPair } from "@tessera/net";
import { type RawHeaders, type ResponseHead, ResponseParser, server } from "../../src/index.js";
import type { ServerHandler } from "../../src/server/connection.js";
import type { ServerOptions } from "../../src/server/options.js";

export interface Parsed {
  status: number;
  reason: string;
  headers: [string, string][];
  body: Buffer;
  trailers: [string, string][] | null;
  complete: boolean;
  /** The raw head (status line and fields) as received. */
  head: string;
}

/** Reads responses from the client side of a connection as they arrive. */
export class ResponseReader {
  readonly responses: Parsed[] = [];
  readonly chunks: Buffer[] = [];
  ended = false;
  error: unknown = null;
  readonly #parser: ResponseParser;
  #waiters: (() => void)[] = [];
  #current: Parsed | undefined;

  constructor(stream: Duplex) {
    const self = this;
    this.#parser = new ResponseParser({
      onHead(head: ResponseHead) {
        const h = head.headers;
        self.#current = {
          status: head.status,
          reason: head.reason,
          headers: h.toArray(),
          body: Buffer.alloc(0),
          trailers: null,
          complete: false,
          head: h.buffer.toString("latin1"),
        };
        self.responses.push(self.#current);
      },
      onBody(data: Buffer) {
        self.#current!.body = Buffer.concat([self.#current!.body, data]);
      },
      onMessageComplete(trailers: RawHeaders | null) {
        self.#current!.complete = true;
        self.#current!.trailers = trailers === null ? null : trailers.toArray();
        self.#wake();
      },
    });
    stream.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      if (this.error !== null) return;
      try {
        const consumed = this.#parser.execute(chunk);
        if (this.#parser.upgraded) this.upgradeBytes.push(chunk.subarray(consumed));
      } catch (error) {
        this.error = error;
      }
      this.#wake();
    });
    stream.on("end", () => {
      this.ended = true;
      try {
        this.#parser.finish();
      } catch (error) {
        this.error ??= error;
      }
      this.#wake();
    });
    stream.on("close", () => {
      this.ended = true;
      this.#wake();
    });
    stream.on("error", () => {});
  }

  /** Bytes after a 101 / 2xx-to-CONNECT head (the parser stops there). */
  readonly upgradeBytes: Buffer[] = [];

  /** Every request sent must be announced (HEAD and CONNECT change how a response is framed). */
  expect(...methods: string[]): this {
    for (const m of methods) this.#parser.pushRequestMethod(m);
    return this;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Wait until `predicate` holds (checked on every event), or fail after `ms`. */
  async until(predicate: () => boolean, what = "condition", ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what}; got ${this.responses.length} responses, ended=${this.ended}, bytes=${JSON.stringify(Buffer.concat(this.chunks).toString("latin1"))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The `n`-th complete response (0-based, interim 1xx included). */
  async response(n = 0): Promise<Parsed> {
    await this.until(() => (this.responses[n]?.complete ?? false) || this.error !== null, `response ${n}`);
    if (this.error !== null) throw this.error;
    return this.responses[n]!;
  }

  /** Wait for the server to close its side. */
  async closed(ms = 3000): Promise<void> {
    await this.until(() => this.ended, "the end of the connection", ms);
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString("latin1");
  }
}

export function header(res: Parsed, name: string): string | undefined {
  const lower = name.toLowerCase();
  return res.headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

/** A server over an in-memory pair: write raw requests on `client.stream`, read responses with `reader`. */
export function memoryServer(
  handler: ServerHandler,
  options: ServerOptions = {},
  pair: MemoryConnPairOptions = {},
) {
  const [client, conn] = memoryConnPair(pair);
  const errors: Error[] = [];
  const http = server(handler, { onError: (e) => errors.push(e), ...options });
  let done = false;
  const served = http.serve(conn).then(() => {
    done = true;
  });
  const reader = new ResponseReader(client.stream);
  return {
    client,
    conn,
    served,
    errors,
    reader,
    get done() {
      return done;
    },
    send(data: string | Buffer) {
      client.stream.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
    },
  };
}

/** `GET path HTTP/1.1` with a Host and any extra field lines. */
export function get(path = "/", ...fields: string[]): string {
  return `GET ${path} HTTP/1.1\r\nHost: test\r\n${fields.map((f) => `${f}\r\n`).join("")}\r\n`;
}

/** A request with a Content-Length body. */
export function post(path: string, body: string, ...fields: string[]): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: test\r\n${fields.map((f) => `${f}\r\n`).join("")}` +
    `Content-Length: ${Buffer.byteLength(body, "latin1")}\r\n\r\n${body}`
  );
}

/** A handler that answers `METHOD TARGET BODY` (reading the whole body). */
export const echoText: Service<Request, Response> = service(async (req: Request) => {
  const body = await req.body.text();
  return Response.text(`${req.method} ${req.target} ${body}`, { request: req });
});

/** A server on a real loopback socket. */
export async function tcpServer(
  handler: ServerHandler,
  options: ServerOptions = {},
): Promise<{ listener: Listener; port: number; errors: Error[]; close(): Promise<void> }> {
  const errors: Error[] = [];
  const listener = await listen(
    { host: "127.0.0.1", port: 0 },
    server(handler, { onError: (e) => errors.push(e), ...options }),
    { onError: (e) => errors.push(e), lingerTimeout: 1000 },
  );
  const port = (listener.address as { port: number }).port;
  return {
    listener,
    port,
    errors,
    close: async () => {
      await listener.close({ timeout: 1000 });
    },
  };
}

/** Connect to `port`, write `data` (all at once, or byte by byte), collect everything until the server closes. */
export function rawExchange(
  port: number,
  data: string | Buffer,
  options: { byteByByte?: boolean; end?: boolean; timeoutMs?: number } = {},
): Promise<{ bytes: Buffer; reset: boolean }> {
  const bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let reset = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `no close after ${options.timeoutMs ?? 5000} ms; got ${Buffer.concat(chunks).toString("latin1")}`,
        ),
      );
    }, options.timeoutMs ?? 5000);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ECONNRESET" || e.code === "EPIPE") reset = true;
      else reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ bytes: Buffer.concat(chunks), reset });
    });
    socket.on("connect", async () => {
      if (options.byteByByte) {
        for (let i = 0; i < bytes.length; i++) {
          if (socket.destroyed) return;
          socket.write(bytes.subarray(i, i + 1));
          await new Promise((r) => setImmediate(r));
        }
      } else socket.write(bytes);
      if (options.end) socket.end();
    });
  });
}

/** Parse a byte stream of responses (announcing each request's method). */
export function parseResponses(
  bytes: Buffer,
  methods: string[] = [],
): { responses: Parsed[]; error: unknown } {
  const responses: Parsed[] = [];
  let current: Parsed | undefined;
  const parser = new ResponseParser({
    onHead(head) {
      current = {
        status: head.status,
        reason: head.reason,
        headers: head.headers.toArray(),
        body: Buffer.alloc(0),
        trailers: null,
        complete: false,
        head: head.headers.buffer.toString("latin1"),
      };
      responses.push(current);
    },
    onBody(data) {
      current!.body = Buffer.concat([current!.body, data]);
    },
    onMessageComplete(trailers) {
      current!.complete = true;
      current!.trailers = trailers?.toArray() ?? null;
    },
  });
  for (const m of methods) parser.pushRequestMethod(m);
  let error: unknown = null;
  try {
    parser.execute(bytes);
    parser.finish();
  } catch (e) {
    error = e;
  }
  return { responses, error };
}

/** Resolve after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A Conn type re-export for tests. */
export type { Conn };
