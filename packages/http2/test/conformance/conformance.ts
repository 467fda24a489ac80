// Shared pieces of the conformance suite: a connected raw client, hand-made frames and header blocks, and the
// three outcomes a rule can require (a connection error, a stream error, or "accepted, the connection goes on").
import { service, signalOf } from "@tessera/core";
import { Body, HeaderMap, type Request, Response } from "@tessera/http";
import { expect } from "vitest";
import {
  ErrorCode,
  errorCodeName,
  FrameFlag,
  FrameType,
  type Http2ServerOptions,
  SettingId,
} from "../../src/index.js";
import { type Got, type RawClient, serve } from "../support/raw-client.js";

/**
 * The handler every rule runs against. `/`: "ok". `/echo`: the request body back, and the trailers' names in an
 * `x-trailers` field. `/bytes/N`: N octets of "x" (for flow-control rules). `/hold`: the response head and
 * "held", then nothing until the stream is reset or the connection ends (a stream that stays open on our side).
 * `/status/N`: status N with the text "body" (dropped where N has no content).
 * `/cookie`: the cookie field as the handler sees it. `/hop`: a response whose head and trailers carry
 * connection-specific fields (which HTTP/2 must not carry) next to `x-kept`.
 * Anything else: "ok" too.
 */
export const conformanceHandler = service(async (req: Request) => {
  const path = req.path;
  if (path === "/echo") {
    const body = await req.body.text();
    const names = req.body.trailers?.toJSON().map(([name]) => name);
    return Response.text(
      body,
      names === undefined ? undefined : { headers: [["x-trailers", names.join(",")]] },
    );
  }
  if (path.startsWith("/bytes/")) return Response.text("x".repeat(Number(path.slice(7))));
  if (path === "/hop") return hopByHop();
  if (path.startsWith("/status/")) return Response.text("body", { status: Number(path.slice(8)) });
  if (path === "/cookie") return Response.text(req.headers.get("cookie") ?? "");
  if (path === "/hold") return new Response(200, new HeaderMap(), Body.from(held(signalOf(req))));
  return Response.text("ok");
});

const HOP_BY_HOP: [string, string][] = [
  ["Connection", "close"],
  ["Keep-Alive", "timeout=5"],
  ["Proxy-Connection", "close"],
  ["Transfer-Encoding", "chunked"],
  ["Upgrade", "h2c"],
  ["TE", "gzip"],
  ["X-Kept", "1"],
];

function hopByHop(): Response {
  async function* body(): AsyncGenerator<Uint8Array> {
    yield Buffer.from("hop");
  }
  const trailers = new HeaderMap(HOP_BY_HOP);
  return new Response(200, new HeaderMap(HOP_BY_HOP), Body.from(body(), { trailers }));
}

async function* held(signal: AbortSignal): AsyncGenerator<Uint8Array> {
  yield Buffer.from("held");
  if (signal.aborted) return;
  await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
}

/**
 * How long any one answer may take (ms). Generous: an answer normally comes within a turn or two of the event
 * loop, and the bound only turns a missing answer into a failure, on a loaded CI machine too.
 */
export const WAIT = 5000;

/** A server connection with the client's preface, SETTINGS and ACK done, and the server's ACK of ours in. */
export interface Connected {
  readonly client: RawClient;
  /** Settles when the server is done with the connection. */
  readonly done: Promise<void>;
  /** The server's SETTINGS frame. */
  readonly serverSettings: Got;
}

/** Opens a connection the way h2spec does: preface, SETTINGS, ACK of the server's, and waits for its ACK. */
export async function connect(
  settings: [number, number][] = [],
  options?: Http2ServerOptions,
): Promise<Connected> {
  const { client, done } = serve(conformanceHandler, options);
  const serverSettings = await client.handshake(settings);
  await client.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) !== 0, WAIT);
  return { client, done, serverSettings };
}

/** A server connection where nothing has been sent yet (for the preface rules). */
export function open(options?: Http2ServerOptions): { client: RawClient; done: Promise<void> } {
  const { client, done } = serve(conformanceHandler, options);
  return { client, done };
}

// ---- frames and blocks, by hand -------------------------------------------------------------------------------

/**
 * One frame exactly as given: `streamId` is the whole 32-bit word (so the reserved bit can be set) and `length`
 * may differ from the payload's (a frame header that lies).
 */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = Buffer.alloc(0),
  length = payload.length,
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId >>> 0, 5);
  return Buffer.concat([head, payload]);
}

/** Sends raw bytes (what the writer holds goes first). */
export function send(client: RawClient, ...chunks: Uint8Array[]): void {
  client.flush();
  for (const chunk of chunks) client.write(chunk);
}

