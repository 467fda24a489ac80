import { type Service, service, stack } from "@tessera/core";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { concurrencyLimit } from "../src/concurrency-limit/index.js";
import { OverloadedError } from "../src/errors/index.js";
import { inspect } from "../src/inspect/index.js";
import { Capacity, loadShed } from "../src/load-shed/index.js";
import { log } from "../src/log/index.js";
import { mapOutput } from "../src/map/index.js";
import { rateLimit } from "../src/rate-limit/index.js";
import { timeout } from "../src/timeout/index.js";
import { manual, type Req, req, settle, slow } from "./helpers.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("loadShed", () => {
  it("passes calls while the limit below has room", async () => {
    const inner = manual<Req, string>();
    const svc = stack(loadShed(), concurrencyLimit(2)).into(inner.service);
    const a = svc.serve(req());
    const b = svc.serve(req());
    inner.calls[0]!.resolve("a");
    inner.calls[1]!.resolve("b");
    expect([await a, await b]).toEqual(["a", "b"]);
  });

  it("rejects at once instead of queueing when the limit is saturated", async () => {
    const inner = manual<Req, string>();
    const limit = concurrencyLimit(1, { queue: 100 }).layer(inner.service) as Service<Req, string> & {
      queued: number;
    };
    const svc = loadShed().layer(limit);
    const a = svc.serve(req());
    const error = await svc.serve(req()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OverloadedError);
    expect((error as OverloadedError).code).toBe("ERR_OVERLOADED");
    expect(limit.queued).toBe(0); // nothing waited in the limit's queue
    expect(inner.calls).toHaveLength(1);
    // Room again once the call finishes.
    inner.calls[0]!.resolve("a");
    await a;
    const c = svc.serve(req());
    inner.calls[1]!.resolve("c");
    expect(await c).toBe("c");
  });

  it("admits again when a call is cancelled and frees its permit", async () => {
    const svc = stack(loadShed(), concurrencyLimit(1), timeout(100)).into(slow<Req>(10_000));
    const first = settle(svc.serve(req()));
    await expect(svc.serve(req())).rejects.toBeInstanceOf(OverloadedError);
    await vi.advanceTimersByTimeAsync(100); // the timeout aborts the first call: its permit returns
    await expect(first).rejects.toMatchObject({ code: "ERR_TIMEOUT" });
    const third = svc.serve(req());
    await vi.advanceTimersByTimeAsync(100);
    await expect(third).rejects.toMatchObject({ code: "ERR_TIMEOUT" }); // it ran (and timed out): it was admitted
  });

  it("sees the limit through the 1:1 layers of this package", async () => {
    const inner = manual<Req, string>();
    const svc = stack(
      loadShed(),
      log({ logger: pino({ level: "silent" }) }),
      inspect(() => {}),
      timeout(1_000),
      mapOutput((s: string) => s.length),
      concurrencyLimit(1),
    ).into(inner.service);
    svc.serve(req());
    await expect(svc.serve(req())).rejects.toBeInstanceOf(OverloadedError);
  });

  it("sheds instead of waiting for a rate limit's next token", async () => {
    const svc = stack(loadShed(), rateLimit({ rate: 1, burst: 1, wait: 5_000 })).into(
      service((_: Req) => "ok"),
    );
    expect(await svc.serve(req())).toBe("ok");
    await expect(svc.serve(req())).rejects.toBeInstanceOf(OverloadedError);
    vi.advanceTimersByTime(1_000);
    expect(await svc.serve(req())).toBe("ok");
  });

  it("refuses, when the stack is built, to wrap a service that reports no capacity", () => {
    expect(() => stack(loadShed()).into(service((r: Req) => r.path))).toThrow(TypeError);
    expect(() => stack(loadShed(), timeout(10)).into(service((r: Req) => r.path))).toThrow(/capacity/);
  });

  it("reports capacity itself, so it can be stacked", () => {
    const svc = stack(loadShed(), concurrencyLimit(1)).into(manual<Req, string>().service);
    const probe = (svc as unknown as Record<typeof Capacity, (input: Req) => boolean>)[Capacity];
    expect(probe(req())).toBe(true);
    svc.serve(req());
    expect(probe(req())).toBe(false);
  });
});
