import { type Service, service, stack } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { InvalidHeaderValueError, type Request } from "../../src/index.js";
import { AuthUser, addBasicAuth, basicAuth, parseBasicAuth } from "../../src/layers/basic-auth/index.js";
import { addBearerToken, bearerAuth } from "../../src/layers/bearer-auth/index.js";
import { handler, request, trackedBody } from "./helpers.js";

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
}

describe("basicAuth", () => {
  it("lets valid users in with AuthUser set, and challenges everyone else with 401", async () => {
    const inner = handler();
    const svc = stack(basicAuth({ realm: "admin area", users: { ada: "correct horse", bob: "pw" } })).into(
      inner,
    );
    const ok = request({ headers: { authorization: basic("ada", "correct horse") } });
    expect((await svc.serve(ok)).status).toBe(200);
    expect(ok.extensions.get(AuthUser)).toBe("ada");

    for (const authorization of [
      undefined,
      basic("ada", "wrong"),
      basic("eve", "pw"),
      "Basic !!!notbase64",
      "Basic YWRh", // "ada": no colon
      "Bearer abc",
      `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString("base64")}`, // not UTF-8
    ]) {
      const res = await svc.serve(request({ headers: authorization === undefined ? {} : { authorization } }));
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Basic realm="admin area", charset="UTF-8"');
    }
    expect(inner.seen).toHaveLength(1);
  });

  it("decodes UTF-8 credentials and splits at the first colon", () => {
    expect(parseBasicAuth(basic("zoë", "p:ss:wörd"))).toEqual({ username: "zoë", password: "p:ss:wörd" });
    expect(parseBasicAuth("basic   " + Buffer.from("a:b").toString("base64"))).toEqual({
      username: "a",
      password: "b",
    });
    expect(parseBasicAuth("Basicx YTpi")).toBeUndefined();
  });

  it("asks a validator callback or service, which may be async", async () => {
    const seen: string[] = [];
    const cb = stack(
      basicAuth({
        validate: async ({ username, password }, req) => {
          seen.push(`${username}@${req.path}`);
          return password === "letmein";
        },
      }),
    ).into(handler());
    expect(
      (await cb.serve(request({ target: "/a", headers: { authorization: basic("x", "letmein") } }))).status,
    ).toBe(200);
    expect(
      (await cb.serve(request({ target: "/b", headers: { authorization: basic("y", "nope") } }))).status,
    ).toBe(401);
    expect(seen).toEqual(["x@/a", "y@/b"]);

    const checker: Service<{ username: string; password: string; request: Request }, boolean> = service(
      (c) => c.username === "svc" && c.request.method === "GET",
    );
    const viaService = stack(basicAuth({ validate: checker })).into(handler());
    expect((await viaService.serve(request({ headers: { authorization: basic("svc", "") } }))).status).toBe(
      200,
    );
  });

  it("a failing validator is an error, not a 401", async () => {
    const svc = stack(
      basicAuth({
        validate: () => {
          throw new Error("db down");
        },
      }),
    ).into(handler());
    await expect(svc.serve(request({ headers: { authorization: basic("a", "b") } }))).rejects.toThrow(
      "db down",
    );
  });

  it("as a proxy: Proxy-Authorization, 407 and Proxy-Authenticate; the refused body is cancelled", async () => {
    const svc = stack(basicAuth({ users: { u: "p" }, proxy: true })).into(handler());
    const { body } = trackedBody(["x"], { forever: true });
    const refused = await svc.serve(
      request({ method: "POST", body, headers: { authorization: basic("u", "p") } }),
    );
    expect(refused.status).toBe(407);
    expect(refused.headers.get("proxy-authenticate")).toBe('Basic realm="restricted", charset="UTF-8"');
    expect(body.cancelled).toBe(true);
    const ok = await svc.serve(request({ headers: { "proxy-authorization": basic("u", "p") } }));
    expect(ok.status).toBe(200);
  });

  it("checks its options", () => {
    expect(() => basicAuth({})).toThrow(TypeError);
    expect(() => basicAuth({ users: {}, realm: "bad\r\nrealm" })).toThrow(TypeError);
    expect(() => addBasicAuth("a:b", "c")).toThrow(TypeError);
  });
});

