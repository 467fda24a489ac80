import { key, stack } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { Body, type Request, Response } from "../../src/index.js";
import {
  followRedirect,
  RedirectChain,
  TooManyRedirectsError,
} from "../../src/layers/follow-redirect/index.js";
import { handler, request, trackedBody } from "./helpers.js";

const Attempt = key<string>("test.redirect.Attempt");

/** A server: `/from/<status>` redirects to `/to` (or to the query's target), everything else says what it got. */
function server() {
  return handler(async (req) => {
    req.extensions.insert(Attempt, req.target);
    const match = /\/from\/(\d+)/.exec(req.path);
    if (match !== null) {
      await req.body.bytes().catch(() => undefined);
      const to = req.query !== undefined ? decodeURIComponent(req.query) : "/to";
      return Response.redirect(to, Number(match[1]), { request: req });
    }
    const body = await req.body.text();
    return Response.json(
      { method: req.method, target: req.target, body, headers: req.headers.toObject() },
      { request: req },
    );
  });
}

async function json(
  res: Response,
): Promise<{ method: string; target: string; body: string; headers: Record<string, string> }> {
  return (await res.body.json()) as never;
}

describe("followRedirect", () => {
  it("follows a relative Location and records the chain on the response", async () => {
    const inner = server();
    const svc = stack(followRedirect()).into(inner);
    const res = await svc.serve(request({ target: "http://a.test/from/301" }));
    expect(res.status).toBe(200);
    expect((await json(res)).target).toBe("http://a.test/to");
    expect(res.extensions.get(RedirectChain)).toEqual([
      { url: "http://a.test/from/301", status: 301, location: "http://a.test/to" },
    ]);
  });

  it("forks the extensions per hop: a redirected hop's breadcrumbs stay behind", async () => {
    const inner = server();
    const svc = stack(followRedirect()).into(inner);
    const req = request({ target: "http://a.test/from/302" });
    const res = await svc.serve(req);
    expect(req.extensions.get(Attempt)).toBeUndefined();
    expect(res.extensions.getAll(Attempt)).toEqual(["http://a.test/to"]);
    expect(inner.seen[0]!.extensions.parent).toBe(req.extensions);
    expect(inner.seen[1]!.extensions.parent).toBe(req.extensions);
    expect(inner.seen[0]).not.toBe(req);
  });

  it("builds each hop from what it sent, not from what the layers below changed", async () => {
    const inner = server();
    const appending = {
      serve: (req: Request) => {
        req.headers.append("x-hop", "1");
        return inner.serve(req);
      },
    };
    const svc = stack(followRedirect()).into(appending);
    const req = request({ target: "http://a.test/from/302", headers: { "x-mine": "m" } });
    const seen = await json(await svc.serve(req));
    expect(seen.headers["x-hop"]).toBe("1");
    expect(seen.headers["x-mine"]).toBe("m");
    expect(req.headers.has("x-hop")).toBe(false);
  });

  it("303 turns a POST into a GET without a body or content headers", async () => {
    const svc = stack(followRedirect()).into(server());
    const res = await svc.serve(
      request({
        method: "POST",
        target: "http://a.test/from/303",
        body: "form=1",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-keep": "1" },
      }),
    );
    const seen = await json(res);
    expect(seen.method).toBe("GET");
    expect(seen.body).toBe("");
    expect(seen.headers["content-type"]).toBeUndefined();
    expect(seen.headers["x-keep"]).toBe("1");
  });

  it("301 and 302 turn POST into GET but keep PUT and its body", async () => {
    const svc = stack(followRedirect()).into(server());
    for (const status of [301, 302]) {
      const post = await json(
        await svc.serve(request({ method: "POST", target: `http://a.test/from/${status}`, body: "x" })),
      );
      expect(post.method).toBe("GET");
      expect(post.body).toBe("");
      const put = await json(
        await svc.serve(request({ method: "PUT", target: `http://a.test/from/${status}`, body: "data" })),
      );
      expect(put.method).toBe("PUT");
      expect(put.body).toBe("data");
    }
  });

  it("307 and 308 keep the method and send a buffered body again", async () => {
    const svc = stack(followRedirect()).into(server());
    for (const status of [307, 308]) {
      const res = await svc.serve(
        request({
          method: "POST",
          target: `http://a.test/from/${status}`,
          body: "payload",
          headers: { "content-type": "text/plain" },
        }),
      );
      const seen = await json(res);
      expect(seen.method).toBe("POST");
      expect(seen.body).toBe("payload");
      expect(seen.headers["content-type"]).toBe("text/plain");
    }
  });

  it("returns a 307 as it is when the body was streamed and cannot be sent again", async () => {
    const { body } = trackedBody(["streamed"]);
    const inner = server();
    const svc = stack(followRedirect()).into(inner);
    const res = await svc.serve(request({ method: "POST", target: "http://a.test/from/307", body }));
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe("/to");
    expect(inner.seen).toHaveLength(1);
    expect(res.extensions.get(RedirectChain)).toBeUndefined();
  });

  it("drops credentials on a cross-origin redirect, keeps them on the same origin, updates Host", async () => {
    const svc = stack(followRedirect()).into(server());
    const creds = {
      authorization: "Bearer secret",
      cookie: "sid=1",
      "proxy-authorization": "Basic x",
      "x-other": "1",
    };
    const same = await json(await svc.serve(request({ target: "http://a.test/from/302", headers: creds })));
    expect(same.headers.authorization).toBe("Bearer secret");
    expect(same.headers.cookie).toBe("sid=1");

    const to = encodeURIComponent("https://b.test:8443/elsewhere");
    const cross = await json(
      await svc.serve(request({ target: `http://a.test/from/302?${to}`, headers: creds })),
    );
    expect(cross.target).toBe("https://b.test:8443/elsewhere");
    expect(cross.headers.authorization).toBeUndefined();
    expect(cross.headers.cookie).toBeUndefined();
    expect(cross.headers["proxy-authorization"]).toBeUndefined();
    expect(cross.headers["x-other"]).toBe("1");

    // Same host, another scheme: another origin too.
    const downgrade = encodeURIComponent("https://a.test/to");
    const scheme = await json(
      await svc.serve(request({ target: `http://a.test/from/301?${downgrade}`, headers: creds })),
    );
    expect(scheme.headers.authorization).toBeUndefined();

    // Origin-form with a Host header: the Location resolves against it and Host follows the redirect.
    const viaHost = await json(
      await svc.serve(
        request({
          target: `/from/302?${encodeURIComponent("http://c.test/x")}`,
          headers: { host: "a.test" },
        }),
      ),
    );
    expect(viaHost.target).toBe("http://c.test/x");
    expect(viaHost.headers.host).toBe("c.test");
  });

  it("fails with TooManyRedirectsError past the hop limit, with the chain", async () => {
    let calls = 0;
    const loop = handler((req) => {
      calls++;
      return Response.redirect(`/hop${calls}`, 302, { request: req });
    });
    const svc = stack(followRedirect({ maxRedirects: 3 })).into(loop);
    const error = await svc.serve(request({ target: "http://a.test/start" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyRedirectsError);
    expect((error as TooManyRedirectsError).code).toBe("ERR_HTTP_TOO_MANY_REDIRECTS");
    expect((error as TooManyRedirectsError).chain.map((h) => h.location)).toEqual([
      "http://a.test/hop1",
      "http://a.test/hop2",
      "http://a.test/hop3",
      "http://a.test/hop4",
    ]);
    expect(calls).toBe(4);

    const none = stack(followRedirect({ maxRedirects: 0 })).into(server());
    await expect(none.serve(request({ target: "http://a.test/from/301" }))).rejects.toBeInstanceOf(
      TooManyRedirectsError,
    );
  });

  it("cancels the body of each redirect response it follows", async () => {
    const bodies: Body[] = [];
    const inner = handler((req) => {
      if (req.path === "/final") return Response.text("done");
      const res = Response.create({
        status: 302,
        headers: { location: "/final" },
        body: Body.fromIterable(
          (async function* () {
            yield "redirect page";
          })(),
        ),
      });
      bodies.push(res.body);
      return res;
    });
    const res = await stack(followRedirect())
      .into(inner)
      .serve(request({ target: "http://a.test/" }));
    expect(await res.body.text()).toBe("done");
    expect(bodies[0]!.cancelled).toBe(true);
  });

  it("does not follow what it should not: no Location, other schemes, userinfo, shouldFollow false", async () => {
    const cases: [string, Response][] = [
      ["no location", Response.empty(302)],
      ["ftp", Response.redirect("ftp://a.test/file", 302)],
      ["userinfo", Response.redirect("http://user:pw@a.test/", 302)],
      ["not a redirect", Response.create({ status: 300, headers: { location: "/x" } })],
      ["304", Response.create({ status: 304, headers: { location: "/x" } })],
    ];
    for (const [name, response] of cases) {
      const res = await stack(followRedirect())
        .into(handler(() => response))
        .serve(request({ target: "http://a.test/" }));
      expect(res, name).toBe(response);
    }
    const asked: string[] = [];
    const picky = stack(
      followRedirect({
        shouldFollow: (c) => {
          asked.push(`${c.location} ${c.crossOrigin}`);
          return !c.crossOrigin;
        },
      }),
    ).into(server());
    const res = await picky.serve(
      request({ target: `http://a.test/from/302?${encodeURIComponent("http://evil.test/")}` }),
    );
    expect(res.status).toBe(302);
    expect(asked).toEqual(["http://evil.test/ true"]);
  });

  it("stops between hops when the caller's signal aborts", async () => {
    const controller = new AbortController();
    const inner = handler((req: Request) => {
      controller.abort(new Error("caller gone"));
      return Response.redirect("/next", 302, { request: req });
    });
    const svc = stack(followRedirect()).into(inner);
    await expect(
      svc.serve(request({ target: "http://a.test/", signal: controller.signal })),
    ).rejects.toMatchObject({ code: "ERR_ABORTED" });
    expect(inner.seen).toHaveLength(1);
  });
});
