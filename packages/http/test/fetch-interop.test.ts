import { Extensions, SignalKey, service } from "@tessera/core";
import { describe, expect, it } from "vitest";
import {
  Body,
  fromFetchHandler,
  fromFetchResponse,
  HeaderMap,
  Request,
  Response,
  toFetchHandler,
  toFetchRequest,
  toFetchResponse,
} from "../src/index.js";

const text = (u: Uint8Array): string => Buffer.from(u).toString("utf8");

/** A promise with its resolve exposed: a gate the test opens. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe("fromFetchHandler: a fetch handler as a Tessera service", () => {
  it("passes method, URL, headers and body, and returns status, headers and body", async () => {
    let seen:
      | { url: string; method: string; host: string | null; custom: string | null; body: string }
      | undefined;
    const handler = async (request: globalThis.Request): Promise<globalThis.Response> => {
      seen = {
        url: request.url,
        method: request.method,
        host: request.headers.get("host"),
        custom: request.headers.get("x-custom"),
        body: await request.text(),
      };
      const headers = new Headers({ "content-type": "application/json" });
      headers.append("set-cookie", "a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT");
      headers.append("set-cookie", "b=2");
      return new globalThis.Response(JSON.stringify({ ok: true }), {
        status: 201,
        statusText: "Made",
        headers,
      });
    };
    const svc = fromFetchHandler(handler);
    const req = Request.post("/items?x=1", "payload", {
      headers: { Host: "api.local:8080", "X-Custom": "v" },
    });
    const res = await svc.serve(req);
    expect(seen).toEqual({
      url: "http://api.local:8080/items?x=1",
      method: "POST",
      host: "api.local:8080",
      custom: "v",
      body: "payload",
    });
    expect(res.status).toBe(201);
    expect(res.reason).toBe("Made");
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.getSetCookie()).toEqual(["a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "b=2"]);
    expect(await res.body.json()).toEqual({ ok: true });
    expect(res.extensions.parent).toBe(req.extensions);
  });

  it("uses an absolute target as the URL, and the options' scheme and host otherwise", async () => {
    const urls: string[] = [];
    const svc = fromFetchHandler(
      (r) => {
        urls.push(r.url);
        return new globalThis.Response(null, { status: 204 });
      },
      { scheme: "https", defaultHost: "fallback.local" },
    );
    await svc.serve(Request.get("http://abs.example/x"));
    await svc.serve(Request.get("/rel"));
    expect(urls).toEqual(["http://abs.example/x", "https://fallback.local/rel"]);
  });

  it("streams both ways: request chunks reach the handler and response chunks reach the caller as they are made", async () => {
    const secondRequestChunk = gate();
    const secondResponseChunk = gate();
    const handlerGotFirst = gate();
    async function* upload(): AsyncGenerator<string> {
      yield "up-1;";
      await secondRequestChunk.promise;
      yield "up-2;";
    }
    const handler = async (request: globalThis.Request): Promise<globalThis.Response> => {
      const reader = request.body!.getReader();
      const first = await reader.read();
      expect(text(first.value!)).toBe("up-1;");
      handlerGotFirst.open();
      let rest = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += text(r.value);
      expect(rest).toBe("up-2;");
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode("down-1;"));
          await secondResponseChunk.promise;
          controller.enqueue(new TextEncoder().encode("down-2;"));
          controller.close();
        },
      });
      return new globalThis.Response(stream);
    };
    const svc = fromFetchHandler(handler);
    const responsePromise = svc.serve(Request.post("/stream", Body.fromIterable(upload())));
    await handlerGotFirst.promise; // the handler read chunk 1 while chunk 2 did not exist yet
    secondRequestChunk.open();
    const res = await responsePromise;
    expect(res.body.length).toBeUndefined();
    const iterator = res.body[Symbol.asyncIterator]();
    expect(text((await iterator.next()).value!)).toBe("down-1;"); // before chunk 2 exists
    secondResponseChunk.open();
    expect(text((await iterator.next()).value!)).toBe("down-2;");
    expect((await iterator.next()).done).toBe(true);
  });

  it("passes the request's signal: aborting it aborts the fetch request", async () => {
    const controller = new AbortController();
    let fetchSignal: AbortSignal | undefined;
    const svc = fromFetchHandler((r) => {
      fetchSignal = r.signal;
      return new globalThis.Response("x");
    });
    const ext = new Extensions().insert(SignalKey, controller.signal);
    await svc.serve(Request.get("/", { extensions: ext }));
    expect(fetchSignal?.aborted).toBe(false);
    controller.abort(new Error("client gone"));
    expect(fetchSignal?.aborted).toBe(true);
  });

  it("cancelling the response body cancels the handler's stream", async () => {
    let cancelled: unknown;
    const svc = fromFetchHandler(
      () =>
        new globalThis.Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              controller.enqueue(new Uint8Array(10));
            },
            cancel(reason) {
              cancelled = reason ?? "cancelled";
            },
          }),
        ),
    );
    const res = await svc.serve(Request.get("/"));
    const iterator = res.body[Symbol.asyncIterator]();
    await iterator.next();
    res.body.cancel(new Error("client gone"));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(cancelled).toBeDefined();
  });

  it("a Content-Length from the handler becomes the body length", async () => {
    const res = fromFetchResponse(new globalThis.Response("abc", { headers: { "content-length": "3" } }));
    expect(res.body.length).toBe(3);
    expect(await res.body.text()).toBe("abc");
    const empty = fromFetchResponse(new globalThis.Response(null, { status: 204 }));
    expect(empty.body).toBe(Body.empty());
  });
});

describe("toFetchHandler: a Tessera service as a fetch handler", () => {
  it("converts the request (origin-form target, Host, streaming body, signal) and the response", async () => {
    let seen: { target: string; host: string | undefined; body: string; signal: AbortSignal } | undefined;
    const svc = service(async (req: Request) => {
      seen = {
        target: req.target,
        host: req.headers.get("host"),
        body: await req.body.text(),
        signal: req.signal,
      };
      const headers = HeaderMap.fromPairs([
        ["Set-Cookie", "a=1"],
        ["Set-Cookie", "b=2"],
      ]);
      return Response.create({ status: 202, headers, body: `got ${req.path}` });
    });
    const fetchHandler = toFetchHandler(svc);
    const controller = new AbortController();
    const res = await fetchHandler(
      new globalThis.Request("http://example.com:8080/a/b?c=d", {
        method: "PUT",
        body: "hello",
        signal: controller.signal,
      }),
    );
    expect(seen?.target).toBe("/a/b?c=d");
    expect(seen?.host).toBe("example.com:8080");
    expect(seen?.body).toBe("hello");
    controller.abort();
    expect(seen?.signal.aborted).toBe(true);
    expect(res.status).toBe(202);
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await res.text()).toBe("got /a/b");
  });

  it("streams a response body pulled one chunk per read, and a null body for 204", async () => {
    let produced = 0;
    async function* numbers(): AsyncGenerator<string> {
      for (let i = 0; i < 100; i++) {
        produced++;
        yield `${i},`;
      }
    }
    const fetchHandler = toFetchHandler(
      service(() => Response.create({ body: Body.fromIterable(numbers()) })),
    );
    const res = await fetchHandler(new globalThis.Request("http://x/"));
    const reader = res.body!.getReader();
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(produced).toBeLessThanOrEqual(2);
    await reader.cancel();

    const none = await toFetchHandler(service(() => Response.empty(204)))(
      new globalThis.Request("http://x/"),
    );
    expect(none.status).toBe(204);
    expect(none.body).toBeNull();
  });

  it("round trip fetch -> Tessera -> fetch keeps status, headers and a streaming body", async () => {
    const inner = (request: globalThis.Request) =>
      new globalThis.Response(request.body, {
        status: 200,
        headers: { "x-echo": request.headers.get("x-in") ?? "" },
      });
    const outer = toFetchHandler(fromFetchHandler(inner));
    async function* parts(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode("a");
      yield new TextEncoder().encode("b");
    }
    const res = await outer(
      new globalThis.Request("http://h/echo", {
        method: "POST",
        headers: { "x-in": "1" },
        body: ReadableStream.from(parts()),
        duplex: "half",
      } as globalThis.RequestInit),
    );
    expect(res.headers.get("x-echo")).toBe("1");
    expect(await res.text()).toBe("ab");
  });
});

describe("single conversions", () => {
  it("toFetchRequest / toFetchResponse", async () => {
    const r = toFetchRequest(Request.post("/items", "x", { headers: { host: "api.local" } }));
    expect(r.url).toBe("http://api.local/items");
    expect(await r.text()).toBe("x");
    const res = toFetchResponse(Response.text("hi", { status: 418 }));
    expect(res.status).toBe(418);
    expect(res.statusText).toBe("I'm a teapot");
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await res.text()).toBe("hi");
  });
});
