import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createShutdown, ShutdownError, service, stack, trackInFlight } from "../src/index.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("createShutdown", () => {
  it("close resolves at once when nothing is in flight", async () => {
    const s = createShutdown();
    await expect(s.close()).resolves.toEqual({ forced: false, abandoned: 0 });
    expect(s.signal.aborted).toBe(true);
    expect(s.signal.reason).toBeInstanceOf(ShutdownError);
    expect(s.forced.aborted).toBe(false);
  });

  it("waits for in-flight work, then resolves without forcing", async () => {
    const s = createShutdown();
    const work = deferred();
    s.track(work.promise);
    expect(s.inFlight).toBe(1);
    let done = false;
    const closing = s.close({ timeout: 1_000 }).then((r) => {
      done = true;
      return r;
    });
    expect(s.closing).toBe(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(done).toBe(false);
    work.resolve();
    await expect(closing).resolves.toEqual({ forced: false, abandoned: 0 });
    expect(s.forced.aborted).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("forces after the grace period: `forced` aborts and the leftovers are counted", async () => {
    const s = createShutdown();
    s.enter();
    s.enter();
    const closing = s.close({ timeout: 100 });
    await vi.advanceTimersByTimeAsync(100);
    await expect(closing).resolves.toEqual({ forced: true, abandoned: 2 });
    expect(s.forced.aborted).toBe(true);
  });

  it("close is idempotent and enter's release is too", async () => {
    const s = createShutdown();
    const leave = s.enter();
    const a = s.close();
    const b = s.close({ timeout: 1 });
    expect(a).toBe(b);
    leave();
    leave();
    expect(s.inFlight).toBe(0);
    await expect(a).resolves.toEqual({ forced: false, abandoned: 0 });
  });

  it("a rejected tracked promise still counts as done", async () => {
    const s = createShutdown();
    const failing = Promise.reject(new Error("boom"));
    s.track(failing).catch(() => {});
    await Promise.resolve();
    await Promise.resolve();
    expect(s.inFlight).toBe(0);
  });
});

describe("trackInFlight", () => {
  it("counts calls, and refuses new ones once closing", async () => {
    const s = createShutdown();
    const gate = deferred<string>();
    const svc = stack(trackInFlight(s)).into(service((_: number) => gate.promise));
    const first = svc.serve(1);
    expect(s.inFlight).toBe(1);
    const closing = s.close();
    await expect(svc.serve(2)).rejects.toBeInstanceOf(ShutdownError);
    gate.resolve("ok");
    await expect(first).resolves.toBe("ok");
    await expect(closing).resolves.toEqual({ forced: false, abandoned: 0 });
  });

  it("a synchronous throw in the inner service releases the slot", async () => {
    const s = createShutdown();
    const svc = trackInFlight(s).layer({
      serve(): Promise<never> {
        throw new Error("sync");
      },
    });
    await expect(svc.serve(undefined)).rejects.toThrow("sync");
    expect(s.inFlight).toBe(0);
  });
});

describe("service", () => {
  it("turns a synchronous throw into a rejection", async () => {
    const svc = service((_: number): number => {
      throw new Error("sync");
    });
    await expect(svc.serve(1)).rejects.toThrow("sync");
  });
});
