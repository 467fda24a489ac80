import { type Service, service, stack } from "@tessera/core";
import { describe, expect, expectTypeOf, it } from "vitest";
import { Body, HeaderMap, Request, Response } from "../../src/index.js";
import {
  InvalidRouteError,
  type PathParams,
  RouteMatch,
  Router,
  routeParams,
  router,
} from "../../src/layers/router/index.js";
import { handler, request, trackedBody } from "./helpers.js";

/** A route that answers with its name and the params it saw. */
function named(name: string): Service<Request, Response> {
  return service((req: Request) => Response.json({ name, params: routeParams(req) }, { request: req }));
}

async function call(svc: Service<Request, Response>, method: string, target: string) {
  const res = await svc.serve(request({ method, target }));
  const text = await res.body.text();
  return {
    status: res.status,
    allow: res.headers.get("allow"),
    body: text === "" ? undefined : JSON.parse(text),
  };
}

describe("router", () => {
  const app = router()
    .get("/", named("root"))
    .get("/users", named("list"))
    .post("/users", named("create"))
    .get("/users/me", named("me"))
    .get("/users/:id", named("user"))
    .put("/users/:id", named("replace"))
    .get("/users/:id/posts/:post", named("post"))
    .get("/static/*", named("static"))
    .get("/files/*path", named("files"))
    .get("/files/special", named("special"))
    .all("/any", named("any"));

  it("matches literal paths, parameters and wildcards", async () => {
    expect(await call(app, "GET", "/")).toMatchObject({ status: 200, body: { name: "root", params: {} } });
    expect((await call(app, "GET", "/users")).body.name).toBe("list");
    expect((await call(app, "POST", "/users")).body.name).toBe("create");
    expect((await call(app, "GET", "/users/42")).body).toEqual({ name: "user", params: { id: "42" } });
    expect((await call(app, "GET", "/users/7/posts/first?x=1")).body).toEqual({
      name: "post",
      params: { id: "7", post: "first" },
    });
    expect((await call(app, "GET", "/static/css/site.css")).body).toEqual({
      name: "static",
      params: { "*": "css/site.css" },
    });
    expect((await call(app, "GET", "/static/")).body.params).toEqual({ "*": "" });
    expect((await call(app, "GET", "/files/a/b")).body).toEqual({ name: "files", params: { path: "a/b" } });
    expect((await call(app, "DELETE", "/any")).body.name).toBe("any");
    expect((await call(app, "GET", "http://x.test/users/9")).body.params).toEqual({ id: "9" });
  });

  it("prefers literals over parameters over wildcards, backtracking when needed", async () => {
    expect((await call(app, "GET", "/users/me")).body.name).toBe("me");
    expect((await call(app, "GET", "/files/special")).body.name).toBe("special");
    expect((await call(app, "GET", "/files/special/more")).body).toEqual({
      name: "files",
      params: { path: "special/more" },
    });
    const r = router()
      .get("/a/b/c", named("literal"))
      .get("/a/:x/d", named("param"))
      .get("/a/*", named("wild"));
    expect((await call(r, "GET", "/a/b/d")).body).toEqual({ name: "param", params: { x: "b" } });
    expect((await call(r, "GET", "/a/b/e")).body).toEqual({ name: "wild", params: { "*": "b/e" } });
    expect((await call(r, "GET", "/a/b/c")).body.name).toBe("literal");
  });

  it("404 when no path matches; empty segments and trailing slashes are literal", async () => {
    for (const target of ["/nope", "/users/", "/users/1/posts", "/static", "//users", "/users//posts/x"]) {
      expect((await call(app, "GET", target)).status, target).toBe(404);
    }
    expect((await call(app, "OPTIONS", "*")).status).toBe(404);
  });

  it("405 with Allow when the path matches but the method does not", async () => {
    expect(await call(app, "DELETE", "/users/42")).toMatchObject({
      status: 405,
      allow: "GET, HEAD, PUT, OPTIONS",
    });
    expect(await call(app, "PATCH", "/users")).toMatchObject({
      status: 405,
      allow: "GET, HEAD, POST, OPTIONS",
    });
    const { body, state } = trackedBody(["upload"], { forever: true });
    const res = await app.serve(request({ method: "DELETE", target: "/", body }));
    expect(res.status).toBe(405);
    expect(body.cancelled).toBe(true);
    expect(state.produced).toBe(0);
  });

  it("HEAD runs the GET route; OPTIONS answers with Allow; both can be turned off or routed", async () => {
    expect((await call(app, "HEAD", "/users/5")).body).toEqual({ name: "user", params: { id: "5" } });
    expect(await call(app, "OPTIONS", "/users/5")).toMatchObject({
      status: 204,
      allow: "GET, HEAD, PUT, OPTIONS",
    });
    const strict = router({ autoHead: false, autoOptions: false }).get("/x", named("x"));
    expect(await call(strict, "HEAD", "/x")).toMatchObject({ status: 405, allow: "GET" });
    expect(await call(strict, "OPTIONS", "/x")).toMatchObject({ status: 405, allow: "GET" });
    const own = router().get("/x", named("get")).head("/x", named("head")).options("/x", named("options"));
    expect((await call(own, "HEAD", "/x")).body.name).toBe("head");
    expect((await call(own, "OPTIONS", "/x")).body.name).toBe("options");
  });

  it("decodes parameters and answers 400 to a broken encoding", async () => {
    expect((await call(app, "GET", "/users/J%C3%BCrgen%20M")).body.params).toEqual({ id: "Jürgen M" });
    expect((await call(app, "GET", "/files/a%2Fb")).body.params).toEqual({ path: "a/b" });
    expect((await call(app, "GET", "/users/%FF")).status).toBe(400);
  });

  it("puts the match on the request's extensions", async () => {
    const req = request({ target: "/users/3/posts/x" });
    await app.serve(req);
    expect(req.extensions.get(RouteMatch)).toEqual({
      pattern: "/users/:id/posts/:post",
      params: { id: "3", post: "x" },
    });
    const fixed = request({ target: "/users/me" });
    await app.serve(fixed);
    expect(fixed.extensions.get(RouteMatch)).toEqual({ pattern: "/users/me", params: {} });
  });

  it("takes functions with typed params as routes", async () => {
    const r = router().get("/orgs/:org/repos/:repo", (req, params) => {
      expectTypeOf(params).toEqualTypeOf<{ readonly org: string; readonly repo: string }>();
      return Response.text(`${params.org}/${params.repo}`, { request: req });
    });
    expect(await (await r.serve(request({ target: "/orgs/tessera/repos/core" }))).body.text()).toBe(
      "tessera/core",
    );
    expectTypeOf<PathParams<"/a/*rest">>().toEqualTypeOf<{ readonly rest: string }>();
    expectTypeOf<PathParams<"/a/*">>().toEqualTypeOf<{ readonly "*": string }>();
    expectTypeOf<PathParams<"/plain">>().toEqualTypeOf<{}>();
    expectTypeOf<PathParams<string>>().toEqualTypeOf<Readonly<Record<string, string>>>();
    const throwing = router().get("/t", () => {
      throw new Error("route failed");
    });
    await expect(throwing.serve(request({ target: "/t" }))).rejects.toThrow("route failed");
  });

  it("as a layer, sends unmatched paths to the inner service; as a service, to notFound", async () => {
    const fallback = handler(() => Response.text("fallback", { status: 404 }));
    const layered = stack(router().get("/hi", named("hi"))).into(fallback);
    expectTypeOf(layered).toEqualTypeOf<Service<Request, Response>>();
    expect((await call(layered, "GET", "/hi")).body.name).toBe("hi");
    expect(await (await layered.serve(request({ target: "/other" }))).body.text()).toBe("fallback");
    expect(fallback.seen).toHaveLength(1);
    const custom = router({ notFound: fallback }).get("/hi", named("hi"));
    expect((await custom.serve(request({ target: "/zzz" }))).status).toBe(404);
    expect(fallback.seen).toHaveLength(2);
    expect(router()).toBeInstanceOf(Router);
  });

  it("rejects malformed and conflicting routes", () => {
    const r = router().get("/users/:id", named("a"));
    expect(() => r.get("/users/:id", named("b"))).toThrow(InvalidRouteError);
    expect(() => r.put("/users/:name", named("b"))).toThrow(/differ/);
    expect(() => r.get("users", named("b"))).toThrow(InvalidRouteError);
    expect(() => r.get("/a/*/b", named("b"))).toThrow(/last segment/);
    expect(() => r.get("/a/:", named("b"))).toThrow(InvalidRouteError);
    expect(() => r.get("/a/:x/:x", named("b"))).toThrow(/twice/);
    expect(() => r.get("/a/b:c", named("b"))).toThrow(InvalidRouteError);
    expect(() => r.route("BAD METHOD", "/m", named("b"))).toThrow();
    expect(() => r.all("/users/:id", named("b"))).not.toThrow();
    expect(() => r.all("/users/:id", named("b"))).toThrow(/any method/);
    try {
      r.get("/users/:id", named("c"));
    } catch (error) {
      expect((error as InvalidRouteError).code).toBe("ERR_HTTP_INVALID_ROUTE");
    }
  });

  it("an invalid request-target is an error the catch layer turns into 400", async () => {
    const bad = new Request("GET", "/a b", new HeaderMap(), Body.empty());
    await expect(app.serve(bad)).rejects.toMatchObject({ code: "ERR_HTTP_INVALID_URI", status: 400 });
  });

  it("routes correctly among thousands of routes sharing prefixes", async () => {
    const big = router();
    for (let i = 0; i < 2000; i++) big.get(`/r${i}/:id/items/:item`, named(`r${i}`));
    for (let i = 0; i < 100; i++) big.get(`/r${i}/fixed/items/:item`, named(`fixed${i}`));
    big.get("/r5/*", named("wild5"));
    expect((await call(big, "GET", "/r1999/a/items/b")).body).toEqual({
      name: "r1999",
      params: { id: "a", item: "b" },
    });
    expect((await call(big, "GET", "/r42/fixed/items/b")).body).toEqual({
      name: "fixed42",
      params: { item: "b" },
    });
    expect((await call(big, "GET", "/r500/fixed/items/b")).body.name).toBe("r500");
    expect((await call(big, "GET", "/r5/a/other")).body).toEqual({
      name: "wild5",
      params: { "*": "a/other" },
    });
    expect((await call(big, "GET", "/r2000/a/items/b")).status).toBe(404);
  });
});
