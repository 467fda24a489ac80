import { type Service, stack } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { concurrencyLimit } from "../src/concurrency-limit/index.js";
import { OverloadedError } from "../src/errors/index.js";
import { manual, type Req, req, settle, state } from "./helpers.js";

type Limited = Service<Req, string> & { readonly inFlight: number; readonly queued: number };

describe("concurrencyLimit", () => {
  it("runs at most n calls at once and starts waiters in FIFO order as permits return", async () => {
    const inner = manual<Req, string>();
    const svc = concurrencyLimit(2).layer(inner.service) as Limited;
    const a = svc.serve(req("/a"));
    const b = svc.serve(req("/b"));
    const c = svc.serve(req("/c"));
    const d = svc.serve(req("/d"));
    expect(inner.calls.map((x) => x.input.path)).toEqual(["/a", "/b"]);
    expect([svc.inFlight, svc.queued]).toEqual([2, 2]);
    inner.calls[1]!.resolve("b");
    expect(await b).toBe("b");
    expect(inner.calls.map((x) => x.input.path)).toEqual(["/a", "/b", "/c"]);
    inner.calls[0]!.resolve("a");
    await a;
    expect(inner.calls.map((x) => x.input.path)).toEqual(["/a", "/b", "/c", "/d"]);
    inner.calls[2]!.resolve("c");
    inner.calls[3]!.resolve("d");
    expect([await c, await d]).toEqual(["c", "d"]);
    expect([svc.inFlight, svc.queued]).toEqual([0, 0]);
  });

  it("adds no promise of its own when a permit is free", () => {
    const p = Promise.resolve("x");
    const svc = concurrencyLimit(1).layer({ serve: (_: Req) => p });
    expect(svc.serve(req())).toBe(p);
  });

  it("returns the permit when the inner call fails or throws", async () => {
    const inner = manual<Req, string>();
    const svc = concurrencyLimit(1).layer(inner.service) as Limited;
    const a = settle(svc.serve(req("/a")));
    const b = svc.serve(req("/b"));
    inner.calls[0]!.reject(new Error("boom"));
    await expect(a).rejects.toThrow("boom");
    expect(inner.calls).toHaveLength(2);
    inner.calls[1]!.resolve("b");
    expect(await b).toBe("b");

    const throwing = concurrencyLimit(1).layer({
      serve: () => {
        throw new Error("sync");
      },
    }) as Limited;
    await expect(throwing.serve(req())).rejects.toThrow("sync");
    expect(throwing.inFlight).toBe(0);
  });

  it("rejects with OverloadedError once the queue bound is reached", async () => {
    const inner = manual<Req, string>();
    const svc = concurrencyLimit(1, { queue: 2 }).layer(inner.service) as Limited;
    svc.serve(req());
    settle(svc.serve(req()));
    settle(svc.serve(req()));
    const error = await svc.serve(req()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OverloadedError);
    expect((error as OverloadedError).code).toBe("ERR_OVERLOADED");
    expect(svc.queued).toBe(2);
    expect(inner.calls).toHaveLength(1);
  });

  it("with queue 0 never queues", async () => {
    const inner = manual<Req, string>();
    const svc = concurrencyLimit(1, { queue: 0 }).layer(inner.service);
    svc.serve(req());
    await expect(svc.serve(req())).rejects.toBeInstanceOf(OverloadedError);
  });

  it("a cancelled waiter leaves the queue with its signal's reason and never runs", async () => {
    const inner = manual<Req, string>();
    const svc = concurrencyLimit(1, { queue: 1 }).layer(inner.service) as Limited;
    const a = svc.serve(req("/a"));
    const caller = new AbortController();
    const b = settle(svc.serve(req("/b", caller.signal)));
    expect(svc.queued).toBe(1);
    caller.abort("gone");
    await expect(b).rejects.toMatchObject({ code: "ERR_ABORTED", cause: "gone" });
    expect(svc.queued).toBe(0);
    // Its slot in the queue is free again...
    const c = svc.serve(req("/c"));
    expect(await state(c)).toBe("pending");
    // ...and when the permit returns, the cancelled waiter is skipped.
    inner.calls[0]!.resolve("a");
    await a;
    expect(inner.calls.map((x) => x.input.path)).toEqual(["/a", "/c"]);
    inner.calls[1]!.resolve("c");
    expect(await c).toBe("c");
  });

  it("removes a cancelled waiter from the middle of the queue", async () => {
    const inner = manual<Req, string>();
    const svc = concurrencyLimit(1).layer(inner.service) as Limited;
    svc.serve(req("/a"));
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const waiting = controllers.map((c, i) => settle(svc.serve(req(`/w${i}`, c.signal))));
    controllers[1]!.abort();
    await expect(waiting[1]).rejects.toMatchObject({ code: "ERR_ABORTED" });
    inner.calls[0]!.resolve("a");
    await Promise.resolve();
    await Promise.resolve();
    inner.calls[1]!.resolve("w0");
    await waiting[0];
    expect(inner.calls.map((x) => x.input.path)).toEqual(["/a", "/w0", "/w2"]);
  });

  it("rejects a waiter whose signal has already aborted without queueing it", async () => {
    const inner = manual<Req, string>();
    const svc = concurrencyLimit(1).layer(inner.service) as Limited;
    svc.serve(req());
    const caller = new AbortController();
    caller.abort();
    await expect(svc.serve(req("/", caller.signal))).rejects.toMatchObject({ code: "ERR_ABORTED" });
    expect(svc.queued).toBe(0);
  });

  it("infers its types in a stack and validates its arguments", () => {
    const svc: Service<Req, string> = stack(concurrencyLimit(4)).into(manual<Req, string>().service);
    expect(svc).toBeDefined();
    expect(() => concurrencyLimit(0)).toThrow(RangeError);
    expect(() => concurrencyLimit(2, { queue: -1 })).toThrow(RangeError);
    expect(() => concurrencyLimit(2, { queue: Number.POSITIVE_INFINITY })).not.toThrow();
  });
});
