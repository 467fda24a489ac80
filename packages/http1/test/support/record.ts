import { prng } from "../../../../test-support/prng.js";
import {
  type Http1Handler,
  type Http1Parser,
  type Http1ParserOptions,
  type RawHeaders,
  RequestHead,
  RequestParser,
  type RequestParserOptions,
  type ResponseHead,
  ResponseParser,
} from "../../src/index.js";

/** One message as seen through the callbacks, with every string in latin1 (one char per byte). */
export interface Msg {
  method?: string;
  target?: string;
  status?: number;
  reason?: string;
  versionMajor: number;
  versionMinor: number;
  headers: [string, string][];
  body: string;
  trailers: [string, string][];
  complete: boolean;
  head: RequestHead | ResponseHead;
}

export type Outcome = "ok" | "error" | "upgraded" | "closed";

export interface RunResult {
  messages: Msg[];
  outcome: Outcome;
  error: unknown;
  /** Bytes of the input the parser consumed. */
  consumed: number;
  /** Bytes left unconsumed when the parser stopped (upgrade, close). */
  leftover: Buffer;
  /** Times the parser stopped because of pause() and was resumed. */
  pauses: number;
}

/** How to cut the input into chunks. */
export type Split = "whole" | "bytes" | { seed: number; at?: undefined } | { at: number; seed?: undefined };

// The seeded PRNG all packages' randomized tests share (mulberry32): failures reproduce from the seed.
export { prng };

/** Chunk boundaries for `input`: returns [start, end) pairs. */
export function cuts(length: number, split: Split): [number, number][] {
  if (length === 0) return [];
  if (split === "whole") return [[0, length]];
  if (typeof split === "object" && split.at !== undefined) {
    return [
      [0, split.at],
      [split.at, length],
    ];
  }
  const out: [number, number][] = [];
  if (split === "bytes") {
    for (let i = 0; i < length; i++) out.push([i, i + 1]);
    return out;
  }
  const rand = prng(split.seed ?? 0);
  let pos = 0;
  while (pos < length) {
    // Mostly small pieces (1-8 bytes, where state-machine edges hide), sometimes large ones.
    const n = rand() < 0.7 ? 1 + Math.floor(rand() * 8) : 1 + Math.floor(rand() * Math.max(1, length / 2));
    const end = Math.min(length, pos + n);
    out.push([pos, end]);
    pos = end;
  }
  return out;
}

export const SPLITS: { name: string; split: Split }[] = [
  { name: "whole", split: "whole" },
  { name: "byte by byte", split: "bytes" },
  { name: "random split 1", split: { seed: 1 } },
  { name: "random split 2", split: { seed: 0xc0ffee } },
  { name: "random split 3", split: { seed: 42 } },
];

function pairs(h: RawHeaders): [string, string][] {
  return h.toArray();
}

/** A handler that records every callback into `messages`. */
export class Recorder implements Http1Handler<RequestHead | ResponseHead> {
  readonly messages: Msg[] = [];
  parser: Http1Parser<RequestHead> | Http1Parser<ResponseHead> | undefined;
  pauseOnComplete = false;

  onHead(head: RequestHead | ResponseHead): void {
    const msg: Msg = {
      versionMajor: head.versionMajor,
      versionMinor: head.versionMinor,
      headers: pairs(head.headers),
      body: "",
      trailers: [],
      complete: false,
      head,
    };
    if (head instanceof RequestHead) {
      msg.method = head.method;
      msg.target = head.target;
    } else {
      msg.status = head.status;
      msg.reason = head.reason;
    }
    this.messages.push(msg);
  }

  onBody(data: Buffer): void {
    if (data.length === 0) throw new Error("onBody called with an empty buffer");
    const msg = this.messages[this.messages.length - 1];
    if (msg === undefined || msg.complete) throw new Error("onBody outside of a message");
    // Copy now: the chunk is scribbled over after execute() to prove the parser kept no view of it.
    msg.body += data.toString("latin1");
  }

