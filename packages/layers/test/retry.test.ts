import {
  AbortedError,
  type Extensions,
  key,
  type Service,
  signalOf,
  stack,
  TimeoutError,
} from "@tessera/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RetryBudgetExhaustedError } from "../src/errors/index.js";
import { fullJitterBackoff, type RetryEvent, retry, retryBudget } from "../src/retry/index.js";
import { type Req, req, settle, slow, state } from "./helpers.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const Attempt = key<number>("test.Attempt");

/** A service that fails (or answers) according to `script`, one entry per call, and records its inputs. */
function scripted<O>(script: Array<O | Error>) {
  const inputs: Req[] = [];
  const service: Service<Req, O> = {
    serve(input) {
      inputs.push(input);
      input.extensions.insert(Attempt, inputs.length);
      const next = script[inputs.length - 1];
      if (next === undefined) throw new Error("script exhausted");
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
  };
  return { service, inputs };
}

const half = () => 0.5;

describe("retry", () => {
  it("returns the first success without waiting", async () => {
    const { service, inputs } = scripted(["ok"]);
    const svc = stack(retry()).into(service);
    expect(await svc.serve(req())).toBe("ok");
    expect(inputs).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("retries failures with full-jitter exponential backoff, then succeeds", async () => {
    const { service, inputs } = scripted([new Error("a"), new Error("b"), "ok"]);
    const events: RetryEvent<string>[] = [];
    const svc = retry<string>({
      attempts: 3,
      baseDelay: 100,
      random: half,
      onRetry: (e) => events.push(e),
    }).layer(service);
    const result = svc.serve(req());
    await vi.advanceTimersByTimeAsync(0);
    expect(inputs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(49); // first backoff: 0.5 * 100
    expect(inputs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(inputs).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(99); // second backoff: 0.5 * 200
    expect(inputs).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toBe("ok");
    expect(events.map((e) => [e.attempt, e.delay, (e.error as Error).message])).toEqual([
      [1, 50, "a"],
      [2, 100, "b"],
    ]);
  });

  it("runs every attempt on forked extensions, so a failed attempt leaves nothing behind", async () => {
    const { service, inputs } = scripted([new Error("a"), "ok"]);
    const input = req();
    const result = retry({ random: () => 0 })
      .layer(service)
      .serve(input);
    await vi.advanceTimersByTimeAsync(0);
    expect(await result).toBe("ok");
    expect(inputs[0]).not.toBe(input);
    expect(inputs[0]!.extensions.parent).toBe(input.extensions);
    expect(inputs[1]!.extensions.parent).toBe(input.extensions);
    expect(inputs[1]!.extensions.getAll(Attempt)).toEqual([2]); // attempt 1's breadcrumb is gone
    expect(input.extensions.has(Attempt)).toBe(false);
    expect(inputs[1]!.path).toBe(input.path); // the copy shares the payload
  });

  it("passes the last error on when the attempts run out", async () => {
    const last = new Error("c");
    const { service, inputs } = scripted([new Error("a"), new Error("b"), last]);
    const result = settle(
      retry({ attempts: 3, random: () => 0 })
        .layer(service)
        .serve(req()),
    );
    await vi.runAllTimersAsync();
    await expect(result).rejects.toBe(last);
    expect(inputs).toHaveLength(3);
  });

  it("does not retry what the predicate rejects, nor AbortedError by default", async () => {
    const fatal = Object.assign(new Error("bad request"), { code: "EBADREQ" });
    const a = scripted([fatal, "ok"]);
    const svc = retry({ isRetryable: (e) => (e as { code?: string }).code !== "EBADREQ" }).layer(a.service);
    await expect(svc.serve(req())).rejects.toBe(fatal);
    expect(a.inputs).toHaveLength(1);

    const b = scripted([new AbortedError(), "ok"]);
    await expect(retry().layer(b.service).serve(req())).rejects.toBeInstanceOf(AbortedError);
    expect(b.inputs).toHaveLength(1);

    const c = scripted([new TimeoutError(), "ok"]); // a per-attempt timeout is worth retrying
    const result = retry({ random: () => 0 })
      .layer(c.service)
      .serve(req());
    await vi.advanceTimersByTimeAsync(0);
    expect(await result).toBe("ok");
  });

  it("retries outputs the output predicate rejects, and returns the last one when attempts run out", async () => {
    const a = scripted([{ status: 503 }, { status: 200 }]);
    const onlyOk = retry({
      random: () => 0,
      isRetryableOutput: (res: { status: number }) => res.status === 503,
    });
    const first = onlyOk.layer(a.service).serve(req());
    await vi.advanceTimersByTimeAsync(0);
    expect(await first).toEqual({ status: 200 });

    const b = scripted([{ status: 503 }, { status: 503 }]);
    const second = retry({
      attempts: 2,
      random: () => 0,
      isRetryableOutput: (res: { status: number }) => res.status === 503,
    })
      .layer(b.service)
      .serve(req());
    await vi.advanceTimersByTimeAsync(0);
    expect(await second).toEqual({ status: 503 });
    expect(b.inputs).toHaveLength(2);
  });

  it("stops waiting as soon as the caller's signal aborts, with its reason", async () => {
    const { service, inputs } = scripted([new Error("a"), "ok"]);
    const caller = new AbortController();
    const result = settle(
      retry({ baseDelay: 1_000, random: () => 0.9 })
        .layer(service)
        .serve(req("/", caller.signal)),
    );
    await vi.advanceTimersByTimeAsync(100);
    expect(vi.getTimerCount()).toBe(1); // the backoff
    caller.abort(new AbortedError("client gone"));
    await expect(result).rejects.toThrow("client gone");
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(inputs).toHaveLength(1);
  });

  it("does not retry an attempt that failed after the caller gave up", async () => {
    const caller = new AbortController();
    const seen: AbortSignal[] = [];
    const svc = retry({ random: () => 0 }).layer(slow<Req>(1_000, seen));
    const result = settle(svc.serve(req("/", caller.signal)));
    await vi.advanceTimersByTimeAsync(10);
    caller.abort("gone");
    await expect(result).rejects.toBeInstanceOf(AbortedError);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.aborted).toBe(true); // the attempt saw the caller's signal through its fork
  });

  it("refuses to retry beyond a shared budget: the error says so and carries the cause", async () => {
    const budget = retryBudget({ ratio: 0, minPerSecond: 0, capacity: 1 });
    const failing = scripted(Array.from({ length: 10 }, (_, i) => new Error(`e${i}`)));
    const svc = retry({ attempts: 5, random: () => 0, budget }).layer(failing.service);
    const first = settle(svc.serve(req()));
    await vi.advanceTimersByTimeAsync(0);
    const error = await first.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryBudgetExhaustedError);
    expect((error as RetryBudgetExhaustedError).code).toBe("ERR_RETRY_BUDGET_EXHAUSTED");
    expect((error as RetryBudgetExhaustedError).attempts).toBe(2);
    expect((error as Error).cause).toEqual(new Error("e1"));
    expect(failing.inputs).toHaveLength(2); // one retry: the only token

    // A second service sharing the budget gets no retry either.
    const other = scripted([new Error("x"), "ok"]);
    await expect(
      retry({ budget, random: () => 0 })
        .layer(other.service)
        .serve(req()),
    ).rejects.toBeInstanceOf(RetryBudgetExhaustedError);
    expect(other.inputs).toHaveLength(1);
  });

  it("bounds retries during an outage to the budget's ratio plus its reserve", async () => {
    const budget = retryBudget({ ratio: 0.1, minPerSecond: 0, capacity: 5 });
    let calls = 0;
    const down: Service<Req, string> = {
      serve: () => {
        calls++;
        return Promise.reject(new Error("down"));
      },
    };
    const svc = retry({ attempts: 3, random: () => 0, budget }).layer(down);
    for (let i = 0; i < 200; i++) {
      const result = settle(svc.serve(req()));
      await vi.runAllTimersAsync();
      await result.catch(() => {});
    }
    // Without a budget: 600 calls. With it: 200 first attempts + 5 reserve + ~10% of 200.
    expect(calls).toBeLessThanOrEqual(200 + 5 + 21);
    expect(calls).toBeGreaterThanOrEqual(200 + 5 + 19);
  });

  it("refills the budget over time at minPerSecond", () => {
    const budget = retryBudget({ ratio: 0, minPerSecond: 2, capacity: 1 });
    expect(budget.withdraw()).toBe(true);
    expect(budget.withdraw()).toBe(false);
    vi.advanceTimersByTime(499);
    expect(budget.withdraw()).toBe(false);
    vi.advanceTimersByTime(1);
    expect(budget.withdraw()).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(budget.balance).toBe(1); // capped at capacity
  });

  it("full jitter stays under the doubling ceiling, capped by maxDelay", () => {
    expect(fullJitterBackoff(1, 100, 10_000, () => 0.999)).toBe(99);
    expect(fullJitterBackoff(4, 100, 10_000, () => 0.999)).toBe(799);
    expect(fullJitterBackoff(30, 100, 10_000, () => 0.5)).toBe(5_000);
    expect(fullJitterBackoff(3, 100, 10_000, () => 0)).toBe(0);
  });

  it("keeps waiting between attempts pending until the delay has passed", async () => {
    const { service } = scripted([new Error("a"), "ok"]);
    const result = retry({ baseDelay: 1_000, random: half }).layer(service).serve(req());
    await vi.advanceTimersByTimeAsync(499);
    expect(await state(result)).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toBe("ok");
  });

  it("validates its policy", () => {
    expect(() => retry({ attempts: 0 })).toThrow(RangeError);
    expect(() => retry({ attempts: 1.5 })).toThrow(RangeError);
    expect(() => retry({ baseDelay: -1 })).toThrow(RangeError);
  });

  it("needs Extensible inputs (it forks them)", () => {
    const plain: Service<{ readonly extensions: Extensions }, string> = { serve: async () => "x" };
    // @ts-expect-error retry copies its input with withExtensions, which a plain { extensions } lacks
    stack(retry()).into(plain);
    expect(signalOf(req())).toBeDefined();
  });
});
