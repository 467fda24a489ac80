import {
  AbortedError,
  Extensions,
  neverAborts,
  type Service,
  SignalKey,
  signalOf,
  stack,
  TimeoutError,
} from "@tessera/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { timeout } from "../src/timeout/index.js";
import { abortListeners, type Req, req, settle, slow, state } from "./helpers.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("timeout", () => {
  it("passes a fast call through and releases its timer", async () => {
    const seen: AbortSignal[] = [];
    const svc = stack(timeout(1_000)).into(slow(10, seen));
    const input = req();
    const result = svc.serve(input);
    expect(vi.getTimerCount()).toBe(2); // the inner service's and the timeout's
    await vi.advanceTimersByTimeAsync(10);
    expect(await result).toBe("done");
    expect(vi.getTimerCount()).toBe(0);
    // The inner service saw a narrower signal, not the caller's...
    expect(seen[0]).not.toBe(neverAborts());
    expect(seen[0]!.aborted).toBe(false);
    // ...and afterwards the caller's signal is the input's newest again.
    expect(signalOf(input)).toBe(neverAborts());
  });

  it("rejects with a TimeoutError and aborts the inner work, clearing its timer", async () => {
    const seen: AbortSignal[] = [];
    const svc = stack(timeout(100)).into(slow(10_000, seen));
    const result = settle(svc.serve(req()));
    await vi.advanceTimersByTimeAsync(99);
    expect(await state(result)).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).code).toBe("ERR_TIMEOUT");
    expect((error as TimeoutError).timeoutMs).toBe(100);
    expect(seen[0]!.aborted).toBe(true);
    expect(seen[0]!.reason).toBe(error);
    expect(vi.getTimerCount()).toBe(0); // the inner service's 10 s timer was cleared
  });

  it("rejects at the deadline even if the inner work ignores the signal, which keeps seeing it aborted", async () => {
    let resolveInner: (v: string) => void = () => {};
    let input: { extensions: Extensions } | undefined;
    const stubborn: Service<{ extensions: Extensions }, string> = {
      serve: (i) => {
        input = i;
        return new Promise((resolve) => {
          resolveInner = resolve;
        });
      },
    };
    const caller = new AbortController();
    const svc = timeout(50).layer(stubborn);
    const outer = { extensions: new Extensions() };
    outer.extensions.insert(SignalKey, caller.signal);
    const result = settle(svc.serve(outer));
    await vi.advanceTimersByTimeAsync(50);
    await expect(result).rejects.toBeInstanceOf(TimeoutError);
    // Still winding down: the input's newest signal is the aborted one, not the caller's live one.
    expect(signalOf(input!).aborted).toBe(true);
    resolveInner("late");
    await Promise.resolve();
    await Promise.resolve();
    expect(signalOf(outer)).toBe(caller.signal);
    expect(abortListeners(caller.signal)).toBe(0);
  });

  it("passes the inner error through and releases the timer", async () => {
    const boom = new Error("boom");
    const svc = timeout(1_000).layer({ serve: (_: Req) => Promise.reject(boom) });
    await expect(svc.serve(req())).rejects.toBe(boom);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("turns a synchronous throw into a rejection and restores the caller's signal", async () => {
    const boom = new Error("sync");
    const caller = new AbortController();
    const input = req("/", caller.signal);
    const svc = timeout(1_000).layer({
      serve: (_: Req): Promise<string> => {
        throw boom;
      },
    });
    await expect(svc.serve(input)).rejects.toBe(boom);
    expect(vi.getTimerCount()).toBe(0);
    expect(signalOf(input)).toBe(caller.signal);
  });

  it("aborts the inner work when the caller's signal aborts first, with the caller's reason", async () => {
    const seen: AbortSignal[] = [];
    const caller = new AbortController();
    const svc = timeout(1_000).layer(slow(10_000, seen));
    const result = settle(svc.serve(req("/", caller.signal)));
    await vi.advanceTimersByTimeAsync(10);
    caller.abort("client went away");
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).cause).toBe("client went away");
    expect(seen[0]!.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("does not call the inner service when the caller has already aborted", async () => {
    const caller = new AbortController();
    caller.abort();
    const serve = vi.fn((_: Req) => Promise.resolve("x"));
    await expect(timeout(10).layer({ serve }).serve(req("/", caller.signal))).rejects.toBeInstanceOf(
      AbortedError,
    );
    expect(serve).not.toHaveBeenCalled();
  });

  it("leaves no listener on a long-lived caller signal after many calls", async () => {
    const connection = new AbortController();
    const svc = timeout(1_000).layer(slow(1));
    for (let i = 0; i < 100; i++) {
      const result = svc.serve(req("/", connection.signal));
      expect(abortListeners(connection.signal)).toBe(1); // the timeout's child cancellation, while it runs
      await vi.advanceTimersByTimeAsync(1);
      await result;
    }
    expect(abortListeners(connection.signal)).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps its timer ref'd, so a deadline fires even when nothing else keeps the process alive", async () => {
    vi.useRealTimers();
    const timers: NodeJS.Timeout[] = [];
    const original = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, "setTimeout").mockImplementation(((fn: () => void, ms?: number) => {
      const t = original(fn, ms);
      timers.push(t);
      return t;
    }) as typeof setTimeout);
    let hasRef: boolean | undefined;
    try {
      const svc = timeout(10_000).layer({
        serve: (_: Req) => {
          hasRef = timers[0]?.hasRef();
          return Promise.resolve("x");
        },
      });
      await svc.serve(req());
    } finally {
      spy.mockRestore();
    }
    expect(timers).toHaveLength(1);
    expect(hasRef).toBe(true);
  });

  it("makes the inner service's signal only if it reads it (an AbortSignal costs microseconds)", async () => {
    const Original = globalThis.AbortController;
    let made = 0;
    globalThis.AbortController = class extends Original {
      constructor() {
        super();
        made++;
      }
    };
    try {
      const caller = new Original();
      const input = req("/", caller.signal);
      const blind = timeout(1_000).layer({ serve: (_: Req) => Promise.resolve("ok") });
      await expect(blind.serve(input)).resolves.toBe("ok");
      expect(made).toBe(0);
      expect(signalOf(input)).toBe(caller.signal);
      const reader = timeout(1_000).layer({ serve: (r: Req) => Promise.resolve(signalOf(r).aborted) });
      await expect(reader.serve(input)).resolves.toBe(false);
      expect(made).toBe(1);
    } finally {
      globalThis.AbortController = Original;
    }
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects a negative or non-finite duration", () => {
    expect(() => timeout(-1)).toThrow(RangeError);
    expect(() => timeout(Number.NaN)).toThrow(RangeError);
  });
});