  onMessageComplete(trailers: RawHeaders | null): void {
    const msg = this.messages[this.messages.length - 1];
    if (msg === undefined || msg.complete) throw new Error("onMessageComplete outside of a message");
    if (trailers !== null && trailers.count === 0) throw new Error("empty trailers must be null");
    msg.trailers = trailers === null ? [] : pairs(trailers);
    msg.complete = true;
    if (this.pauseOnComplete) this.parser!.pause();
  }
}

export interface FeedOptions {
  split?: Split;
  /** Call finish() after the last chunk (EOF). */
  finish?: boolean;
  /** Pause in every onMessageComplete, then resume and feed the rest (exercises pause/resume). */
  pauseOnComplete?: boolean;
  /** Response parser only: request methods to queue. */
  requestMethods?: string[];
}

/** Feeds `input` to `parser` in the chunks `split` gives, recording everything. */
export function feed(
  parser: Http1Parser<RequestHead> | Http1Parser<ResponseHead>,
  recorder: Recorder,
  input: Buffer,
  options: FeedOptions = {},
): RunResult {
  recorder.parser = parser;
  recorder.pauseOnComplete = options.pauseOnComplete === true;
  const result: RunResult = {
    messages: recorder.messages,
    outcome: "ok",
    error: undefined,
    consumed: 0,
    leftover: Buffer.alloc(0),
    pauses: 0,
  };
  try {
    outer: for (const [start, end] of cuts(input.length, options.split ?? "whole")) {
      // A private copy per chunk, scribbled over after use: heads and trailers must have been copied out.
      let chunk = Buffer.from(input.subarray(start, end));
      let base = start;
      for (;;) {
        const n = parser.execute(chunk);
        if (n > chunk.length || n < 0) throw new Error(`execute returned ${n} for ${chunk.length} bytes`);
        result.consumed = base + n;
        const rest = chunk.subarray(n);
        if (n === chunk.length && !parser.upgraded && !parser.closed) {
          chunk.fill(0xee);
          break;
        }
        if (parser.upgraded || parser.closed) {
          result.outcome = parser.upgraded ? "upgraded" : "closed";
          result.leftover = Buffer.from(input.subarray(base + n));
          chunk.fill(0xee);
          break outer;
        }
        if (!parser.paused) throw new Error("execute stopped early without a reason");
        result.pauses++;
        parser.resume();
        const copy = Buffer.from(rest);
        chunk.fill(0xee);
        chunk = copy;
        base += n;
      }
    }
    if (options.finish === true && result.outcome === "ok") parser.finish();
  } catch (err) {
    result.outcome = "error";
    result.error = err;
  }
  return result;
}

/** Parses `input` as requests (Host not required unless `options.requireHost`). */
export function parseRequests(
  input: Buffer | string,
  feedOptions: FeedOptions = {},
  parserOptions: RequestParserOptions = {},
): RunResult {
  const recorder = new Recorder();
  const parser = new RequestParser(recorder, parserOptions);
  return feed(
    parser,
    recorder,
    typeof input === "string" ? Buffer.from(input, "latin1") : input,
    feedOptions,
  );
}

/** Parses `input` as responses, with `feedOptions.requestMethods` queued. */
export function parseResponses(
  input: Buffer | string,
  feedOptions: FeedOptions = {},
  parserOptions: Http1ParserOptions = {},
): RunResult {
  const recorder = new Recorder();
  const parser = new ResponseParser(recorder, parserOptions);
  for (const m of feedOptions.requestMethods ?? []) parser.pushRequestMethod(m);
  return feed(
    parser,
    recorder,
    typeof input === "string" ? Buffer.from(input, "latin1") : input,
    feedOptions,
  );
}

/** A comparable summary of a run (no head objects, error as its code). */
export function summary(r: RunResult): unknown {
  return {
    outcome: r.outcome,
    error: r.error === undefined ? undefined : ((r.error as { code?: string }).code ?? String(r.error)),
    consumed: r.consumed,
    leftover: r.leftover.toString("latin1"),
    messages: r.messages.map(({ head: _head, ...rest }) => rest),
  };
}
