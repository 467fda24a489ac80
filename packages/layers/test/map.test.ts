import { AbortedError, Extensions, type Service, SignalKey, service, signalOf, stack } from "@tessera/core";
import { describe, expect, expectTypeOf, it } from "vitest";
import { andThen, mapError, mapInput, mapOutput } from "../src/map/index.js";
import { type Req, req } from "./helpers.js";

interface Res {
  readonly status: number;
}
const handler = service((r: Req): Res => ({ status: r.path === "/" ? 200 : 404 }));
const failing: Service<Req, Res> = { serve: () => Promise.reject(new Error("boom")) };

describe("mapInput", () => {
  it("turns the outer input into the inner one, sync or async", async () => {
    const sync = stack(mapInput((path: string) => req(path))).into(handler);
    expectTypeOf(sync).toEqualTypeOf<Service<string, Res>>();
    expect(await sync.serve("/")).toEqual({ status: 200 });
    const async = stack(mapInput(async (path: string) => req(path))).into(handler);
    expectTypeOf(async).toEqualTypeOf<Service<string, Res>>();
    expect(await async.serve("/x")).toEqual({ status: 404 });
  });

  it("fails the call when the function throws or rejects, without calling the inner service", async () => {
    let called = false;
    const inner = service((_: Req) => {
      called = true;
      return 1;
    });
    await expect(
      mapInput((_: string): Req => {
        throw new Error("bad");
      })
        .layer(inner)
        .serve("x"),
    ).rejects.toThrow("bad");
    await expect(
      mapInput(async (_: string): Promise<Req> => {
        throw new Error("bad async");
      })
        .layer(inner)
        .serve("x"),
    ).rejects.toThrow("bad async");
    expect(called).toBe(false);
  });

  it("carries the caller's signal when the mapped input keeps its extensions", async () => {
    const caller = new AbortController();
    let seen: AbortSignal | undefined;
    const inner = service((r: Req) => {
      seen = signalOf(r);
      return r.path;
    });
    const ext = new Extensions().insert(SignalKey, caller.signal);
    const svc = stack(mapInput((path: string) => req(path, signalOf(ext)))).into(inner);
    await svc.serve("/");
    expect(seen).toBe(caller.signal);
  });

  it("rejects at compile time an inner service that does not take the mapped input", () => {
    const numbers = service((n: number) => n);
    // @ts-expect-error the inner service takes numbers, the function returns Req
    stack(mapInput((path: string) => req(path))).into(numbers);
    expect(true).toBe(true);
  });
});

describe("mapOutput", () => {
  it("transforms the output, sync or async", async () => {
    const svc = stack(mapOutput((res: Res) => res.status)).into(handler);
    expectTypeOf(svc).toEqualTypeOf<Service<Req, number>>();
    expect(await svc.serve(req("/"))).toBe(200);
    const async = stack(mapOutput(async (res: Res) => String(res.status))).into(handler);
    expectTypeOf(async).toEqualTypeOf<Service<Req, string>>();
    expect(await async.serve(req("/x"))).toBe("404");
  });

  it("passes the inner error through and fails when the function throws", async () => {
    let mapped = false;
    await expect(
      mapOutput((res: Res) => {
        mapped = true;
        return res;
      })
        .layer(failing)
        .serve(req()),
    ).rejects.toThrow("boom");
    expect(mapped).toBe(false);
    await expect(
      mapOutput((_: Res) => {
        throw new Error("map failed");
      })
        .layer(handler)
        .serve(req()),
    ).rejects.toThrow("map failed");
  });

  it("does not touch the input, so cancellation reaches the inner service unchanged", async () => {
    const caller = new AbortController();
    caller.abort();
    const inner = service((r: Req) => (signalOf(r).aborted ? "aborted" : "live"));
    expect(
      await stack(mapOutput((s: string) => s.toUpperCase()))
        .into(inner)
        .serve(req("/", caller.signal)),
    ).toBe("ABORTED");
  });

  it("rejects at compile time an inner output the function does not take", () => {
    // @ts-expect-error handler returns Res, the function takes a string
    stack(mapOutput((s: string) => s.length)).into(handler);
    expect(true).toBe(true);
  });
});

describe("mapError", () => {
  it("replaces the error a failed call rejects with, and leaves successes alone", async () => {
    class UpstreamError extends Error {}
    const svc = stack(mapError((e, r: Req) => new UpstreamError(`${r.path}: ${(e as Error).message}`))).into(
      failing,
    );
    expectTypeOf(svc).toEqualTypeOf<Service<Req, Res>>();
    const error = await svc.serve(req("/a")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as Error).message).toBe("/a: boom");
    expect(
      await stack(mapError(() => new Error("never")))
        .into(handler)
        .serve(req()),
    ).toEqual({ status: 200 });
  });

  it("maps cancellation errors too (they are errors like any other)", async () => {
    const cancelled: Service<Req, Res> = { serve: () => Promise.reject(new AbortedError()) };
    const svc = stack(mapError((e) => ({ wrapped: (e as AbortedError).code }))).into(cancelled);
    await expect(svc.serve(req())).rejects.toEqual({ wrapped: "ERR_ABORTED" });
  });
});

describe("andThen", () => {
  it("runs an async step on the output with the input at hand", async () => {
    const svc = stack(andThen(async (res: Res, r: Req) => `${r.path} -> ${res.status}`)).into(handler);
    expectTypeOf(svc).toEqualTypeOf<Service<Req, string>>();
    expect(await svc.serve(req("/x"))).toBe("/x -> 404");
  });

  it("fails the call when the step fails, and skips it when the inner call fails", async () => {
    await expect(
      andThen(async (_: Res, __: Req) => {
        throw new Error("step");
      })
        .layer(handler)
        .serve(req()),
    ).rejects.toThrow("step");
    let ran = false;
    await expect(
      andThen((res: Res, _: Req) => {
        ran = true;
        return res;
      })
        .layer(failing)
        .serve(req()),
    ).rejects.toThrow("boom");
    expect(ran).toBe(false);
  });

  it("sees the caller's signal on the input", async () => {
    const caller = new AbortController();
    const svc = andThen((_: Res, r: Req) => signalOf(r)).layer(handler);
    expect(await svc.serve(req("/", caller.signal))).toBe(caller.signal);
  });

  it("rejects at compile time an input or output the step does not take", () => {
    // @ts-expect-error the step takes a string output
    stack(andThen((s: string, _: Req) => s)).into(handler);
    // @ts-expect-error the step takes a number input
    stack(andThen((res: Res, _: number) => res)).into(handler);
    expect(true).toBe(true);
  });
});
