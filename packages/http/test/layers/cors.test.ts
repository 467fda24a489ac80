import { stack } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { Response } from "../../src/index.js";
import { cors } from "../../src/layers/cors/index.js";
import { fields, handler, request } from "./helpers.js";

const APP = "https://app.example.com";

function preflight(origin: string, method = "PUT", headers?: string) {
  return request({
    method: "OPTIONS",
    target: "/items",
    headers: {
      origin,
      "access-control-request-method": method,
      ...(headers === undefined ? {} : { "access-control-request-headers": headers }),
    },
  });
}

describe("cors", () => {
  it("answers an allowed preflight itself, with every CORS header", async () => {
    const inner = handler();
    const svc = stack(cors({ origin: [APP], credentials: true, maxAge: 600 })).into(inner);
    const res = await svc.serve(preflight(APP, "PUT", "Content-Type, X-Custom"));
    expect(res.status).toBe(204);
    expect(inner.seen).toHaveLength(0);
    expect(fields(res.headers)).toEqual([
      ["vary", "Origin"],
      ["vary", "Access-Control-Request-Method, Access-Control-Request-Headers"],
      ["access-control-allow-origin", APP],
      ["access-control-allow-credentials", "true"],
      ["access-control-allow-methods", "GET, HEAD, PUT, PATCH, POST, DELETE"],
      ["access-control-allow-headers", "content-type, x-custom"],
      ["access-control-max-age", "600"],
    ]);
  });

  it("gives a preflight from another origin no CORS headers", async () => {
    const svc = stack(cors({ origin: [APP] })).into(handler());
    const res = await svc.serve(preflight("https://evil.example"));
    expect(res.status).toBe(204);
    expect(res.headers.has("access-control-allow-origin")).toBe(false);
    expect(res.headers.has("access-control-allow-methods")).toBe(false);
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("uses configured methods and headers, and ignores a malformed header request when mirroring", async () => {
    const svc = stack(cors({ origin: "*", methods: ["GET", "POST"], allowHeaders: ["x-a", "x-b"] })).into(
      handler(),
    );
    const res = await svc.serve(preflight(APP, "POST", "x-zzz"));
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toBe("GET, POST");
    expect(res.headers.get("access-control-allow-headers")).toBe("x-a, x-b");
    expect(res.headers.get("vary")).toBe("Access-Control-Request-Method, Access-Control-Request-Headers");
    const mirror = stack(cors({ origin: "*" })).into(handler());
    const bad = await mirror.serve(preflight(APP, "POST", "x-ok, bad header"));
    expect(bad.headers.has("access-control-allow-headers")).toBe(false);
  });

  it("adds CORS headers to an allowed actual request, on a copy", async () => {
    const shared = Response.text("data", { headers: { vary: "Accept-Encoding" } });
    const svc = stack(
      cors({ origin: (o) => o.endsWith(".example.com"), credentials: true, exposeHeaders: ["x-request-id"] }),
    ).into(handler(() => shared));
    const res = await svc.serve(request({ headers: { origin: APP } }));
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-expose-headers")).toBe("x-request-id");
    expect(res.headers.get("vary")).toBe("Accept-Encoding, Origin");
    expect(shared.headers.has("access-control-allow-origin")).toBe(false);
  });

  it("'*' answers any origin with '*' and needs no Vary", async () => {
    const svc = stack(cors({ origin: "*" })).into(handler());
    const res = await svc.serve(request({ headers: { origin: "https://anyone.test" } }));
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.has("vary")).toBe(false);
    const plain = await svc.serve(request());
    expect(plain.headers.has("access-control-allow-origin")).toBe(false);
    expect(plain.headers.has("vary")).toBe(false);
  });

  it("a disallowed origin or a request without Origin gets the response with Vary: Origin only", async () => {
    const svc = stack(cors({ origin: [APP] })).into(handler());
    for (const headers of [{ origin: "https://evil.example" }, {}]) {
      const res = await svc.serve(request({ headers }));
      expect(res.status).toBe(200);
      expect(res.headers.has("access-control-allow-origin")).toBe(false);
      expect(res.headers.get("vary")).toBe("Origin");
    }
    const already = stack(cors({ origin: [APP] })).into(
      handler(() => Response.text("x", { headers: { vary: "*" } })),
    );
    expect((await already.serve(request())).headers.getAll("vary")).toEqual(["*"]);
  });

  it("an OPTIONS request that is not a preflight goes to the inner service", async () => {
    const inner = handler(() => Response.empty(200, { headers: { allow: "GET" } }));
    const svc = stack(cors({ origin: "*" })).into(inner);
    const res = await svc.serve(request({ method: "OPTIONS", headers: { origin: APP } }));
    expect(res.headers.get("allow")).toBe("GET");
    expect(inner.seen).toHaveLength(1);
  });

  it("refuses configurations browsers reject", () => {
    expect(() => cors({ origin: "*", credentials: true })).toThrow(TypeError);
    expect(() => cors({ origin: [APP], credentials: true, exposeHeaders: ["*"] })).toThrow(TypeError);
    expect(() => cors({ origin: [APP], methods: ["GET POST"] })).toThrow(TypeError);
    expect(() => cors({ origin: [APP], maxAge: -1 })).toThrow(RangeError);
    expect(() => cors({ origin: "https://one.example" as "*" })).toThrow(TypeError);
  });
});
