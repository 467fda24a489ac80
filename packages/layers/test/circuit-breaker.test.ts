import { AbortedError, type Service, stack } from "@tessera/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type CircuitState, circuitBreaker } from "../src/circuit-breaker/index.js";
import { CircuitOpenError } from "../src/errors/index.js";
import { manual, type Req, req, settle } from "./helpers.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

type Breaker = Service<Req, string> & { readonly state: CircuitState };

/** A service whose next answers are set by the test: "ok", or an error to reject with. */
function switchable() {
  let next: "ok" | Error = "ok";
  let calls = 0;
  const service: Service<Req, string> = {
    serve: () => {
      calls++;
      return next === "ok" ? Promise.resolve("ok") : Promise.reject(next);
    },
  };
  return {
    service,
    set: (value: "ok" | Error) => {
      next = value;
    },
    calls: () => calls,
  };
}

async function run(svc: Service<Req, string>, times: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < times; i++) {
    out.push(
      await svc.serve(req()).then(
        (v) => v,
        (e: { code?: string; message: string }) => e.code ?? e.message,
      ),
    );
  }
  return out;
}

describe("circuitBreaker", () => {
  it("stays closed while calls succeed, and a success resets the failure streak", async () => {
    const backend = switchable();
    const svc = circuitBreaker({ consecutiveFailures: 3 }).layer(backend.service) as Breaker;
    expect(await run(svc, 5)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    backend.set(new Error("down"));
    await run(svc, 2);
    backend.set("ok");
    await run(svc, 1);
    backend.set(new Error("down"));
    await run(svc, 2);
    expect(svc.state).toBe("closed");
  });

  it("opens after consecutive failures and then fails fast with CircuitOpenError", async () => {
    const backend = switchable();
    const changes: string[] = [];
    const svc = circuitBreaker({
      consecutiveFailures: 3,
      openFor: 5_000,
      onStateChange: (s, p) => changes.push(`${p}->${s}`),
    }).layer(backend.service) as Breaker;
    backend.set(new Error("down"));
    expect(await run(svc, 3)).toEqual(["down", "down", "down"]);
    expect(svc.state).toBe("open");
    vi.advanceTimersByTime(1_000);
    const error = await svc.serve(req()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).code).toBe("ERR_CIRCUIT_OPEN");
    expect((error as CircuitOpenError).retryAfterMs).toBe(4_000);
    expect(backend.calls()).toBe(3); // the open breaker did not call the backend
    expect(changes).toEqual(["closed->open"]);
  });

  it("half-opens after openFor: a trial success closes it, a trial failure opens it again", async () => {
    const backend = switchable();
    const svc = circuitBreaker({ consecutiveFailures: 1, openFor: 1_000 }).layer(backend.service) as Breaker;
    backend.set(new Error("down"));
    await run(svc, 1);
    vi.advanceTimersByTime(1_000);
    expect(svc.state).toBe("half-open");
    expect(await run(svc, 1)).toEqual(["down"]); // the trial failed
    expect(svc.state).toBe("open");
    vi.advanceTimersByTime(1_000);
    backend.set("ok");
    expect(await run(svc, 2)).toEqual(["ok", "ok"]);
    expect(svc.state).toBe("closed");
  });

  it("lets only halfOpenCalls trials through at once", async () => {
    const inner = manual<Req, string>();
    const svc = circuitBreaker({ consecutiveFailures: 1, openFor: 1_000, halfOpenCalls: 2 }).layer(
      inner.service,
    ) as Breaker;
    const first = settle(svc.serve(req()));
    inner.calls[0]!.reject(new Error("down"));
    await first.catch(() => {});
    vi.advanceTimersByTime(1_000);
    const t1 = svc.serve(req());
    const t2 = svc.serve(req());
    await expect(svc.serve(req())).rejects.toBeInstanceOf(CircuitOpenError);
    expect(inner.calls).toHaveLength(3);
    inner.calls[1]!.resolve("a");
    await t1;
    expect(svc.state).toBe("half-open"); // needs two successes
    inner.calls[2]!.resolve("b");
    await t2;
    expect(svc.state).toBe("closed");
  });

  it("opens on a failure ratio over the recent calls", async () => {
    const backend = switchable();
    const svc = circuitBreaker({
      consecutiveFailures: Number.POSITIVE_INFINITY,
      failureRatio: { ratio: 0.5, window: 10, minCalls: 4 },
    }).layer(backend.service) as Breaker;
    // Alternate: 50% failures, but never more than one in a row.
    for (let i = 0; i < 3; i++) {
      backend.set(i % 2 === 0 ? "ok" : new Error("down"));
      await run(svc, 1);
    }
    expect(svc.state).toBe("closed"); // 1 of 3, and below minCalls
    backend.set(new Error("down"));
    await run(svc, 1); // 2 of 4 failed: 50%
    expect(svc.state).toBe("open");
  });

  it("forgets failures that slid out of the window", async () => {
    const backend = switchable();
    const svc = circuitBreaker({
      consecutiveFailures: Number.POSITIVE_INFINITY,
      failureRatio: { ratio: 0.5, window: 4 },
    }).layer(backend.service) as Breaker;
    backend.set(new Error("down"));
    await run(svc, 1);
    backend.set("ok");
    await run(svc, 4); // window is now ok x4: the failure slid out
    backend.set(new Error("down"));
    await run(svc, 1); // 1 of 4
    expect(svc.state).toBe("closed");
    await run(svc, 1); // 2 of 4
    expect(svc.state).toBe("open");
  });

  it("counts outputs as failures when told to", async () => {
    const svc = circuitBreaker({ consecutiveFailures: 2, isFailureOutput: (s: string) => s === "503" }).layer(
      {
        serve: () => Promise.resolve("503"),
      },
    ) as Breaker;
    expect(await run(svc, 2)).toEqual(["503", "503"]);
    expect(svc.state).toBe("open");
  });

  it("does not count a caller's cancellation as a failure, and a cancelled trial frees its slot", async () => {
    const inner = manual<Req, string>();
    const svc = circuitBreaker({ consecutiveFailures: 1, openFor: 100 }).layer(inner.service) as Breaker;
    const cancelled = settle(svc.serve(req()));
    inner.calls[0]!.reject(new AbortedError());
    await cancelled.catch(() => {});
    expect(svc.state).toBe("closed");

    const failed = settle(svc.serve(req()));
    inner.calls[1]!.reject(new Error("down"));
    await failed.catch(() => {});
    expect(svc.state).toBe("open");
    vi.advanceTimersByTime(100);
    const trial = settle(svc.serve(req()));
    await expect(svc.serve(req())).rejects.toBeInstanceOf(CircuitOpenError);
    inner.calls[2]!.reject(new AbortedError());
    await trial.catch(() => {});
    expect(svc.state).toBe("half-open");
    const next = svc.serve(req()); // the slot is free again
    inner.calls[3]!.resolve("ok");
    expect(await next).toBe("ok");
    expect(svc.state).toBe("closed");
  });

  it("ignores calls that finish after the state changed", async () => {
    const inner = manual<Req, string>();
    const svc = circuitBreaker({ consecutiveFailures: 1, openFor: 100 }).layer(inner.service) as Breaker;
    const slowCall = settle(svc.serve(req())); // started while closed
    const failing = settle(svc.serve(req()));
    inner.calls[1]!.reject(new Error("down"));
    await failing.catch(() => {});
    expect(svc.state).toBe("open");
    vi.advanceTimersByTime(100);
    const trial = svc.serve(req());
    inner.calls[0]!.resolve("late"); // the old call's success must not close the circuit
    await slowCall;
    expect(svc.state).toBe("half-open");
    inner.calls[2]!.resolve("ok");
    await trial;
    expect(svc.state).toBe("closed");
  });

  it("keeps its types in a stack and validates its options", () => {
    const typed: Service<Req, string> = stack(circuitBreaker()).into(switchable().service);
    expect(typed).toBeDefined();
    expect(() => circuitBreaker({ consecutiveFailures: 0 })).toThrow(RangeError);
    expect(() => circuitBreaker({ failureRatio: { ratio: 1.5, window: 10 } })).toThrow(RangeError);
    expect(() => circuitBreaker({ failureRatio: { ratio: 0.5, window: 0 } })).toThrow(RangeError);
  });
});
