import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  AbortedError,
  abortReason,
  appendSignal,
  childCancellation,
  Extensions,
  neverAborts,
  raceAbort,
  SignalKey,
  signalOf,
  TimeoutError,
  throwIfAborted,
  withDeadline,
  withTimeout,
} from "../src/index.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("signalOf", () => {
  it("is a never-aborting signal when the input has none", () => {
    const signal = signalOf({ extensions: new Extensions() });
    expect(signal.aborted).toBe(false);
    expect(signalOf(new Extensions())).toBe(signal);
  });

  it("returns the newest signal: a narrower one appended by a layer wins", () => {
    const outer = new AbortController();
    const ext = appendSignal(new Extensions(), outer.signal);
    const narrowed = withTimeout(signalOf(ext), 100);
    appendSignal(ext, narrowed.signal);
    expect(signalOf({ extensions: ext })).toBe(narrowed.signal);
    expect(ext.getAll(SignalKey)).toEqual([outer.signal, narrowed.signal]);
    narrowed.dispose();
  });
});

describe("withTimeout", () => {
  it("aborts with a TimeoutError when time runs out, and the inner work sees it and stops", async () => {
    const c = withTimeout(new AbortController().signal, 50);
    let innerTimerFired = false;
    // Inner work that watches the signal and clears its own timer on abort.
    const work = new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => {
        innerTimerFired = true;
        resolve("done");
      }, 1_000);
      c.signal.addEventListener("abort", () => {
        clearTimeout(t);
        reject(abortReason(c.signal));
      });
    });
    vi.advanceTimersByTime(50);
    await expect(work).rejects.toBeInstanceOf(TimeoutError);
    expect(c.signal.reason).toBeInstanceOf(TimeoutError);
    vi.advanceTimersByTime(2_000);
    expect(innerTimerFired).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("aborts with the parent's reason when the parent aborts first, and clears its timer", () => {
    const parent = new AbortController();
    const c = withTimeout(parent.signal, 1_000);
    expect(vi.getTimerCount()).toBe(1);
    parent.abort(new AbortedError("client gone"));
    expect(c.signal.aborted).toBe(true);
    expect((c.signal.reason as Error).message).toBe("client gone");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("dispose clears the timer and detaches from the parent", () => {
    const parent = new AbortController();
    const c = withTimeout(parent.signal, 1_000);
    c.dispose();
    expect(vi.getTimerCount()).toBe(0);
    parent.abort();
    expect(c.signal.aborted).toBe(false);
  });

  it("is already aborted when the parent is", () => {
    const parent = new AbortController();
    parent.abort(new AbortedError("early"));
    const c = withTimeout(parent.signal, 1_000);
    expect(c.signal.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("withDeadline aborts at the deadline", () => {
    const c = withDeadline(new AbortController().signal, Date.now() + 30);
    vi.advanceTimersByTime(29);
    expect(c.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(c.signal.reason).toBeInstanceOf(TimeoutError);
  });
});

describe("childCancellation", () => {
  it("cancel aborts the child only", () => {
    const parent = new AbortController();
    const c = childCancellation(parent.signal);
    c.cancel();
    expect(c.signal.aborted).toBe(true);
    expect(c.signal.reason).toBeInstanceOf(AbortedError);
    expect(parent.signal.aborted).toBe(false);
  });

  it("does not leak listeners on a long-lived parent once disposed", () => {
    const parent = new AbortController();
    const add = vi.spyOn(parent.signal, "addEventListener");
    const remove = vi.spyOn(parent.signal, "removeEventListener");
    for (let i = 0; i < 100; i++) childCancellation(parent.signal).dispose();
    expect(add).toHaveBeenCalledTimes(100);
    expect(remove).toHaveBeenCalledTimes(100);
  });
});

describe("abortReason / throwIfAborted / raceAbort", () => {
  it("abortReason passes Tessera errors through and wraps anything else", () => {
    const a = new AbortController();
    a.abort(new TimeoutError());
    expect(abortReason(a.signal)).toBeInstanceOf(TimeoutError);
    const b = new AbortController();
    b.abort("just a string");
    const wrapped = abortReason(b.signal);
    expect(wrapped).toBeInstanceOf(AbortedError);
    expect(wrapped.cause).toBe("just a string");
  });

  it("throwIfAborted throws only once aborted", () => {
    const a = new AbortController();
    expect(() => throwIfAborted(a.signal)).not.toThrow();
    a.abort();
    expect(() => throwIfAborted(a.signal)).toThrow(AbortedError);
  });

  it("raceAbort rejects on abort and removes its listener once settled", async () => {
    const a = new AbortController();
    const pending = raceAbort(new Promise(() => {}), a.signal);
    a.abort(new TimeoutError());
    await expect(pending).rejects.toBeInstanceOf(TimeoutError);

    const b = new AbortController();
    const remove = vi.spyOn(b.signal, "removeEventListener");
    await expect(raceAbort(Promise.resolve(1), b.signal)).resolves.toBe(1);
    expect(remove).toHaveBeenCalledTimes(1);
    await expect(raceAbort(Promise.reject(new Error("x")), b.signal)).rejects.toThrow("x");
  });
});

describe("neverAborts", () => {
  it("regression: many concurrent waits on the shared signal raise no MaxListenersExceededWarning (every peek, connect and relay without a signal of its own listens on it)", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on("warning", onWarning);
    const listeners = Array.from({ length: 50 }, () => () => {});
    try {
      expect(signalOf(new Extensions())).toBe(neverAborts());
      for (const l of listeners) neverAborts().addEventListener("abort", l);
      await vi.advanceTimersByTimeAsync(1); // the warning is emitted on a later tick
    } finally {
      for (const l of listeners) neverAborts().removeEventListener("abort", l);
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  });

  it("keeps no listeners: a wait that never removes its listener leaks nothing", () => {
    neverAborts().addEventListener("abort", () => {});
    expect(getEventListeners(neverAborts(), "abort")).toEqual([]);
    expect(neverAborts().aborted).toBe(false);
  });
});
