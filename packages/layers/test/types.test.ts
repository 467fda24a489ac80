import { type Extensions, type HasExtensions, key, type Service, service, stack } from "@tessera/core";
import { pino } from "pino";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  addExtension,
  andThen,
  catchError,
  circuitBreaker,
  concurrencyLimit,
  consumeErrors,
  hedge,
  hijack,
  inspect,
  loadShed,
  log,
  mapError,
  mapInput,
  mapOutput,
  rateLimit,
  retry,
  route,
  timeout,
} from "../src/index.js";
import { Req, req } from "./helpers.js";

interface Res {
  readonly status: number;
}
const handler = service((r: Req): Res => ({ status: r.path === "/" ? 200 : 404 }));
const logger = pino({ level: "silent" });
const ResKey = key<Res>("test.Res");

describe("type inference through stacks", () => {
  it("a server stack of five type-preserving layers keeps Service<Req, Res>", async () => {
    const svc = stack(
      log({ logger }),
      loadShed(),
      concurrencyLimit(64),
      circuitBreaker({ isFailureOutput: (res: Res) => res.status >= 500 }),
      inspect({ output: (res: Res) => res.status }),
    ).into(handler);
    expectTypeOf(svc).toEqualTypeOf<Service<Req, Res>>();
    expect(await svc.serve(req("/"))).toEqual({ status: 200 });
  });

  it("a client stack of five layers changes the input and output types", async () => {
    const svc = stack(
      mapInput((path: string) => req(path)), // string in, Req to the layers below
      catchError((): number => -1), // number | number
      mapOutput((res: Res) => res.status), // Res from below, number out
      timeout(1_000), // needs extensions: Req has them
      retry({ isRetryableOutput: (res: Res) => res.status === 503 }), // needs Extensible and Res outputs
    ).into(handler);
    expectTypeOf(svc).toEqualTypeOf<Service<string, number>>();
    expect(await svc.serve("/")).toBe(200);
    expect(await svc.serve("/nope")).toBe(404);
  });

  it("widens outputs through routes and error handlers", () => {
    const health = service((_: Req) => "ok" as const);
    const svc = stack(
      catchError(() => null),
      hijack((r: Req) => r.path === "/healthz", health),
      route([(r: Req) => r.path === "/v", service((_: Req) => 1)]),
      hedge({ delay: 10 }),
      rateLimit({ rate: 100, key: (r: Req) => r.path }),
    ).into(handler);
    expectTypeOf(svc).toEqualTypeOf<Service<Req, Res | "ok" | number | null>>();
  });

  it("infers inside a nested stack, and with andThen, mapError and addExtension", () => {
    const inner = stack(
      mapError((e) => e),
      addExtension(ResKey, { status: 0 }),
    );
    const svc = stack(
      andThen(async (res: Res, r: Req) => `${r.path}:${res.status}`),
      inner,
      timeout(5),
    ).into(handler);
    expectTypeOf(svc).toEqualTypeOf<Service<Req, string>>();
  });

  it("rejects mismatched stacks at compile time", () => {
    interface Plain {
      readonly extensions: Extensions;
    }
    const plain = service((_: Plain): Res => ({ status: 200 }));
    // @ts-expect-error retry forks its input: Plain has no withExtensions
    stack(timeout(5), retry()).into(plain);
    const retryOverNumbers = stack(
      retry({ isRetryableOutput: (res: Res) => res.status > 500 }),
      mapOutput((res: Res) => res.status),
    );
    // @ts-expect-error the output predicate takes Res, but mapOutput below turned the output into a number
    retryOverNumbers.into(handler);
    const timeoutOverStrings = stack(
      timeout(5),
      mapInput((path: string) => req(path)),
    );
    // @ts-expect-error timeout needs extensions, but mapInput above it takes a plain string
    timeoutOverStrings.into(handler);
    const lengthOfStrings = stack(
      log({ logger }),
      mapOutput((s: string) => s.length),
    );
    // @ts-expect-error mapOutput takes a string, the handler returns Res
    lengthOfStrings.into(handler);
    // @ts-expect-error consumeErrors drops errors, so it only fits services that return nothing
    stack(consumeErrors(), concurrencyLimit(1)).into(handler);
    // @ts-expect-error numbers carry no extensions for the limit's cancellation
    stack(concurrencyLimit(1)).into(service((n: number) => n));
    expect(new Req()).toBeInstanceOf(Req);
  });

  it("a generic layer is also a fixed layer for the types it accepts", () => {
    const layers = [timeout(1), concurrencyLimit(1), log({ logger })];
    for (const l of layers) {
      const svc = l.layer(handler);
      expectTypeOf(svc).toEqualTypeOf<Service<Req, Res>>();
    }
    const fits: (inner: Service<HasExtensions, unknown>) => unknown = (inner) => timeout(1).layer(inner);
    expect(fits).toBeDefined();
  });
});