/** An HPACK integer with an `n`-bit prefix whose high bits are `first` (RFC 7541 5.1). */
export function hpackInt(value: number, n: number, first = 0): number[] {
  const max = (1 << n) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** A raw (not Huffman) string literal (RFC 7541 5.2). */
export function hpackString(text: string): number[] {
  return [...hpackInt(text.length, 7), ...Buffer.from(text, "latin1")];
}

/** A literal field without indexing, new name (RFC 7541 6.2.2): leaves the dynamic table alone. */
export function literal(name: string, value: string): number[] {
  return [0x00, ...hpackString(name), ...hpackString(value)];
}

/**
 * A header block of literals without indexing: stateless, so a test can send it, split it, or send it twice
 * without keeping an encoder in step with the server's decoder.
 */
export function block(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.from(fields.flatMap(([n, v]) => literal(n, v)));
}

/** The fields of a plain GET of `path`. */
export function getFields(path = "/"): [string, string][] {
  return [
    [":method", "GET"],
    [":scheme", "http"],
    [":authority", "test"],
    [":path", path],
  ];
}

/** The fields of a POST of `path` (a body follows). */
export function postFields(path = "/echo", extra: [string, string][] = []): [string, string][] {
  return [[":method", "POST"], [":scheme", "http"], [":authority", "test"], [":path", path], ...extra];
}

/** A HEADERS frame carrying `fields` in one block. */
export function headersFrame(
  streamId: number,
  fields: readonly (readonly [string, string])[],
  flags = FrameFlag.END_HEADERS | FrameFlag.END_STREAM,
): Buffer {
  return frame(FrameType.HEADERS, flags, streamId, block(fields));
}

/** A DATA frame. */
export function dataFrame(streamId: number, data: string | Uint8Array, endStream = false): Buffer {
  const payload = typeof data === "string" ? Buffer.from(data) : data;
  return frame(FrameType.DATA, endStream ? FrameFlag.END_STREAM : 0, streamId, payload);
}

/** A SETTINGS frame with the given entries. */
export function settingsFrame(entries: readonly [number, number][], flags = 0, streamId = 0): Buffer {
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FrameType.SETTINGS, flags, streamId, payload);
}

/** A WINDOW_UPDATE frame (the increment written as given, reserved bit included). */
export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(increment >>> 0);
  return frame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

/** A PRIORITY frame's payload. */
export function priorityPayload(dependency: number, weight: number, exclusive = false): Buffer {
  const payload = Buffer.alloc(5);
  payload.writeUInt32BE(((exclusive ? 0x80000000 : 0) | dependency) >>> 0);
  payload[4] = weight - 1;
  return payload;
}

/** An RST_STREAM frame. */
export function rstStreamFrame(streamId: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code >>> 0);
  return frame(FrameType.RST_STREAM, 0, streamId, payload);
}

/** A GOAWAY frame. */
export function goawayFrame(lastStreamId: number, code: number, streamId = 0): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(lastStreamId);
  payload.writeUInt32BE(code >>> 0, 4);
  return frame(FrameType.GOAWAY, 0, streamId, payload);
}

export { ErrorCode, FrameFlag, FrameType, SettingId };

// ---- outcomes -------------------------------------------------------------------------------------------------

function named(code: number): string {
  return errorCodeName(code);
}

/**
 * The rule requires a connection error of `code`: a GOAWAY with exactly that code (stricter than h2spec, which
 * also takes a bare close), then the server closes the connection and its serve() settles.
 */
export async function expectConnectionError(
  c: Connected | { client: RawClient; done: Promise<void> },
  code: number,
) {
  const goaway = await c.client.goaway(WAIT);
  expect(named(goaway.errorCode)).toBe(named(code));
  await c.client.waitClosed(WAIT);
  await c.done;
  return goaway;
}

/**
 * The rule requires a stream error of `code` on `streamId`: an RST_STREAM with exactly that code, and the
 * connection stays up (no GOAWAY, and a PING after it is answered).
 */
export async function expectStreamError(client: RawClient, streamId: number, code: number): Promise<void> {
  const rst = await client.rst(streamId, WAIT);
  expect(named(rst.errorCode)).toBe(named(code));
  await expectAlive(client);
}

let pings = 0;

/** Sends a PING and waits for its ACK; returns the index of the ACK in `client.frames`. */
export async function pingRoundTrip(client: RawClient): Promise<number> {
  const data = Buffer.alloc(8);
  data.writeUInt32BE(0x68327370); // "h2sp"
  data.writeUInt32BE(++pings, 4);
  client.flush();
  client.write(frame(FrameType.PING, 0, 0, data));
  const ack = await client.waitFor(
    (f) => f.type === FrameType.PING && (f.flags & FrameFlag.ACK) !== 0 && f.data.equals(data),
    WAIT,
  );
  return client.frames.indexOf(ack);
}

