import { AbortedError, type HasExtensions, key, type Service, service, signalOf, stack } from "@tessera/core";
import { describe, expect, expectTypeOf, it } from "vitest";
import { hijack } from "../src/hijack/index.js";
import { and, hasExtension, not, or } from "../src/matcher/index.js";
import { either, route } from "../src/route/index.js";
import { type Req, req } from "./helpers.js";

const named = (name: string) => service((r: Req) => `${name} ${r.path}`);
const isHealth = (r: Req) => r.path === "/healthz";
const isStatic = (r: Req) => r.path.startsWith("/static/");
const Admin = key<boolean>("test.Admin");
const Peer = key<string>("test.Peer");

describe("matchers", () => {
  it("compose with and, or, not", () => {
    const staticOrHealth = or(isHealth, isStatic);
    const adminStatic = and(isStatic, hasExtension(Admin));
    expect(staticOrHealth(req("/healthz"))).toBe(true);
    expect(staticOrHealth(req("/static/a"))).toBe(true);
    expect(staticOrHealth(req("/"))).toBe(false);
    const admin = req("/static/a");
    admin.extensions.insert(Admin, true);
    expect(adminStatic(admin)).toBe(true);
    expect(adminStatic(req("/static/a"))).toBe(false);
    expect(not(isHealth)(req("/"))).toBe(true);
    expect(not(isHealth)(req("/healthz"))).toBe(false);
    expect(and()(req())).toBe(true);
    expect(or()(req())).toBe(false);
  });

  it("and/or stop at the first decisive matcher", () => {
    const calls: string[] = [];
    const spy = (name: string, result: boolean) => (_: Req) => {
      calls.push(name);
      return result;
    };
    and(spy("a", false), spy("b", true))(req());
    or(spy("c", true), spy("d", false))(req());
    expect(calls).toEqual(["a", "c"]);
  });

  it("hasExtension tests the newest value", () => {
    const local = hasExtension(Peer, (ip) => ip === "127.0.0.1");
    const r = req();
    expect(local(r)).toBe(false);
    r.extensions.insert(Peer, "10.0.0.1");
    expect(local(r)).toBe(false);
    r.extensions.insert(Peer, "127.0.0.1");
    expect(local(r)).toBe(true);
  });

  it("intersect the input types they need", () => {
    const m = and(isHealth, hasExtension(Admin));
    expectTypeOf(m).parameter(0).toEqualTypeOf<Req & HasExtensions>();
    // A matcher that takes a union keeps it (only different matchers' inputs are intersected).
    expectTypeOf(and((x: string | number) => x === 1))
      .parameter(0)
      .toEqualTypeOf<string | number>();
    expectTypeOf(or(isHealth, not(isStatic)))
      .parameter(0)
      .toEqualTypeOf<Req>();
  });
});

describe("route", () => {
  it("dispatches to the first matching route, else to the inner service", async () => {
    const svc = stack(route([isHealth, named("health")], [or(isStatic, isHealth), named("files")])).into(
      named("app"),
    );
    expectTypeOf(svc).toEqualTypeOf<Service<Req, string>>();
    expect(await svc.serve(req("/healthz"))).toBe("health /healthz");
    expect(await svc.serve(req("/static/x"))).toBe("files /static/x");
    expect(await svc.serve(req("/"))).toBe("app /");
  });

  it("unions the outputs of the routes and the fallback", async () => {
    const status = service((_: Req) => 204);
    const svc = stack(route([isHealth, status])).into(named("app"));
    expectTypeOf(svc).toEqualTypeOf<Service<Req, string | number>>();
    expect(await svc.serve(req("/healthz"))).toBe(204);
  });

  it("rejects when a matcher throws, and passes route errors through", async () => {
    const svc = stack(
      route([
        (_: Req): boolean => {
          throw new Error("matcher broke");
        },
        named("x"),
      ]),
    ).into(named("app"));
    await expect(svc.serve(req())).rejects.toThrow("matcher broke");
    const failing: Service<Req, string> = { serve: () => Promise.reject(new Error("route failed")) };
    await expect(
      stack(route([isHealth, failing]))
        .into(named("app"))
        .serve(req("/healthz")),
    ).rejects.toThrow("route failed");
  });

  it("hands the same input, with the caller's signal, to the chosen service", async () => {
    const caller = new AbortController();
    caller.abort();
    const aborted = service((r: Req) => (signalOf(r).aborted ? "aborted" : "live"));
    const svc = stack(route([isHealth, aborted])).into(named("app"));
    expect(await svc.serve(req("/healthz", caller.signal))).toBe("aborted");
    const cancelled: Service<Req, string> = { serve: () => Promise.reject(new AbortedError()) };
    await expect(
      stack(route([isHealth, cancelled]))
        .into(named("app"))
        .serve(req("/healthz")),
    ).rejects.toBeInstanceOf(AbortedError);
  });

  it("rejects at compile time routes that do not take the inner service's input", () => {
    const numbers = service((n: number) => n);
    // @ts-expect-error the route takes Req, the fallback takes numbers
    stack(route([isHealth, named("h")])).into(numbers);
    expect(true).toBe(true);
  });
});

describe("hijack", () => {
  it("diverts matching inputs and lets the rest through untouched", async () => {
    const svc = stack(hijack(isHealth, named("mock"))).into(named("relay"));
    expectTypeOf(svc).toEqualTypeOf<Service<Req, string>>();
    expect(await svc.serve(req("/healthz"))).toBe("mock /healthz");
    expect(await svc.serve(req("/x"))).toBe("relay /x");
  });

  it("passes the diverted service's errors through", async () => {
    const failing: Service<Req, string> = { serve: () => Promise.reject(new Error("mitm failed")) };
    await expect(
      stack(hijack(isHealth, failing)).into(named("relay")).serve(req("/healthz")),
    ).rejects.toThrow("mitm failed");
  });

  it("sees the caller's signal on the diverted input", async () => {
    const caller = new AbortController();
    const svc = stack(
      hijack(
        isHealth,
        service((r: Req) => signalOf(r)),
      ),
    ).into(service((_: Req) => signalOf(_)));
    expect(await svc.serve(req("/healthz", caller.signal))).toBe(caller.signal);
  });
});

describe("either", () => {
  it("sends each input to left or right by the matcher", async () => {
    const svc = either(
      hasExtension(Admin),
      named("admin"),
      service((r: Req) => r.path.length),
    );
    expectTypeOf(svc).toEqualTypeOf<Service<HasExtensions & Req & Req, string | number>>();
    const admin = req("/a");
    admin.extensions.insert(Admin, true);
    expect(await svc.serve(admin)).toBe("admin /a");
    expect(await svc.serve(req("/abc"))).toBe(4);
  });

  it("rejects when the matcher throws, and passes branch errors and cancellation through", async () => {
    const broken = either(
      (_: Req): boolean => {
        throw new Error("matcher broke");
      },
      named("l"),
      named("r"),
    );
    await expect(broken.serve(req())).rejects.toThrow("matcher broke");
    const cancelled: Service<Req, string> = { serve: () => Promise.reject(new AbortedError()) };
    await expect(either(isHealth, cancelled, named("r")).serve(req("/healthz"))).rejects.toBeInstanceOf(
      AbortedError,
    );
  });
});
