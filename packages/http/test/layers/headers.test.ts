import { stack } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { InvalidHeaderNameError, InvalidHeaderValueError, Response } from "../../src/index.js";
import { removeRequestHeaders, removeResponseHeaders } from "../../src/layers/remove-header/index.js";
import { isReasonableRequestId, RequestId, requestId } from "../../src/layers/request-id/index.js";
import { requiredHeader } from "../../src/layers/required-header/index.js";
import { setRequestHeader, setResponseHeader } from "../../src/layers/set-header/index.js";
import { fields, handler, request, trackedBody } from "./helpers.js";

describe("requestId", () => {
  it("generates an id, puts it on the extensions, the request header and the response", async () => {
    let n = 0;
    const inner = handler();
    const svc = stack(requestId({ generate: () => `id-${++n}` })).into(inner);
    const req = request();
    const res = await svc.serve(req);
    expect(req.extensions.get(RequestId)).toBe("id-1");
    expect(inner.seen[0]!.headers.get("x-request-id")).toBe("id-1");
    expect(res.headers.get("x-request-id")).toBe("id-1");
    const res2 = await svc.serve(request());
    expect(res2.headers.get("x-request-id")).toBe("id-2");
  });

  it("propagates a valid incoming id and replaces an invalid one", async () => {
    const svc = stack(requestId({ generate: () => "fresh" })).into(handler());
    const kept = await svc.serve(request({ headers: { "X-Request-Id": "abc-123" } }));
    expect(kept.headers.get("x-request-id")).toBe("abc-123");
    const long = await svc.serve(request({ headers: { "x-request-id": "x".repeat(129) } }));
    expect(long.headers.get("x-request-id")).toBe("fresh");
    const untrusted = stack(requestId({ generate: () => "fresh", propagate: false })).into(handler());
    const req = request({ headers: { "x-request-id": "chosen-by-client" } });
    await untrusted.serve(req);
    expect(req.extensions.get(RequestId)).toBe("fresh");
    expect(req.headers.getAll("x-request-id")).toEqual(["fresh"]);
    expect(isReasonableRequestId("a b")).toBe(false);
    expect(isReasonableRequestId("")).toBe(false);
    expect(isReasonableRequestId("ok")).toBe(true);
  });

  it("leaves a response id alone, never mutates a shared response, and can skip the response", async () => {
    const shared = Response.text("constant");
    const svc = stack(requestId({ header: "x-trace" })).into(handler(() => shared));
    const a = await svc.serve(request());
    const b = await svc.serve(request());
    expect(a.headers.get("x-trace")).not.toBe(b.headers.get("x-trace"));
    expect(shared.headers.has("x-trace")).toBe(false);
    const own = await stack(requestId())
      .into(handler(() => Response.text("x", { headers: { "x-request-id": "upstream" } })))
      .serve(request());
    expect(own.headers.get("x-request-id")).toBe("upstream");
    const quiet = await stack(requestId({ response: false }))
      .into(handler(() => shared))
      .serve(request());
    expect(quiet).toBe(shared);
  });
});

