import { type Service, service, stack } from "@tessera/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RateLimitedError } from "../src/errors/index.js";
import { rateLimit } from "../src/rate-limit/index.js";
import { type Req, req, settle, state } from "./helpers.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const echo = service((r: Req) => r.path);

async function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "ok",
    (e: { code?: string }) => e.code ?? "error",
  );
}

describe("rateLimit", () => {
  it("lets a burst through, then `rate` per second", async () => {
    const svc = stack(rateLimit({ rate: 2, burst: 3 })).into(echo);
    const first = await Promise.all([1, 2, 3, 4].map(() => outcome(svc.serve(req()))));
    expect(first).toEqual(["ok", "ok", "ok", "ERR_RATE_LIMITED"]);
    vi.advanceTimersByTime(499);
    expect(await outcome(svc.serve(req()))).toBe("ERR_RATE_LIMITED");
    vi.advanceTimersByTime(1);
    expect(await outcome(svc.serve(req()))).toBe("ok");
    vi.advanceTimersByTime(10_000); // refills to the burst, no further
    const later = await Promise.all([1, 2, 3, 4].map(() => outcome(svc.serve(req()))));
    expect(later).toEqual(["ok", "ok", "ok", "ERR_RATE_LIMITED"]);
  });

  it("says when the next token comes", async () => {
    const svc = stack(rateLimit({ rate: 4, burst: 1 })).into(echo);
    await svc.serve(req());
    vi.advanceTimersByTime(100);
    const error = await svc.serve(req()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(150);
  });

  it("passes inner errors through (a failed call still used its token)", async () => {
    const failing: Service<Req, string> = { serve: () => Promise.reject(new Error("boom")) };
    const svc = rateLimit({ rate: 1, burst: 1 }).layer(failing);
    await expect(svc.serve(req())).rejects.toThrow("boom");
    await expect(svc.serve(req())).rejects.toBeInstanceOf(RateLimitedError);
  });

  it("keeps one bucket per key", async () => {
    const svc = stack(rateLimit({ rate: 1, burst: 1, key: (r: Req) => r.path })).into(echo);
    expect(await outcome(svc.serve(req("/a")))).toBe("ok");
    expect(await outcome(svc.serve(req("/a")))).toBe("ERR_RATE_LIMITED");
    expect(await outcome(svc.serve(req("/b")))).toBe("ok");
  });

  it("remembers at most maxKeys keys, forgetting the least recently used", async () => {
    const svc = rateLimit({ rate: 1, burst: 1, key: (r: Req) => r.path, maxKeys: 2 }).layer(echo) as Service<
      Req,
      string
    > & { keys: number };
    await svc.serve(req("/a"));
    await svc.serve(req("/b"));
    expect(await outcome(svc.serve(req("/a")))).toBe("ERR_RATE_LIMITED"); // touches /a: now /b is the oldest
    await svc.serve(req("/c")); // evicts /b
    expect(svc.keys).toBe(2);
    for (let i = 0; i < 1_000; i++) await outcome(svc.serve(req(`/k${i}`)));
    expect(svc.keys).toBe(2);
    // /b was forgotten, so it has a full bucket again; the most recent keys are still limited.
    expect(await outcome(svc.serve(req("/b")))).toBe("ok");
    expect(await outcome(svc.serve(req("/k999")))).toBe("ERR_RATE_LIMITED");
  });

  it("evicts even when every remembered key was used recently (each gets one second chance)", async () => {
    const svc = rateLimit({ rate: 1, burst: 1, key: (r: Req) => r.path, maxKeys: 3 }).layer(echo) as Service<
      Req,
      string
    > & { keys: number };
    for (const k of ["/a", "/b", "/c"]) await svc.serve(req(k));
    for (const k of ["/a", "/b", "/c"]) expect(await outcome(svc.serve(req(k)))).toBe("ERR_RATE_LIMITED");
    await svc.serve(req("/d")); // all three used: /a is re-queued then evicted on the second pass
    expect(svc.keys).toBe(3);
    expect(await outcome(svc.serve(req("/a")))).toBe("ok"); // forgotten: a fresh bucket
    expect(await outcome(svc.serve(req("/c")))).toBe("ERR_RATE_LIMITED"); // still remembered (and empty)
  });

  it("with `wait`, queues a call for its token and rejects one that would wait too long", async () => {
    const svc = stack(rateLimit({ rate: 1, burst: 1, wait: 1_500 })).into(echo);
    expect(await svc.serve(req("/1"))).toBe("/1");
    const second = svc.serve(req("/2")); // reserves the token due at 1 s
    const third = settle(svc.serve(req("/3"))); // would wait 2 s > 1.5 s
    await expect(third).rejects.toBeInstanceOf(RateLimitedError);
    await vi.advanceTimersByTimeAsync(999);
    expect(await state(second)).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(await second).toBe("/2");
  });

  it("a waiting call whose signal aborts stops waiting and gives its token back", async () => {
    const svc = stack(rateLimit({ rate: 1, burst: 1, wait: 5_000 })).into(echo);
    await svc.serve(req());
    const caller = new AbortController();
    const waiting = settle(svc.serve(req("/w", caller.signal)));
    await vi.advanceTimersByTimeAsync(300);
    caller.abort("gone");
    await expect(waiting).rejects.toMatchObject({ code: "ERR_ABORTED", cause: "gone" });
    expect(vi.getTimerCount()).toBe(0);
    // The reservation was returned: the next caller waits only for the token due at 1 s.
    const next = svc.serve(req("/n"));
    await vi.advanceTimersByTimeAsync(700);
    expect(await next).toBe("/n");
  });

  it("rejects a call whose signal has already aborted instead of reserving a token for it", async () => {
    const svc = stack(rateLimit({ rate: 1, burst: 1, wait: 5_000 })).into(echo);
    await svc.serve(req());
    const caller = new AbortController();
    caller.abort();
    await expect(svc.serve(req("/", caller.signal))).rejects.toMatchObject({ code: "ERR_ABORTED" });
    const next = svc.serve(req("/n"));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await next).toBe("/n");
  });

  it("validates its options", () => {
    expect(() => rateLimit({ rate: 0 })).toThrow(RangeError);
    expect(() => rateLimit({ rate: 1, burst: 0.5 })).toThrow(RangeError);
    expect(() => rateLimit({ rate: 1, maxKeys: 0 })).toThrow(RangeError);
  });
});
