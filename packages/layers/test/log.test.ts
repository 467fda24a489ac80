import { AbortedError, type Service, SignalKey, service, stack } from "@tessera/core";
import { type Logger, pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LoggerKey, LogId, log, loggerOf } from "../src/log/index.js";
import { type Req, req } from "./helpers.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function capture(level: string) {
  const lines: Record<string, any>[] = [];
  const logger = pino({ level }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { logger, lines };
}

/** A handler that takes `ms` and logs through the input's logger. */
function handler(ms: number, fallback: Logger): Service<Req, string> {
  return {
    serve: (r) =>
      new Promise((resolve) => {
        loggerOf(r, fallback).info("inside");
        setTimeout(() => resolve(r.path), ms);
      }),
  };
}

describe("log", () => {
  it("logs start and end with an id, the duration, and a child logger on the input", async () => {
    const { logger, lines } = capture("debug");
    const svc = stack(log({ logger, bindings: (r: Req) => ({ path: r.path }) })).into(handler(25, logger));
    const input = req("/a");
    const result = svc.serve(input);
    await vi.advanceTimersByTimeAsync(25);
    expect(await result).toBe("/a");
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [20, "call started"],
      [30, "inside"],
      [30, "call finished"],
    ]);
    const id = input.extensions.get(LogId);
    expect(id).toEqual(expect.any(String));
    expect(lines.every((l) => l.id === id && l.path === "/a")).toBe(true);
    expect(lines[2]!.durationMs).toBe(25);
    expect(input.extensions.get(LoggerKey)).toBeDefined();
  });

  it("does not write into the object its bindings function returns", async () => {
    const { logger, lines } = capture("info");
    const shared = Object.freeze({ service: "users" });
    const svc = stack(log({ logger, bindings: () => shared })).into(service((r: Req) => r.path));
    await svc.serve(req());
    await svc.serve(req());
    expect(shared).toEqual({ service: "users" });
    expect(lines.map((l) => l.service)).toEqual(["users", "users"]);
    expect(lines[0]!.id).not.toBe(lines[1]!.id);
  });

  it("gives every input its own id", async () => {
    const { logger, lines } = capture("info");
    const svc = stack(log({ logger })).into(service((r: Req) => r.path));
    await svc.serve(req());
    await svc.serve(req());
    const ids = lines.map((l) => l.id);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
  });

  it("adds result fields to the end line", async () => {
    const { logger, lines } = capture("info");
    const svc = stack(log({ logger, result: (status: number) => ({ status }) })).into(
      service((_: Req) => 204),
    );
    await svc.serve(req());
    expect(lines[0]).toMatchObject({ msg: "call finished", status: 204 });
  });

  it("logs a failure at error with the error and the duration, and still rejects", async () => {
    const { logger, lines } = capture("info");
    const boom = Object.assign(new Error("boom"), { code: "ERR_BOOM" });
    const svc = stack(log({ logger })).into({ serve: (_: Req) => Promise.reject(boom) });
    await expect(svc.serve(req())).rejects.toBe(boom);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 50,
      msg: "call failed",
      err: { message: "boom", code: "ERR_BOOM" },
    });
    expect(lines[0]!.durationMs).toEqual(expect.any(Number));
  });

  it("logs a cancellation at the cancel level, not as a failure", async () => {
    const { logger, lines } = capture("info");
    const cancelled: Service<Req, string> = { serve: () => Promise.reject(new AbortedError()) };
    await expect(stack(log({ logger })).into(cancelled).serve(req())).rejects.toBeInstanceOf(AbortedError);
    // An error after the caller's signal aborted counts as a cancellation too.
    const caller = new AbortController();
    caller.abort();
    const failing: Service<Req, string> = { serve: () => Promise.reject(new Error("socket closed")) };
    await expect(stack(log({ logger })).into(failing).serve(req("/", caller.signal))).rejects.toThrow();
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [30, "call cancelled"],
      [30, "call cancelled"],
    ]);
  });

  it("does no work at all when every level is off: same promise, no child, no extension", () => {
    const { logger, lines } = capture("silent");
    const child = vi.spyOn(logger, "child");
    const p = Promise.resolve("x");
    const input = req();
    const svc = log({ logger }).layer({ serve: (_: Req) => p });
    expect(svc.serve(input)).toBe(p);
    expect(child).not.toHaveBeenCalled();
    expect(input.extensions.has(LogId)).toBe(false);
    expect(lines).toEqual([]);
  });

  it("with only errors on, logs nothing for a success and the error (with an id) for a failure", async () => {
    const { logger, lines } = capture("warn");
    const child = vi.spyOn(logger, "child");
    const input = req();
    await stack(log({ logger }))
      .into(service((r: Req) => r.path))
      .serve(input);
    expect(child).not.toHaveBeenCalled();
    expect(input.extensions.has(LogId)).toBe(false);
    expect(lines).toEqual([]);
    await expect(
      stack(log({ logger }))
        .into({ serve: (_: Req) => Promise.reject(new Error("boom")) })
        .serve(req()),
    ).rejects.toThrow("boom");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, msg: "call failed", id: expect.any(String) });
  });

  it("follows level changes made at run time", async () => {
    const { logger, lines } = capture("silent");
    const svc = stack(log({ logger })).into(service((r: Req) => r.path));
    await svc.serve(req());
    logger.level = "info";
    await svc.serve(req());
    expect(lines).toHaveLength(1);
  });

  it("nests: a request's child logger derives from its connection's", async () => {
    const { logger, lines } = capture("info");
    const inner = stack(log({ logger, idField: "req" })).into(service((r: Req) => r.path));
    const outer = stack(log({ logger, idField: "conn" })).into(
      service(async (r: Req) => inner.serve(req("/x", undefined, r))),
    );
    await outer.serve(req());
    const [reqLine, connLine] = lines;
    expect(reqLine).toMatchObject({ msg: "call finished", req: expect.any(String), conn: connLine!.conn });
  });

  it("ignores the signal key (it never changes the input's cancellation)", async () => {
    const { logger } = capture("info");
    const caller = new AbortController();
    const input = req("/", caller.signal);
    await stack(log({ logger }))
      .into(service((r: Req) => r.path))
      .serve(input);
    expect(input.extensions.get(SignalKey)).toBe(caller.signal);
  });

  it("rejects an unknown level when it wraps", () => {
    const { logger } = capture("info");
    expect(() => log({ logger, level: "loud" as "info" }).layer(service((r: Req) => r.path))).toThrow(
      RangeError,
    );
  });
});