describe("setRequestHeader / setResponseHeader", () => {
  it("overrides, sets if absent, or appends on requests", async () => {
    const inner = handler();
    const svc = stack(
      setRequestHeader("x-a", "new"),
      setRequestHeader("x-b", "default", { mode: "if-absent" }),
      setRequestHeader("x-c", "more", { mode: "append" }),
      setRequestHeader("x-d", (req) => (req.path === "/skip" ? undefined : `path=${req.path}`)),
    ).into(inner);
    await svc.serve(
      request({
        target: "/p",
        headers: [
          ["x-a", "old"],
          ["X-A", "old2"],
          ["x-b", "mine"],
          ["x-c", "first"],
        ],
      }),
    );
    expect(fields(inner.seen[0]!.headers)).toEqual([
      ["x-a", "new"],
      ["x-b", "mine"],
      ["x-c", "first"],
      ["x-c", "more"],
      ["x-d", "path=/p"],
    ]);
    await svc.serve(request({ target: "/skip" }));
    expect(inner.seen[1]!.headers.get("x-b")).toBe("default");
    expect(inner.seen[1]!.headers.has("x-d")).toBe(false);
  });

  it("sets response headers on a copy, computed or fixed", async () => {
    const shared = Response.text("hi", { headers: { "cache-control": "max-age=60" } });
    const svc = stack(
      setResponseHeader("x-content-type-options", "nosniff"),
      setResponseHeader("cache-control", "no-store", { mode: "if-absent" }),
      setResponseHeader("x-status", (res, req) => `${res.status} ${req.method}`),
    ).into(handler(() => shared));
    const res = await svc.serve(request());
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("max-age=60");
    expect(res.headers.get("x-status")).toBe("200 GET");
    expect(shared.headers.has("x-content-type-options")).toBe(false);
  });

  it("validates names and fixed values up front, computed values when set", async () => {
    expect(() => setRequestHeader("bad name", "x")).toThrow(InvalidHeaderNameError);
    expect(() => setResponseHeader("x", "a\r\nb: c")).toThrow(InvalidHeaderValueError);
    expect(() => setResponseHeader("x", "y", { mode: "sometimes" as "append" })).toThrow(TypeError);
    const svc = stack(setRequestHeader("x", () => "evil\r\ninjected: 1")).into(handler());
    await expect(svc.serve(request())).rejects.toBeInstanceOf(InvalidHeaderValueError);
  });
});

describe("removeRequestHeaders / removeResponseHeaders", () => {
  it("removes every field of each name from requests, any case", async () => {
    const inner = handler();
    const svc = stack(removeRequestHeaders("x-internal", "X-Debug")).into(inner);
    await svc.serve(
      request({
        headers: [
          ["X-Internal", "1"],
          ["x-internal", "2"],
          ["x-debug", "y"],
          ["keep", "k"],
        ],
      }),
    );
    expect(fields(inner.seen[0]!.headers)).toEqual([["keep", "k"]]);
  });

  it("removes from a copy of the response, and passes untouched responses through", async () => {
    const shared = Response.text("x", { headers: { server: "secret/1.0", "x-powered-by": "php" } });
    const svc = stack(removeResponseHeaders("server", "x-powered-by")).into(handler(() => shared));
    const res = await svc.serve(request());
    expect(res.headers.has("server")).toBe(false);
    expect(res.headers.has("x-powered-by")).toBe(false);
    expect(shared.headers.get("server")).toBe("secret/1.0");
    const plain = Response.text("y");
    expect(
      await stack(removeResponseHeaders("server"))
        .into(handler(() => plain))
        .serve(request()),
    ).toBe(plain);
  });
});

describe("requiredHeader", () => {
  it("passes requests that have the header", async () => {
    const inner = handler();
    const svc = stack(requiredHeader("x-api-key")).into(inner);
    const res = await svc.serve(request({ headers: { "X-API-KEY": "k" } }));
    expect(res.status).toBe(200);
    expect(inner.seen).toHaveLength(1);
  });

  it("answers 400 without calling the inner service, and cancels the unread body", async () => {
    const inner = handler();
    const { body, state } = trackedBody(["upload"], { forever: true });
    const svc = stack(requiredHeader("X-Api-Key")).into(inner);
    const res = await svc.serve(request({ method: "POST", body }));
    expect(res.status).toBe(400);
    expect(await res.body.text()).toBe("missing required header x-api-key");
    expect(inner.seen).toHaveLength(0);
    expect(body.cancelled).toBe(true);
    expect(state.produced).toBe(0);
  });

  it("refuses values the validator rejects, with the status asked for", async () => {
    const svc = stack(requiredHeader("x-version", { validate: (v) => v === "2", status: 412 })).into(
      handler(),
    );
    const res = await svc.serve(request({ headers: { "x-version": "1" } }));
    expect(res.status).toBe(412);
    expect(await res.body.text()).toBe("invalid value for header x-version");
    expect((await svc.serve(request({ headers: { "x-version": "2" } }))).status).toBe(200);
  });
});