describe("bearerAuth", () => {
  it("accepts known tokens and records their user", async () => {
    const svc = stack(bearerAuth({ tokens: { "tok-1": "ada", "tok-2": "ada", "tok-3": "bob" } })).into(
      handler(),
    );
    for (const [token, user] of [
      ["tok-1", "ada"],
      ["tok-2", "ada"],
      ["tok-3", "bob"],
    ]) {
      const req = request({ headers: { authorization: `Bearer ${token}` } });
      expect((await svc.serve(req)).status).toBe(200);
      expect(req.extensions.get(AuthUser)).toBe(user);
    }
  });

  it("401 without a token, 401 invalid_token for a refused one, 400 invalid_request when malformed", async () => {
    const inner = handler();
    const svc = stack(
      bearerAuth({ realm: "api", validate: ({ token }) => (token === "good" ? "u1" : false) }),
    ).into(inner);
    const none = await svc.serve(request());
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="api"');
    const basicScheme = await svc.serve(request({ headers: { authorization: "Basic YTpi" } }));
    expect(basicScheme.headers.get("www-authenticate")).toBe('Bearer realm="api"');
    const bad = await svc.serve(request({ headers: { authorization: "Bearer wrong" } }));
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toBe('Bearer realm="api", error="invalid_token"');
    const malformed = await svc.serve(request({ headers: { authorization: "Bearer a b" } }));
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get("www-authenticate")).toBe('Bearer realm="api", error="invalid_request"');
    expect(inner.seen).toHaveLength(0);
    const req = request({ headers: { authorization: "bearer good" } });
    expect((await svc.serve(req)).status).toBe(200);
    expect(req.extensions.get(AuthUser)).toBe("u1");
  });

  it("a validator returning true accepts without a user", async () => {
    const svc = stack(bearerAuth({ validate: () => true })).into(handler());
    const req = request({ headers: { authorization: "Bearer x.y.z" } });
    expect((await svc.serve(req)).status).toBe(200);
    expect(req.extensions.has(AuthUser)).toBe(false);
  });
});

describe("client credentials", () => {
  it("addBasicAuth and addBearerToken set Authorization unless present (or told to override)", async () => {
    const inner = handler();
    await stack(addBasicAuth("ada", "pw")).into(inner).serve(request());
    expect(inner.seen[0]!.headers.get("authorization")).toBe(basic("ada", "pw"));
    await stack(addBasicAuth("ada", "pw"))
      .into(inner)
      .serve(request({ headers: { authorization: "Bearer mine" } }));
    expect(inner.seen[1]!.headers.get("authorization")).toBe("Bearer mine");
    await stack(addBearerToken("t0k"))
      .into(inner)
      .serve(request({ headers: { authorization: "x" } }));
    expect(inner.seen[2]!.headers.get("authorization")).toBe("x");
    await stack(addBearerToken("t0k", { override: true }))
      .into(inner)
      .serve(request({ headers: { authorization: "x" } }));
    expect(inner.seen[3]!.headers.get("authorization")).toBe("Bearer t0k");
    await stack(addBasicAuth("p", "q", { proxy: true }))
      .into(inner)
      .serve(request());
    expect(inner.seen[4]!.headers.get("proxy-authorization")).toBe(basic("p", "q"));
  });

  it("a token source may be async, and a bad token is refused", async () => {
    const inner = handler();
    let n = 0;
    const svc = stack(addBearerToken(async () => `token-${++n}`)).into(inner);
    await svc.serve(request());
    await svc.serve(request());
    expect(inner.seen.map((r) => r.headers.get("authorization"))).toEqual([
      "Bearer token-1",
      "Bearer token-2",
    ]);
    expect(() => addBearerToken("a\r\nb")).toThrow(InvalidHeaderValueError);
    await expect(
      stack(addBearerToken(() => "a\nb"))
        .into(inner)
        .serve(request()),
    ).rejects.toBeInstanceOf(InvalidHeaderValueError);
  });

  it("round-trips: a client stack authenticates against a server stack", async () => {
    const server = stack(basicAuth({ users: { ada: "s3cret" } })).into(handler());
    const client = stack(addBasicAuth("ada", "s3cret")).into(server);
    expect((await client.serve(request())).status).toBe(200);
  });
});
