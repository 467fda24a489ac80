import { AbortedError, type Service, service, stack, TimeoutError } from "@tessera/core";
import { describe, expect, expectTypeOf, it } from "vitest";
import { catchError } from "../src/catch-error/index.js";
import { type Req, req } from "./helpers.js";

interface Res {
  readonly status: number;
}
const ok = service((_: Req): Res => ({ status: 200 }));
const timesOut: Service<Req, Res> = { serve: () => Promise.reject(new TimeoutError()) };

describe("catchError", () => {
  it("passes successes through untouched", async () => {
    const svc = stack(catchError(() => ({ status: 500 }))).into(ok);
    expect(await svc.serve(req())).toEqual({ status: 200 });
  });

  it("turns errors into outputs, with the input at hand, and widens the output type", async () => {
    const svc = stack(
      catchError((error, r: Req) => ({ status: error instanceof TimeoutError ? 504 : 500, path: r.path })),
    ).into(timesOut);
    expectTypeOf(svc).toEqualTypeOf<Service<Req, Res | { status: number; path: string }>>();
    expect(await svc.serve(req("/slow"))).toEqual({ status: 504, path: "/slow" });
  });

  it("lets the handler rethrow what it does not handle, sync or async", async () => {
    const onlyTimeouts = (error: unknown): Res => {
      if (error instanceof TimeoutError) return { status: 504 };
      throw error;
    };
    const boom = new Error("boom");
    await expect(
      catchError(onlyTimeouts)
        .layer({ serve: () => Promise.reject(boom) })
        .serve(req()),
    ).rejects.toBe(boom);
    await expect(
      catchError(async () => {
        throw new Error("async rethrow");
      })
        .layer(timesOut)
        .serve(req()),
    ).rejects.toThrow("async rethrow");
  });

  it("catches a cancellation like any error (the caller decides what it means)", async () => {
    const cancelled: Service<Req, Res> = { serve: () => Promise.reject(new AbortedError()) };
    const svc = catchError((e) => ({ status: (e as AbortedError).code === "ERR_ABORTED" ? 499 : 500 })).layer(
      cancelled,
    );
    expect(await svc.serve(req())).toEqual({ status: 499 });
  });

  it("rejects at compile time an input the handler does not take", () => {
    // @ts-expect-error the handler takes number inputs
    stack(catchError((_e, _n: number) => 0)).into(ok);
    expect(true).toBe(true);
  });
});
