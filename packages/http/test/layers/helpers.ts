import { Extensions, type Service, SignalKey, service } from "@tessera/core";
import { Body, type HeaderMap, Request, type RequestInit, Response } from "../../src/index.js";

/** A request built through the validating factory, optionally with a cancellation signal. */
export function request(init: Partial<RequestInit> & { readonly signal?: AbortSignal } = {}): Request {
  const extensions = init.extensions ?? new Extensions();
  if (init.signal !== undefined) extensions.insert(SignalKey, init.signal);
  return Request.create({ target: "/", ...init, extensions });
}

/** A handler that answers every request with `make(req)` and records the requests it saw. */
export function handler(
  make: (req: Request) => Response | Promise<Response> = (req) => Response.text("ok", { request: req }),
): Service<Request, Response> & { readonly seen: Request[] } {
  const seen: Request[] = [];
  const svc = service((req: Request) => {
    seen.push(req);
    return make(req);
  });
  return Object.assign(svc, { seen });
}

/** Every byte of a body, whatever its limit. */
export async function bytesOf(body: Body): Promise<Buffer> {
  return Buffer.from(await body.bytes({ limit: Number.POSITIVE_INFINITY }));
}

/** A streaming body from chunks, which records whether its producer was stopped early. */
export function trackedBody(
  chunks: readonly (string | Uint8Array)[],
  options: { readonly forever?: boolean } = {},
): { body: Body; state: { produced: number; finished: boolean; stopped: boolean } } {
  const state = { produced: 0, finished: false, stopped: false };
  async function* produce(): AsyncGenerator<Uint8Array | string> {
    let completed = false;
    try {
      do {
        for (const chunk of chunks) {
          state.produced++;
          yield chunk;
        }
      } while (options.forever === true);
      completed = true;
      state.finished = true;
    } finally {
      if (!completed) state.stopped = true;
    }
  }
  return { body: Body.fromIterable(produce()), state };
}

/** Headers as lower-case name/value pairs, in order: easy to compare. */
export function fields(headers: HeaderMap): [string, string][] {
  return [...headers].map(([n, v]) => [n.toLowerCase(), v]);
}

/** Let pending promise callbacks and zlib's thread-pool work run. */
export function tick(ms = 5): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