/**
 * The frames sent so far were accepted (or ignored) as the rule requires: a PING sent now is answered with the
 * same data (the server handles frames in order, so whatever it had to say about the earlier ones came before
 * the answer), no GOAWAY came before it and, unless `allowResets`, no RST_STREAM either (counted from frame index
 * `from`, for a test where a reset before that point was the expected answer).
 */
export async function expectAlive(client: RawClient, allowResets = true, from = 0): Promise<void> {
  const ack = await pingRoundTrip(client);
  const before = client.frames.slice(0, ack);
  expect(before.filter((f) => f.type === FrameType.GOAWAY).map((f) => named(f.errorCode))).toEqual([]);
  if (!allowResets) {
    const resets = client.frames.slice(from, ack).filter((f) => f.type === FrameType.RST_STREAM);
    expect(resets.map((f) => named(f.errorCode))).toEqual([]);
  }
  expect(client.closed || client.ended).toBe(false);
}

/** A complete normal response on `streamId`: its status, body and trailers (and nothing reset, no GOAWAY). */
export async function expectResponse(
  client: RawClient,
  streamId: number,
  status = "200",
): Promise<{ body: string; headers: [string, string][]; trailers?: [string, string][] }> {
  const res = await client.response(streamId, WAIT);
  expect(client.stream(streamId).filter((f) => f.type === FrameType.RST_STREAM)).toEqual([]);
  expect(res.status).toBe(status);
  await expectAlive(client);
  return res;
}

/** Opens `id` on /hold with END_STREAM: half-closed (remote); the server's side stays open ("held" sent). */
export async function halfClosedRemote(client: RawClient, id: number): Promise<void> {
  send(client, headersFrame(id, getFields("/hold")));
  await nextData(client, id);
}

/** Opens `id` on /hold without END_STREAM: open both ways ("held" sent). */
export async function openStream(client: RawClient, id: number): Promise<void> {
  send(client, headersFrame(id, getFields("/hold"), FrameFlag.END_HEADERS));
  await nextData(client, id);
}

/** A PUSH_PROMISE on `streamId` promising stream `promised`, with a request's field block. */
export function pushPromiseFrame(streamId: number, promised: number): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(promised);
  return frame(
    FrameType.PUSH_PROMISE,
    FrameFlag.END_HEADERS,
    streamId,
    Buffer.concat([id, block(getFields())]),
  );
}

/** The server closes the connection and its serve() settles, without a GOAWAY carrying an error of its own. */
export async function expectCleanClose(c: { client: RawClient; done: Promise<void> }): Promise<void> {
  await c.client.waitClosed(WAIT);
  await c.done;
  const errors = c.client.frames.filter(
    (f) => f.type === FrameType.GOAWAY && f.errorCode !== ErrorCode.NO_ERROR,
  );
  expect(errors.map((f) => named(f.errorCode))).toEqual([]);
}

/** The DATA frames received on `streamId` so far. */
export function dataOf(client: RawClient, streamId: number): Got[] {
  return client.stream(streamId).filter((f) => f.type === FrameType.DATA);
}

/** Waits for a DATA frame on `streamId`, starting at frame index `from`. */
export function nextData(client: RawClient, streamId: number, from = 0): Promise<Got> {
  return client.waitFor((f) => f.type === FrameType.DATA && f.streamId === streamId, WAIT, from);
}

/**
 * Opens `id` on /bytes/100 (END_STREAM unless `open`) and waits for its first DATA. On a connection made with
 * `connect([[SettingId.INITIAL_WINDOW_SIZE, 10]])` the stream's window then holds the server back with octets
 * still to send: a stream that would go on as soon as the client gave it room.
 */
export async function starvedStream(client: RawClient, id: number, open = false): Promise<void> {
  const flags = open ? FrameFlag.END_HEADERS : FrameFlag.END_HEADERS | FrameFlag.END_STREAM;
  send(client, headersFrame(id, getFields("/bytes/100"), flags));
  await nextData(client, id);
}

/**
 * The server sends nothing more on `id` even with room to: every stream's window and the connection's are
 * raised, and by the answer to a PING after that no frame on `id` (and no reset, no GOAWAY) has come.
 */
export async function expectSilent(client: RawClient, id: number): Promise<void> {
  await expectAlive(client, false);
  const at = client.frames.length;
  send(client, settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 1000]]), windowUpdateFrame(0, 1000));
  await expectAlive(client, false);
  expect(client.frames.slice(at).filter((f) => f.streamId === id)).toEqual([]);
}
