import { randomBytes } from "node:crypto";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { stack } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { Body, Response } from "../../src/index.js";
import {
  DecompressionError,
  DecompressionLimitError,
  decompression,
} from "../../src/layers/decompression/index.js";
import { bytesOf, handler, request, tick } from "./helpers.js";

const TEXT = "decoded text, ".repeat(500);
// Hex of random bytes: compresses about 2:1, so a compressed stream has many chunks.
const NOISE = Buffer.from(randomBytes(128 * 1024).toString("hex"));

function encodedHandler(body: Body | Uint8Array, encoding: string, extra: Record<string, string> = {}) {
  return handler((req) =>
    Response.create({ body, request: req, headers: { "content-encoding": encoding, ...extra } }),
  );
}

/** A body that hands out `bytes` in chunks of `size`, counting the chunks read. */
function chunked(bytes: Uint8Array, size: number) {
  const state = { read: 0, stopped: false };
  async function* produce() {
    try {
      for (let i = 0; i < bytes.byteLength; i += size) {
        state.read++;
        yield bytes.subarray(i, i + size);
      }
    } finally {
      state.stopped = state.read * size < bytes.byteLength;
    }
  }
  return { body: Body.fromIterable(produce()), state };
}

describe("decompression", () => {
  it("asks for compressed responses unless the request already says what it accepts", async () => {
    const inner = handler();
    const svc = stack(decompression()).into(inner);
    await svc.serve(request());
    expect(inner.seen[0]!.headers.get("accept-encoding")).toBe("gzip, deflate, br");
    await svc.serve(request({ headers: { "accept-encoding": "identity" } }));
    expect(inner.seen[1]!.headers.get("accept-encoding")).toBe("identity");
    await stack(decompression({ acceptEncoding: false }))
      .into(inner)
      .serve(request());
    expect(inner.seen[2]!.headers.has("accept-encoding")).toBe(false);
  });

  it("decodes gzip, br, zlib deflate and raw deflate, dropping Content-Encoding and Content-Length", async () => {
    const cases: [string, Buffer][] = [
      ["gzip", gzipSync(TEXT)],
      ["x-gzip", gzipSync(TEXT)],
      ["br", brotliCompressSync(TEXT)],
      ["deflate", deflateSync(TEXT)],
      ["deflate", deflateRawSync(TEXT)],
      ["GZIP", gzipSync(TEXT)],
    ];
    for (const [encoding, bytes] of cases) {
      const svc = stack(decompression()).into(
        encodedHandler(bytes, encoding, { "content-length": String(bytes.byteLength), etag: '"x"' }),
      );
      const res = await svc.serve(request());
      expect(res.headers.has("content-encoding"), encoding).toBe(false);
      expect(res.headers.has("content-length"), encoding).toBe(false);
      expect(res.headers.get("etag")).toBe('"x"');
      expect(res.body.length).toBeUndefined();
      expect(await res.body.text(), encoding).toBe(TEXT);
    }
  });

  it("undoes several codings in reverse order", async () => {
    const twice = brotliCompressSync(gzipSync(TEXT));
    const svc = stack(decompression()).into(encodedHandler(twice, "gzip, br"));
    expect(await (await svc.serve(request())).body.text()).toBe(TEXT);
    const tooMany = stack(decompression()).into(encodedHandler(twice, "gzip, gzip, gzip, br"));
    await expect(tooMany.serve(request())).rejects.toBeInstanceOf(DecompressionError);
  });

  it("decodes a streamed body chunk by chunk, pulled by the reader", async () => {
    const compressed = gzipSync(NOISE);
    const { body, state } = chunked(compressed, 1024);
    const svc = stack(decompression()).into(encodedHandler(body, "gzip"));
    const res = await svc.serve(request());
    expect(state.read).toBe(0); // nothing is read before the body is
    const iterator = res.body[Symbol.asyncIterator]();
    await iterator.next();
    // Not ahead of the reader: a chunk or two, not the whole body.
    expect(state.read).toBeLessThanOrEqual(2);
    const rest: Buffer[] = [];
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) break;
      rest.push(Buffer.from(next.value));
    }
    expect(state.read).toBe(Math.ceil(compressed.byteLength / 1024));
    expect(Buffer.concat(rest).byteLength).toBeGreaterThan(0);
  });

  it("stops a decompression bomb at maxDecodedBytes and cancels the compressed stream", async () => {
    // 16 MiB of zeros compress to ~16 KiB (each 256-byte chunk expands to ~256 KiB); the limit is 1 MiB.
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    const { body, state } = chunked(bomb, 256);
    const svc = stack(decompression({ maxDecodedBytes: 1024 * 1024 })).into(encodedHandler(body, "gzip"));
    const res = await svc.serve(request());
    let decoded = 0;
    const error = await (async () => {
      try {
        for await (const chunk of res.body) decoded += chunk.byteLength;
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DecompressionLimitError);
    expect((error as DecompressionLimitError).code).toBe("ERR_HTTP_DECOMPRESSED_TOO_LARGE");
    expect((error as DecompressionLimitError).limit).toBe(1024 * 1024);
    expect(decoded).toBeLessThanOrEqual(1024 * 1024);
    await tick();
    expect(state.stopped).toBe(true);
    // Input is read only while output is wanted: about 1 MiB worth (4-5 chunks of 64), not all of it.
    expect(state.read).toBeLessThanOrEqual(8);
  });

  it("applies the limit to whole-body reads too, including a buffered body", async () => {
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024));
    const svc = stack(decompression({ maxDecodedBytes: 100_000 })).into(encodedHandler(bomb, "gzip"));
    const res = await svc.serve(request());
    await expect(bytesOf(res.body)).rejects.toBeInstanceOf(DecompressionLimitError);
  });

  it("fails the body with DecompressionError on corrupt data", async () => {
    const svc = stack(decompression()).into(encodedHandler(Buffer.from("this is not gzip at all"), "gzip"));
    const res = await svc.serve(request());
    const error = await res.body.text().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecompressionError);
    expect((error as DecompressionError).encoding).toBe("gzip");
    expect((error as DecompressionError).cause).toBeInstanceOf(Error);
  });

  it("treats an empty body as empty whatever its coding", async () => {
    const svc = stack(decompression()).into(encodedHandler(Body.empty(), "gzip"));
    expect(await (await svc.serve(request())).body.text()).toBe("");
  });

  it("leaves HEAD, 204, 304 and unknown codings alone", async () => {
    const gz = gzipSync(TEXT);
    const head = await stack(decompression())
      .into(encodedHandler(gz, "gzip"))
      .serve(request({ method: "HEAD" }));
    expect(head.headers.get("content-encoding")).toBe("gzip");
    const notModified = await stack(decompression())
      .into(handler(() => Response.empty(304, { headers: { "content-encoding": "gzip" } })))
      .serve(request());
    expect(notModified.headers.get("content-encoding")).toBe("gzip");
    const zstd = await stack(decompression()).into(encodedHandler(gz, "gzip, zstd")).serve(request());
    expect(zstd.headers.get("content-encoding")).toBe("gzip, zstd");
    expect(await bytesOf(zstd.body)).toEqual(gz);
    const brOnly = await stack(decompression({ encodings: ["br"] }))
      .into(encodedHandler(gz, "gzip"))
      .serve(request());
    expect(brOnly.headers.get("content-encoding")).toBe("gzip");
  });

  it("cancelling the decoded body cancels the compressed one", async () => {
    const { body, state } = chunked(gzipSync(NOISE), 1024);
    const res = await stack(decompression()).into(encodedHandler(body, "gzip")).serve(request());
    const iterator = res.body[Symbol.asyncIterator]();
    await iterator.next();
    res.body.cancel();
    await tick();
    expect(state.stopped).toBe(true);
  });
});
