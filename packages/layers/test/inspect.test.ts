import { AbortedError, type Service, service, signalOf, stack } from "@tessera/core";
import { describe, expect, expectTypeOf, it } from "vitest";
import { inspect } from "../src/inspect/index.js";
import { type Req, req } from "./helpers.js";

const echo = service((r: Req) => r.path);
const failing: Service<Req, string> = { serve: () => Promise.reject(new Error("boom")) };

describe("inspect", () => {
  it("taps inputs and outputs without changing them", async () => {
    const seen: string[] = [];
    const svc = stack(
      inspect({ input: (r: Req) => seen.push(`in ${r.path}`), output: (o: string) => seen.push(`out ${o}`) }),
    ).into(echo);
    expectTypeOf(svc).toEqualTypeOf<Service<Req, string>>();
    expect(await svc.serve(req("/a"))).toBe("/a");
    expect(seen).toEqual(["in /a", "out /a"]);
  });

  it("a plain function taps inputs and adds no promise to the call", () => {
    const p = Promise.resolve("x");
    const seen: Req[] = [];
    const input = req();
    const svc = inspect((r: Req) => seen.push(r)).layer({ serve: (_: Req) => p });
    expect(svc.serve(input)).toBe(p);
    expect(seen).toEqual([input]);
  });

  it("taps errors and still rejects with them; a throwing hook changes nothing", async () => {
    const errors: unknown[] = [];
    const svc = inspect({
      error: (e) => {
        errors.push(e);
        throw new Error("hook broke");
      },
      input: () => {
        throw new Error("hook broke");
      },
    }).layer(failing);
    await expect(svc.serve(req())).rejects.toThrow("boom");
    await Promise.resolve();
    expect(errors).toEqual([new Error("boom")]);
  });

  it("sees cancellations as errors, with the input's aborted signal", async () => {
    const caller = new AbortController();
    caller.abort();
    const aborted: boolean[] = [];
    const cancelled: Service<Req, string> = { serve: () => Promise.reject(new AbortedError()) };
    const svc = inspect({ error: (_e, r: Req) => aborted.push(signalOf(r).aborted) }).layer(cancelled);
    await expect(svc.serve(req("/", caller.signal))).rejects.toBeInstanceOf(AbortedError);
    await Promise.resolve();
    expect(aborted).toEqual([true]);
  });

  it("checks its hooks' types against the service", () => {
    // @ts-expect-error the hook expects number outputs
    stack(inspect({ output: (n: number) => n })).into(echo);
    expect(true).toBe(true);
  });
});
