import { getEventListeners } from "node:events";
import { brotliDecompressSync, constants, gunzipSync, inflateSync } from "node:zlib";
import { stack } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { Body, BodyCancelledError, Response } from "../../src/index.js";
import { compression, isCompressible, negotiateEncoding } from "../../src/layers/compression/index.js";
import { bytesOf, handler, request, tick, trackedBody } from "./helpers.js";

const TEXT = "hello compression! ".repeat(200); // 3800 bytes, very compressible

function textHandler(text = TEXT, headers: Record<string, string> = {}) {
  return handler((req) => Response.text(text, { request: req, headers }));
}

describe("compression", () => {
  it("gzips a buffered body when the client prefers gzip, keeping a known length", async () => {
    const svc = stack(compression()).into(textHandler(TEXT, { "content-length": String(TEXT.length) }));
    const res = await svc.serve(request({ headers: { "accept-encoding": "gzip, br;q=0.5" } }));
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.headers.get("vary")).toBe("Accept-Encoding");
    expect(res.headers.has("content-length")).toBe(false);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    const body = await bytesOf(res.body);
    expect(res.body.length).toBe(body.byteLength);
    expect(body.byteLength).toBeLessThan(TEXT.length / 10);
    expect(gunzipSync(body).toString()).toBe(TEXT);
  });

  it("picks br, then deflate, by q-value and server order", async () => {
    const svc = stack(compression()).into(textHandler());
    const br = await svc.serve(request({ headers: { "accept-encoding": "gzip, deflate, br" } }));
    expect(br.headers.get("content-encoding")).toBe("br");
    expect(brotliDecompressSync(await bytesOf(br.body)).toString()).toBe(TEXT);

    const deflate = await svc.serve(request({ headers: { "accept-encoding": "deflate;q=0.9, gzip;q=0.1" } }));
    expect(deflate.headers.get("content-encoding")).toBe("deflate");
    expect(inflateSync(await bytesOf(deflate.body)).toString()).toBe(TEXT);

    const gzipOnly = stack(compression({ encodings: ["gzip"] })).into(textHandler());
    const res = await gzipOnly.serve(request({ headers: { "accept-encoding": "br, gzip;q=0.2" } }));
    expect(res.headers.get("content-encoding")).toBe("gzip");
  });

  it("negotiates Accept-Encoding per RFC 9110: q-values, *, identity, x-gzip, malformed q", () => {
    expect(negotiateEncoding("gzip;q=0.8, br")).toBe("br");
    expect(negotiateEncoding("gzip, br", ["gzip", "br"])).toBe("gzip");
    expect(negotiateEncoding("*")).toBe("br");
    expect(negotiateEncoding("*;q=0")).toBeUndefined();
    expect(negotiateEncoding("br;q=0, *;q=0.5")).toBe("gzip");
    expect(negotiateEncoding("identity, gzip;q=0.5")).toBeUndefined();
    expect(negotiateEncoding("x-gzip")).toBe("gzip");
    expect(negotiateEncoding("GZIP;Q=0.5")).toBe("gzip");
    expect(negotiateEncoding("gzip;q=2, deflate;q=0.1")).toBe("deflate");
    expect(negotiateEncoding("compress, zstd")).toBeUndefined();
    expect(negotiateEncoding("")).toBeUndefined();
  });

  it("leaves the body alone without Accept-Encoding, but says it varies", async () => {
    const svc = stack(compression()).into(textHandler());
    const res = await svc.serve(request());
    expect(res.headers.has("content-encoding")).toBe(false);
    expect(res.headers.get("vary")).toBe("Accept-Encoding");
    expect(await res.body.text()).toBe(TEXT);
  });

  it("merges into an existing Vary without duplicating", async () => {
    const svc = stack(compression()).into(textHandler(TEXT, { vary: "Origin, accept-encoding" }));
    const res = await svc.serve(request({ headers: { "accept-encoding": "gzip" } }));
    expect(res.headers.getAll("vary")).toEqual(["Origin, accept-encoding"]);
    const other = stack(compression()).into(textHandler(TEXT, { vary: "Origin" }));
    const res2 = await other.serve(request({ headers: { "accept-encoding": "gzip" } }));
    expect(res2.headers.get("vary")).toBe("Origin, Accept-Encoding");
  });

  it("skips small bodies, incompressible types, encoded, no-transform and partial responses", async () => {
    const ae = { "accept-encoding": "gzip" };
    const cases: [string, Response | ((req: ReturnType<typeof request>) => Response)][] = [
      ["small", (req) => Response.text("tiny", { request: req })],
      ["png", Response.create({ body: TEXT, headers: { "content-type": "image/png" } })],
      ["sse", Response.create({ body: TEXT, headers: { "content-type": "text/event-stream" } })],
      ["encoded", Response.create({ body: TEXT, headers: { "content-encoding": "br" } })],
      ["no-transform", Response.create({ body: TEXT, headers: { "cache-control": "public, no-transform" } })],
      ["partial", Response.create({ status: 206, body: TEXT, headers: { "content-range": "bytes 0-9/99" } })],
    ];
    for (const [name, make] of cases) {
      const svc = stack(compression()).into(
        handler((req) => (typeof make === "function" ? make(req) : make)),
      );
      const res = await svc.serve(request({ headers: ae }));
      expect(res.headers.get("content-encoding"), name).toBe(name === "encoded" ? "br" : undefined);
      expect(res.headers.has("vary"), name).toBe(false);
    }
    expect(isCompressible("image/svg+xml; charset=utf-8")).toBe(true);
    expect(isCompressible("Application/JSON")).toBe(true);
    expect(isCompressible("video/mp4")).toBe(false);
    expect(isCompressible(undefined)).toBe(true);
  });

  it("respects HEAD, 204 and 304: no body touched, Vary on HEAD and 304", async () => {
    const ae = { "accept-encoding": "gzip" };
    const svc = stack(compression()).into(
      handler((req) => {
        if (req.path === "/204") return Response.empty(204);
        if (req.path === "/304") return Response.empty(304, { headers: { etag: '"a"' } });
        return Response.text(TEXT, { request: req });
      }),
    );
    const head = await svc.serve(request({ method: "HEAD", headers: ae }));
    expect(head.headers.has("content-encoding")).toBe(false);
    expect(head.headers.get("vary")).toBe("Accept-Encoding");
    const noContent = await svc.serve(request({ target: "/204", headers: ae }));
    expect(noContent.headers.size).toBe(0);
    const notModified = await svc.serve(request({ target: "/304", headers: ae }));
    expect(notModified.headers.has("content-encoding")).toBe(false);
    expect(notModified.headers.get("vary")).toBe("Accept-Encoding");
    expect(notModified.headers.get("etag")).toBe('"a"');
  });

  it("weakens a strong ETag and drops Accept-Ranges on a compressed response", async () => {
    const svc = stack(compression()).into(textHandler(TEXT, { etag: '"v1"', "accept-ranges": "bytes" }));
    const res = await svc.serve(request({ headers: { "accept-encoding": "gzip" } }));
    expect(res.headers.get("etag")).toBe('W/"v1"');
    expect(res.headers.has("accept-ranges")).toBe(false);
  });

  it("compresses a streamed body as it is read, flushing each chunk", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let secondProduced = false;
    async function* produce() {
      yield "first chunk ".repeat(100);
      await gate;
      secondProduced = true;
      yield "second chunk ".repeat(100);
    }
    const svc = stack(compression()).into(
      handler((req) => Response.create({ body: Body.fromIterable(produce()), request: req })),
    );
    const res = await svc.serve(request({ headers: { "accept-encoding": "gzip" } }));
    expect(res.body.length).toBeUndefined();
    const iterator = res.body[Symbol.asyncIterator]();
    // The first chunk comes out whole (flushed) while the producer cannot make its second one yet.
    // (The gzip header may come out on its own first.)
    const parts: Buffer[] = [];
    const partial = () =>
      gunzipSync(Buffer.concat(parts), { finishFlush: constants.Z_SYNC_FLUSH }).toString();
    for (let reads = 0; reads < 3 && (parts.length === 0 || partial() === ""); reads++) {
      const next = await iterator.next();
      expect(next.done).toBe(false);
      parts.push(Buffer.from(next.value as Uint8Array));
    }
    expect(secondProduced).toBe(false);
    expect(partial()).toBe("first chunk ".repeat(100));
    release();
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) break;
      parts.push(Buffer.from(next.value));
    }
    expect(gunzipSync(Buffer.concat(parts)).toString()).toBe(
      "first chunk ".repeat(100) + "second chunk ".repeat(100),
    );
  });

  it("a cancelled request stops the compression stream and its producer", async () => {
    const { body, state } = trackedBody(["x".repeat(4096)], { forever: true });
    const controller = new AbortController();
    const svc = stack(compression()).into(handler((req) => Response.create({ body, request: req })));
    const res = await svc.serve(request({ headers: { "accept-encoding": "br" }, signal: controller.signal }));
    const iterator = res.body[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    const producedBefore = state.produced;
    controller.abort(new Error("client went away"));
    await expect(iterator.next()).rejects.toBeInstanceOf(BodyCancelledError);
    expect(state.stopped).toBe(true);
    expect(state.produced).toBe(producedBefore);
  });

  it("watches the request's signal only while the body is read, and lets go at the end", async () => {
    const controller = new AbortController();
    const svc = stack(compression()).into(
      handler((req) => Response.create({ body: trackedBody(["z".repeat(2000)]).body, request: req })),
    );
    const unread = await svc.serve(
      request({ headers: { "accept-encoding": "gzip" }, signal: controller.signal }),
    );
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    const res = await svc.serve(
      request({ headers: { "accept-encoding": "gzip" }, signal: controller.signal }),
    );
    const iterator = res.body[Symbol.asyncIterator]();
    await iterator.next();
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    while ((await iterator.next()).done !== true);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    unread.body.cancel();
  });

  it("cancelling the compressed body cancels the inner body", async () => {
    const { body, state } = trackedBody(["y".repeat(4096)], { forever: true });
    const svc = stack(compression()).into(handler((req) => Response.create({ body, request: req })));
    const res = await svc.serve(request({ headers: { "accept-encoding": "deflate" } }));
    const iterator = res.body[Symbol.asyncIterator]();
    await iterator.next();
    res.body.cancel();
    await tick();
    expect(state.stopped).toBe(true);
  });

  it("an error of the inner body reaches the reader of the compressed body", async () => {
    async function* failing() {
      yield "some bytes ".repeat(100);
      throw new Error("disk on fire");
    }
    const svc = stack(compression()).into(
      handler((req) => Response.create({ body: Body.fromIterable(failing()), request: req })),
    );
    const res = await svc.serve(request({ headers: { "accept-encoding": "gzip" } }));
    await expect(bytesOf(res.body)).rejects.toThrow("disk on fire");
  });

  it("compresses an empty streamed body into a valid empty gzip stream", async () => {
    async function* nothing(): AsyncGenerator<string> {}
    const svc = stack(compression()).into(
      handler((req) => Response.create({ body: Body.fromIterable(nothing()), request: req })),
    );
    const res = await svc.serve(request({ headers: { "accept-encoding": "gzip" } }));
    expect(gunzipSync(await bytesOf(res.body)).byteLength).toBe(0);
  });

  it("rejects an unknown encoding in the options", () => {
    expect(() => compression({ encodings: ["zstd" as "br"] })).toThrow(TypeError);
  });
});
