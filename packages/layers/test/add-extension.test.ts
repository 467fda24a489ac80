import { Extensions, key, type Service, service, stack } from "@tessera/core";
import { describe, expect, expectTypeOf, it } from "vitest";
import { addExtension } from "../src/add-extension/index.js";
import { type Req, req } from "./helpers.js";

const Tenant = key<string>("test.Tenant");
const Handler = key<() => string>("test.Handler");
const readTenant = service((r: Req) => r.extensions.get(Tenant));

describe("addExtension", () => {
  it("appends a fixed value the inner service and, afterwards, the caller see", async () => {
    const svc = stack(addExtension(Tenant, "acme")).into(readTenant);
    expectTypeOf(svc).toEqualTypeOf<Service<Req, string | undefined>>();
    const input = req();
    expect(await svc.serve(input)).toBe("acme");
    expect(input.extensions.get(Tenant)).toBe("acme"); // shared, not forked
  });

  it("computes the value from the input, and stores functions when wrapped", async () => {
    const svc = stack(addExtension(Tenant, (r: Req) => r.path.slice(1))).into(readTenant);
    expect(await svc.serve(req("/globex"))).toBe("globex");
    const fn = () => "hi";
    const withFn = stack(addExtension(Handler, () => fn)).into(
      service((r: Req) => r.extensions.get(Handler)?.()),
    );
    expect(await withFn.serve(req())).toBe("hi");
  });

  it("fails the call without calling the inner service when the function throws", async () => {
    let called = false;
    const inner = service((_: Req) => {
      called = true;
    });
    const svc = addExtension(Tenant, (): string => {
      throw new Error("no tenant");
    }).layer(inner);
    await expect(svc.serve(req())).rejects.toThrow("no tenant");
    expect(called).toBe(false);
  });

  it("keeps the caller's signal (it appends, never replaces)", async () => {
    const caller = new AbortController();
    const input = req("/", caller.signal);
    await stack(addExtension(Tenant, "a")).into(readTenant).serve(input);
    expect(input.extensions.getAll(Tenant)).toEqual(["a"]);
    const { signalOf } = await import("@tessera/core");
    expect(signalOf(input)).toBe(caller.signal);
  });

  it("needs inputs with extensions", () => {
    const numbers = service((n: number) => n);
    // @ts-expect-error numbers carry no extensions
    stack(addExtension(Tenant, "x")).into(numbers);
    expect(new Extensions()).toBeDefined();
  });
});
