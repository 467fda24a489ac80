import { Extensions, type Layer, type Service, service, stack } from "@tessera/core";
import { PeerAddr } from "@tessera/net";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  addBasicAuth,
  addBearerToken,
  appendForwarded,
  basicAuth,
  bearerAuth,
  bodyLimit,
  ClientAddr,
  catchErrors,
  compression,
  cors,
  decompression,
  followRedirect,
  forwarded,
  type HttpLayer,
  RedirectChain,
  Request,
  RequestId,
  Response,
  removeRequestHeaders,
  removeResponseHeaders,
  requestId,
  requiredHeader,
  router,
  setRequestHeader,
  setResponseHeader,
} from "../../src/index.js";

const app = service((req: Request) => Response.text(`hello ${req.path}`, { request: req }));

describe("HTTP layers in stacks", () => {
  it("a server stack of every server layer infers Service<Request, Response> and runs", async () => {
    const routes = router().get("/hello/:name", (req, { name }) =>
      Response.text(`hi ${name}`, { request: req }),
    );
    const svc = stack(
      catchErrors(),
      requestId({ generate: () => "rid" }),
      forwarded({ trust: ["loopback"] }),
      cors({ origin: "*" }),
      compression(),
      setResponseHeader("x-frame-options", "DENY"),
      removeResponseHeaders("server"),
      bodyLimit(1024),
      requiredHeader("x-tenant"),
      basicAuth({ users: { ada: "pw" } }),
      removeRequestHeaders("authorization"),
      routes,
    ).into(app);
    expectTypeOf(svc).toEqualTypeOf<Service<Request, Response>>();

    const req = Request.get("/hello/ada", {
      headers: {
        "x-tenant": "t1",
        authorization: `Basic ${Buffer.from("ada:pw").toString("base64")}`,
        origin: "https://x.test",
        "x-forwarded-for": "203.0.113.5",
      },
      extensions: new Extensions().insert(PeerAddr, { family: "IPv4", host: "127.0.0.1", port: 5000 }),
    });
    const res = await svc.serve(req);
    expect(res.status).toBe(200);
    expect(await res.body.text()).toBe("hi ada");
    expect(res.headers.get("x-request-id")).toBe("rid");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(req.extensions.get(RequestId)).toBe("rid");
    expect(req.extensions.get(ClientAddr)?.address).toBe("203.0.113.5");
    expect(req.headers.has("authorization")).toBe(false);

    const fallback = await svc.serve(
      Request.get("/other", {
        headers: { "x-tenant": "t1", authorization: `Basic ${Buffer.from("ada:pw").toString("base64")}` },
      }),
    );
    expect(await fallback.body.text()).toBe("hello /other");
  });

  it("a client stack infers Service<Request, Response>", async () => {
    const upstream = service((req: Request) =>
      req.path === "/old"
        ? Response.redirect("/new", 301, { request: req })
        : Response.text(`${req.headers.get("authorization")} ${req.headers.get("x-forwarded-for")}`),
    );
    const client = stack(
      followRedirect(),
      decompression(),
      requestId(),
      addBearerToken("tok"),
      setRequestHeader("user-agent", "tessera-test"),
      appendForwarded({ headers: "x-forwarded" }),
    ).into(upstream);
    expectTypeOf(client).toEqualTypeOf<Service<Request, Response>>();
    const res = await client.serve(Request.get("http://up.test/old"));
    expect(await res.body.text()).toBe("Bearer tok unknown");
    expect(res.extensions.get(RedirectChain)).toHaveLength(1);
    const basic = stack(addBasicAuth("a", "b")).into(upstream);
    expectTypeOf(basic).toEqualTypeOf<Service<Request, Response>>();
  });

  it("an HTTP layer is a fixed Layer<Request, Response> too, and nests in stacks", () => {
    const l: Layer<Request, Response> = compression();
    const layers: HttpLayer[] = [cors({ origin: "*" }), bearerAuth({ tokens: { t: "u" } })];
    expectTypeOf(l.layer(app)).toEqualTypeOf<Service<Request, Response>>();
    const nested = stack(stack(...layers), router());
    expectTypeOf(nested.into(app)).toEqualTypeOf<Service<Request, Response>>();
  });

  it("rejects services that are not Request -> Response at compile time", () => {
    const numbers = service((n: number) => n * 2);
    // @ts-expect-error an HTTP layer needs a Service<Request, Response>
    stack(compression()).into(numbers);
    // @ts-expect-error a router layer too
    stack(router()).into(numbers);
    const strings = service((_: Request) => "not a response");
    // @ts-expect-error the output must be a Response
    stack(cors({ origin: "*" })).into(strings);
    expect(true).toBe(true);
  });
});
