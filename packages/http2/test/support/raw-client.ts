import type { Service } from "@tessera/core";
import type { Request, Response } from "@tessera/http";
import { type Conn, memoryConnPair } from "@tessera/net";
import {
  type Frame,
  FrameFlag,
  FrameReader,
  FrameType,
  FrameWriter,
  HeaderBlockAssembler,
  HpackDecoder,
  HpackEncoder,
  type Http2ServerOptions,
  server,
} from "../../src/index.js";

/** A frame the server sent, copied out of the socket chunk. */
export interface Got {
  type: number;
  flags: number;
  streamId: number;
  data: Buffer;
  errorCode: number;
  lastStreamId: number;
  windowIncrement: number;
  settings: number[];
  endStream: boolean;
  /** HEADERS: the decoded fields as pairs. */
  headers?: [string, string][];
}

/**
 * A raw HTTP/2 client for tests: writes whatever frames a test wants (valid or hostile) and records every frame
 * the server sends, decoded.
 */
export class RawClient {
  readonly conn: Conn;
  readonly frames: Got[] = [];
  readonly w = new FrameWriter();
  readonly encoder = new HpackEncoder();
  readonly decoder = new HpackDecoder();
  ended = false;
  closed = false;
  readError: Error | null = null;
  #waiters: (() => void)[] = [];
  readonly #reader: FrameReader;

  /** `expect`: what the other end opens with: a server's SETTINGS, or (for a raw server) the client preface. */
  constructor(conn: Conn, read = true, expect: "server" | "client" = "server") {
    this.conn = conn;
    this.#reader = new FrameReader(
      new HeaderBlockAssembler({
        onFrame: (f) => this.#got(f),
        onStreamError: (e) => {
          this.readError = e;
        },
      }),
      { preface: expect, maxFrameSize: 16_777_215 },
    );
    if (read) this.startReading();
    conn.stream.on("end", () => {
      this.ended = true;
      this.#wake();
    });
    conn.stream.on("close", () => {
      this.closed = true;
      this.#wake();
    });
    conn.stream.on("error", () => {});
  }

  startReading(): void {
    this.conn.stream.on("data", (chunk: Buffer) => {
      try {
        this.#reader.push(chunk);
      } catch (err) {
        this.readError = err as Error;
      }
      this.#wake();
    });
  }

  #got(f: Frame): void {
    const got: Got = {
      type: f.type,
      flags: f.flags,
      streamId: f.streamId,
      data: Buffer.from(f.data),
      errorCode: f.errorCode,
      lastStreamId: f.lastStreamId,
      windowIncrement: f.windowIncrement,
      settings: [...f.settings],
      endStream: f.endStream,
    };
    if (f.type === FrameType.HEADERS) got.headers = this.decoder.decode(f.data).pairs();
    this.frames.push(got);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Sends what the writer holds. */
  flush(): void {
    if (this.w.pending > 0) this.conn.stream.write(this.w.take());
  }

  write(bytes: Uint8Array): void {
    this.conn.stream.write(bytes);
  }

  /** Waits until `pred` holds for some frame received (from `from` on), or throws after `ms`. */
  async waitFor(pred: (f: Got) => boolean, ms = 2000, from = 0): Promise<Got> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (let i = from; i < this.frames.length; i++) if (pred(this.frames[i]!)) return this.frames[i]!;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out; got ${this.frames.map((f) => `${f.type}/${f.streamId}`).join(" ")} ended=${this.ended} closed=${this.closed} readError=${this.readError?.message}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 20);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for a GOAWAY and returns it. */
  goaway(ms = 2000): Promise<Got> {
    return this.waitFor((f) => f.type === FrameType.GOAWAY, ms);
  }

  /** Waits for RST_STREAM on `id`. */
  rst(id: number, ms = 2000): Promise<Got> {
    return this.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === id, ms);
  }

  /** Waits until the server closed its side. */
  async waitClosed(ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.ended && !this.closed) {
      if (Date.now() > deadline) throw new Error("server did not close");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Preface + our SETTINGS, then waits for the server's SETTINGS and ACKs it. */
  async handshake(settings: [number, number][] = []): Promise<Got> {
    this.w.preface().settings(settings);
    this.flush();
    const s = await this.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) === 0);
    this.w.settingsAck();
    this.flush();
    return s;
  }

  /** HEADERS for a request on `id`. */
  headers(id: number, fields: [string, string][], endStream = true): void {
    this.w.headers(id, this.encoder.encodePairs(fields), { endStream });
    this.flush();
  }

  get(id: number, path = "/", endStream = true, extra: [string, string][] = []): void {
    this.headers(
      id,
      [[":method", "GET"], [":scheme", "http"], [":authority", "test"], [":path", path], ...extra],
      endStream,
    );
  }

  /** The response frames of stream `id` so far. */
  stream(id: number): Got[] {
    return this.frames.filter((f) => f.streamId === id);
  }

  /** Waits for the end of stream `id` (END_STREAM or RST_STREAM) and returns status, body and trailers. */
  async response(
    id: number,
    ms = 2000,
  ): Promise<{ status: string; body: string; headers: [string, string][]; trailers?: [string, string][] }> {
    await this.waitFor((f) => f.streamId === id && (f.endStream || f.type === FrameType.RST_STREAM), ms);
    const frames = this.stream(id);
    const heads = frames.filter((f) => f.type === FrameType.HEADERS);
    const body = Buffer.concat(frames.filter((f) => f.type === FrameType.DATA).map((f) => f.data)).toString();
    const headers = heads[0]?.headers ?? [];
    const status = headers.find(([n]) => n === ":status")?.[1] ?? "";
    return { status, body, headers, ...(heads.length > 1 ? { trailers: heads[1]!.headers } : {}) };
  }
}

/** A server over a memory pair, with a raw client on the other end. */
export function serve(
  handler: Service<Request, Response>,
  options?: Http2ServerOptions,
  pair?: { highWaterMark?: number; read?: boolean },
): { client: RawClient; done: Promise<void>; serverConn: Conn } {
  const [c, s] = memoryConnPair(
    pair?.highWaterMark === undefined ? undefined : { highWaterMark: pair.highWaterMark },
  );
  const done = server(handler, options).serve(s);
  return { client: new RawClient(c, pair?.read ?? true), done, serverConn: s };
}
