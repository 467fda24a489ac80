import { type Extensible, type Extensions, type Service, signalOf, stack } from "@tessera/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { hedge } from "../src/hedge/index.js";
import { retryBudget } from "../src/retry/budget.js";
import { manual, Req, req, settle, state } from "./helpers.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("hedge", () => {
  it("sends one attempt when it answers within the delay", async () => {
    const inner = manual<Req, string>();
    const svc = stack(hedge({ delay: 50 })).into(inner.service);
    const result = svc.serve(req());
    await vi.advanceTimersByTimeAsync(49);
    inner.calls[0]!.resolve("fast");
    expect(await result).toBe("fast");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(inner.calls).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("after the delay sends a second attempt, takes the first success and cancels the loser", async () => {
    const inner = manual<Req, string>();
    const input = req();
    const result = hedge({ delay: 50 }).layer(inner.service).serve(input);
    await vi.advanceTimersByTimeAsync(50);
    expect(inner.calls).toHaveLength(2);
    inner.calls[1]!.resolve("hedged");
    expect(await result).toBe("hedged");
    expect(inner.calls[0]!.signal.aborted).toBe(true);
    expect(inner.calls[0]!.signal.reason).toMatchObject({ code: "ERR_ABORTED" });
    expect(inner.calls[1]!.signal.aborted).toBe(false); // the winner is not cancelled
    // Each attempt ran on its own fork of the input's extensions.
    const [a, b] = inner.calls.map((c) => c.input);
    expect(a).not.toBe(input);
    expect(a!.extensions).not.toBe(b!.extensions);
    expect(a!.extensions.parent).toBe(input.extensions);
    expect(b!.extensions.parent).toBe(input.extensions);
    expect(signalOf(input).aborted).toBe(false);
  });

  it("waits for the other attempt when one fails, and fails with the first error when all do", async () => {
    const inner = manual<Req, string>();
    const result = settle(hedge({ delay: 50 }).layer(inner.service).serve(req()));
    await vi.advanceTimersByTimeAsync(50);
    const first = new Error("first");
    inner.calls[0]!.reject(first);
    expect(await state(result)).toBe("pending");
    inner.calls[1]!.reject(new Error("second"));
    await expect(result).rejects.toBe(first);
    expect(inner.calls.map((c) => c.signal.aborted)).toEqual([false, false]); // finished: nothing to cancel
  });

  it("fails at once when the only attempt fails before the delay (hedging is not retrying)", async () => {
    const inner = manual<Req, string>();
    const result = settle(hedge({ delay: 50 }).layer(inner.service).serve(req()));
    inner.calls[0]!.reject(new Error("boom"));
    await expect(result).rejects.toThrow("boom");
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(inner.calls).toHaveLength(1);
  });

  it("sends at most `attempts` attempts", async () => {
    const inner = manual<Req, string>();
    const result = hedge({ delay: 10, attempts: 3 }).layer(inner.service).serve(req());
    await vi.advanceTimersByTimeAsync(1_000);
    expect(inner.calls).toHaveLength(3);
    inner.calls[2]!.resolve("third");
    expect(await result).toBe("third");
    expect(inner.calls[0]!.signal.aborted && inner.calls[1]!.signal.aborted).toBe(true);
  });

  it("does not hedge when the budget is empty", async () => {
    const budget = retryBudget({ ratio: 0, minPerSecond: 0, capacity: 1 });
    const inner = manual<Req, string>();
    const svc = hedge({ delay: 10, budget }).layer(inner.service);
    const a = svc.serve(req());
    await vi.advanceTimersByTimeAsync(10);
    expect(inner.calls).toHaveLength(2); // the one token
    const b = svc.serve(req());
    await vi.advanceTimersByTimeAsync(100);
    expect(inner.calls).toHaveLength(3); // no token left: no hedge for b
    inner.calls[0]!.resolve("a");
    inner.calls[2]!.resolve("b");
    expect([await a, await b]).toEqual(["a", "b"]);
  });

  it("stops the delay and every attempt when the caller's signal aborts", async () => {
    const inner = manual<Req, string>();
    const caller = new AbortController();
    const result = settle(hedge({ delay: 50 }).layer(inner.service).serve(req("/", caller.signal)));
    await vi.advanceTimersByTimeAsync(20);
    caller.abort("gone");
    await expect(result).rejects.toMatchObject({ code: "ERR_ABORTED", cause: "gone" });
    expect(inner.calls[0]!.signal.aborted).toBe(true);
    expect(inner.calls[0]!.signal.reason).toBe("gone"); // the caller's reason, as with core's childCancellation
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(inner.calls).toHaveLength(1);
  });

  it("does not start when the caller has already aborted", async () => {
    const inner = manual<Req, string>();
    const caller = new AbortController();
    caller.abort();
    await expect(
      hedge({ delay: 5 }).layer(inner.service).serve(req("/", caller.signal)),
    ).rejects.toMatchObject({
      code: "ERR_ABORTED",
    });
    expect(inner.calls).toHaveLength(0);
  });

  it("needs Extensible inputs and validates its options", () => {
    const plain: Service<{ readonly extensions: Extensions }, string> = { serve: async () => "x" };
    // @ts-expect-error hedge copies its input with withExtensions
    stack(hedge({ delay: 1 })).into(plain);
    const ok: Service<Req, string> = stack(hedge({ delay: 1 })).into(manual<Req, string>().service);
    expect(ok).toBeDefined();
    expect(() => hedge({ delay: -1 })).toThrow(RangeError);
    expect(() => hedge({ delay: 1, attempts: 0 })).toThrow(RangeError);
    const e: Extensible = new Req();
    expect(e).toBeDefined();
  });
});
