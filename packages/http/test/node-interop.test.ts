import type { IncomingMessage, ServerResponse } from "node:http";
import { Extensions, SignalKey } from "@tessera/core";
import { PeerAddr } from "@tessera/net";
import { describe, expect, it } from "vitest";
import { Body, fromNodeHandler, NodeHandlerError, Request } from "../src/index.js";

const text = (u: Uint8Array): string => Buffer.from(u).toString("utf8");

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

async function readAll(req: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of req) body += chunk;
  return body;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A tiny express-style app: routes by method and path, as frameworks built on node:http do. */
function app(routes: Record<string, Handler>): Handler {
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const route = routes[`${req.method} ${path}`];
    if (route === undefined) {
      res.statusCode = 404;
      res.end("no route");
      return;
    }
    return route(req, res);
  };
}

describe("fromNodeHandler: a node:http listener as a Tessera service", () => {
  it("gives the listener a real IncomingMessage (raw casing and order, body, socket address)", async () => {
    let seen: Record<string, unknown> = {};
    const svc = fromNodeHandler(
      app({
        "POST /echo": async (req, res) => {
          seen = {
            method: req.method,
            url: req.url,
            rawHeaders: req.rawHeaders,
            body: await readAll(req),
            remoteAddress: req.socket.remoteAddress,
          };
          res.writeHead(201, "Made It", { "Content-Type": "text/plain", "X-Seen": "yes" });
          res.end("created");
        },
      }),
    );
    const ext = new Extensions().insert(PeerAddr, { family: "IPv4", host: "10.1.2.3", port: 5555 });
    const req = Request.post("/echo?x=1", "hello node", {
      headers: [
        ["Host", "example.com"],
        ["X-First", "1"],
        ["x-second", "2"],
        ["X-First", "3"],
      ],
      extensions: ext,
    });
    const res = await svc.serve(req);
    expect(seen.method).toBe("POST");
    expect(seen.url).toBe("/echo?x=1");
    expect(seen.body).toBe("hello node");
    expect(seen.remoteAddress).toBe("10.1.2.3");
    expect((seen.rawHeaders as string[]).slice(0, 8)).toEqual([
      "Host",
      "example.com",
      "X-First",
      "1",
      "x-second",
      "2",
      "X-First",
      "3",
    ]);
    expect(res.status).toBe(201);
    expect(res.reason).toBe("Made It");
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(res.headers.name(res.headers.size - 1)).toBeDefined();
    expect([...res.headers].map(([n]) => n)).toContain("X-Seen");
    expect(res.headers.has("connection")).toBe(false);
    expect(res.headers.has("transfer-encoding")).toBe(false);
    expect(await res.body.text()).toBe("created");
    expect(res.extensions.parent).toBe(req.extensions);
  });

  it("preserves setHeader arrays, status codes, 404s and Content-Length as the body length", async () => {
    const svc = fromNodeHandler(
      app({
        "GET /cookies": (_req, res) => {
          res.setHeader("Set-Cookie", ["a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "b=2"]);
          res.setHeader("Content-Length", "2");
          res.end("ok");
        },
      }),
    );
    const res = await svc.serve(Request.get("/cookies", { headers: { host: "h" } }));
    expect(res.status).toBe(200);
    expect(res.reason).toBeUndefined();
    expect(res.headers.getSetCookie()).toEqual(["a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "b=2"]);
    expect(res.body.length).toBe(2);
    expect(await res.body.text()).toBe("ok");

    const missing = await svc.serve(Request.get("/nope", { headers: { host: "h" } }));
    expect(missing.status).toBe(404);
    expect(await missing.body.text()).toBe("no route");
  });

  it("streams a chunked response: chunks arrive as the listener writes them, then trailers", async () => {
    const second = gate();
    const svc = fromNodeHandler(async (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream", Trailer: "X-Checksum" });
      res.write("event-1\n");
      await second.promise;
      res.write("event-2\n");
      res.addTrailers({ "X-Checksum": "abc" });
      res.end();
    });
    const res = await svc.serve(Request.get("/events", { headers: { host: "h" } }));
    expect(res.body.length).toBeUndefined();
    const iterator = res.body[Symbol.asyncIterator]();
    expect(text((await iterator.next()).value!)).toBe("event-1\n"); // before event 2 was written
    second.open();
    let rest = "";
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest += text(r.value);
    expect(rest).toBe("event-2\n");
    expect(res.body.trailers?.get("x-checksum")).toBe("abc");
  });

  it("streams a request body into the listener without buffering it first", async () => {
    const secondChunk = gate();
    const listenerGotFirst = gate();
    async function* upload(): AsyncGenerator<string> {
      yield "part-1;";
      await secondChunk.promise;
      yield "part-2;";
    }
    const svc = fromNodeHandler((req, res) => {
      const parts: string[] = [];
      req.on("data", (chunk: Buffer) => {
        parts.push(chunk.toString());
        if (parts.length === 1) listenerGotFirst.open();
      });
      req.on("end", () => res.end(parts.join("")));
    });
    const responsePromise = svc.serve(
      Request.post("/up", Body.fromIterable(upload()), { headers: { host: "h" } }),
    );
    await listenerGotFirst.promise;
    secondChunk.open();
    const res = await responsePromise;
    expect(await res.body.text()).toBe("part-1;part-2;");
  });

  it("HEAD and 204 responses have an empty body", async () => {
    const svc = fromNodeHandler((req, res) => {
      if (req.method === "HEAD") {
        res.setHeader("Content-Length", "100");
        res.end();
      } else {
        res.statusCode = 204;
        res.end();
      }
    });
    const head = await svc.serve(Request.head("/", { headers: { host: "h" } }));
    expect(head.body).toBe(Body.empty());
    expect(head.headers.get("content-length")).toBe("100");
    const none = await svc.serve(Request.delete("/", { headers: { host: "h" } }));
    expect(none.status).toBe(204);
    expect(await none.body.text()).toBe("");
  });

  it("a listener that throws (or rejects) fails the request with NodeHandlerError, not the process", async () => {
    const sync = fromNodeHandler(() => {
      throw new Error("bug");
    });
    await expect(sync.serve(Request.get("/", { headers: { host: "h" } }))).rejects.toBeInstanceOf(
      NodeHandlerError,
    );
    const async = fromNodeHandler(async () => {
      throw new Error("async bug");
    });
    const error = await async.serve(Request.get("/", { headers: { host: "h" } })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ERR_HTTP_NODE_HANDLER" });
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it("aborting the request's signal closes the listener's connection and rejects", async () => {
    const closed = gate();
    const svc = fromNodeHandler((req) => {
      req.socket.on("close", closed.open);
      // never answers
    });
    const controller = new AbortController();
    const pending = svc.serve(
      Request.get("/", {
        headers: { host: "h" },
        extensions: new Extensions().insert(SignalKey, controller.signal),
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort(new Error("client gone"));
    await expect(pending).rejects.toMatchObject({ code: "ERR_ABORTED" });
    await closed.promise;
  });

  it("cancelling the response body tells the listener (its response closes)", async () => {
    const closed = gate();
    const svc = fromNodeHandler((_req, res) => {
      res.on("close", closed.open);
      res.write("x".repeat(1000));
      // keeps the response open
    });
    const res = await svc.serve(Request.get("/", { headers: { host: "h" } }));
    const iterator = res.body[Symbol.asyncIterator]();
    await iterator.next();
    res.body.cancel();
    await closed.promise;
  });

  it("refuses CONNECT", async () => {
    const svc = fromNodeHandler(() => {});
    await expect(svc.serve(Request.create({ method: "CONNECT", target: "h:443" }))).rejects.toBeInstanceOf(
      NodeHandlerError,
    );
  });
});
