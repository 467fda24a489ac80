import { AbortedError, type Service, service, stack } from "@tessera/core";
import { pino } from "pino";
import { describe, expect, expectTypeOf, it } from "vitest";
import { consumeErrors } from "../src/consume-errors/index.js";
import { log } from "../src/log/index.js";
import { type Req, req } from "./helpers.js";

function capture(level = "debug") {
  const lines: Record<string, any>[] = [];
  const logger = pino({ level }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { logger, lines };
}

const acceptorFailing: Service<Req, void> = { serve: () => Promise.reject(new Error("bad handshake")) };

describe("consumeErrors", () => {
  it("resolves like the inner service on success and logs nothing", async () => {
    const { logger, lines } = capture();
    const svc = stack(consumeErrors({ logger })).into(service((_: Req) => {}));
    expectTypeOf(svc).toEqualTypeOf<Service<Req, void>>();
    expect(await svc.serve(req())).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it("logs a failure at warn and resolves instead of rejecting", async () => {
    const { logger, lines } = capture();
    const svc = stack(consumeErrors({ logger })).into(acceptorFailing);
    expect(await svc.serve(req())).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: "call failed", err: { message: "bad handshake" } });
  });

  it("drops synchronous throws and a throwing onError handler too", async () => {
    const throwing: Service<Req, void> = {
      serve: () => {
        throw new Error("sync");
      },
    };
    const seen: unknown[] = [];
    expect(
      await consumeErrors({ onError: (e) => seen.push(e) })
        .layer(throwing)
        .serve(req()),
    ).toBeUndefined();
    expect(seen).toEqual([new Error("sync")]);
    const broken = consumeErrors({
      onError: () => {
        throw new Error("handler broke");
      },
    });
    expect(await broken.layer(acceptorFailing).serve(req())).toBeUndefined();
  });

  it("logs cancellations at debug only", async () => {
    const { logger, lines } = capture("info");
    const cancelled: Service<Req, void> = { serve: () => Promise.reject(new AbortedError()) };
    expect(await consumeErrors({ logger }).layer(cancelled).serve(req())).toBeUndefined();
    const caller = new AbortController();
    caller.abort();
    expect(
      await consumeErrors({ logger }).layer(acceptorFailing).serve(req("/", caller.signal)),
    ).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it("logs through the input's logger from log(), so the line has the input's id", async () => {
    const { logger, lines } = capture();
    const svc = stack(log({ logger, idField: "conn" }), consumeErrors()).into(acceptorFailing);
    await svc.serve(req());
    const failed = lines.find((l) => l.msg === "call failed" && l.level === 40);
    expect(failed?.conn).toEqual(expect.any(String));
    expect(lines.find((l) => l.msg === "call finished")?.conn).toBe(failed?.conn);
  });

  it("only fits services whose output is void", () => {
    const numbers = service((_: Req) => 1);
    // @ts-expect-error dropping an error would have to invent a number
    stack(consumeErrors()).into(numbers);
    expect(true).toBe(true);
  });
});
