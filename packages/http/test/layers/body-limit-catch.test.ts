import { AbortedError, ShutdownError, service, stack, TesseraError, TimeoutError } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { Body, InvalidUriError, type Request, Response } from "../../src/index.js";
import { BodyTooLargeError, bodyLimit } from "../../src/layers/body-limit/index.js";
import { catchErrors, statusOfError } from "../../src/layers/catch/index.js";
import { handler, request, trackedBody } from "./helpers.js";

/** A handler that reads the whole request body (with no limit of its own) and reports its size. */
function reader() {
  return handler(async (req) => {
    const bytes = await req.body.bytes({ limit: Number.POSITIVE_INFINITY });
    return Response.text(`got ${bytes.byteLength}`, { request: req });
  });
}

function chunks(n: number, size: number): string[] {
  return Array.from({ length: n }, () => "x".repeat(size));
}

describe("bodyLimit", () => {
  it("answers 413 at once when the declared length is too large, cancelling the body", async () => {
    const inner = reader();
    const { body, state } = trackedBody(chunks(10, 100));
    const svc = stack(bodyLimit(500)).into(inner);
    const declared = Body.fromIterable(
      (async function* () {
        yield* body;
      })(),
      { length: 1000 },
    );
    const res = await svc.serve(request({ method: "POST", body: declared }));
    expect(res.status).toBe(413);
    expect(inner.seen).toHaveLength(0);
    expect(declared.cancelled).toBe(true);
    expect(state.produced).toBe(0);

    const byHeader = await svc.serve(
      request({ method: "POST", body: trackedBody(["a"]).body, headers: { "content-length": "501" } }),
    );
    expect(byHeader.status).toBe(413);
  });

  it("passes a body of known length within the limit untouched", async () => {
    const inner = reader();
    const svc = stack(bodyLimit(500)).into(inner);
    const req = request({ method: "POST", body: "y".repeat(500) });
    const res = await svc.serve(req);
    expect(await res.body.text()).toBe("got 500");
    expect(inner.seen[0]).toBe(req);
  });

  it("counts a streamed body and lets one within the limit through, trailers and all", async () => {
    const svc = stack(bodyLimit(1000)).into(reader());
    const res = await svc.serve(request({ method: "POST", body: trackedBody(chunks(10, 100)).body }));
    expect(await res.body.text()).toBe("got 1000");
  });

  it("fails a streamed body past the limit, stops the producer, and answers 413 if the error propagates", async () => {
    const { body, state } = trackedBody(chunks(1000, 100), { forever: true });
    const inner = reader();
    const svc = stack(bodyLimit(1000)).into(inner);
    const res = await svc.serve(request({ method: "POST", body }));
    expect(res.status).toBe(413);
    expect(await res.body.text()).toBe("Content Too Large");
    expect(state.stopped).toBe(true);
    expect(state.produced).toBe(11);
  });

  it("the handler sees the typed error, and may answer on its own", async () => {
    let seen: unknown;
    const svc = stack(bodyLimit(10)).into(
      handler(async (req) => {
        try {
          await req.body.text({ limit: Number.POSITIVE_INFINITY });
        } catch (error) {
          seen = error;
        }
        return Response.text("handled", { status: 422 });
      }),
    );
    const res = await svc.serve(request({ method: "POST", body: trackedBody(chunks(3, 8)).body }));
    expect(res.status).toBe(422);
    expect(seen).toBeInstanceOf(BodyTooLargeError);
    expect((seen as BodyTooLargeError).code).toBe("ERR_HTTP_BODY_TOO_LARGE");
    expect((seen as BodyTooLargeError).status).toBe(413);
  });

  it("does not turn someone else's BodyTooLargeError into a 413", async () => {
    const svc = stack(bodyLimit(1000)).into(
      service((_: Request): Promise<Response> => Promise.reject(new BodyTooLargeError(5))),
    );
    await expect(
      svc.serve(request({ method: "POST", body: trackedBody(["a"]).body })),
    ).rejects.toBeInstanceOf(BodyTooLargeError);
  });

  it("rejects a bad limit", () => {
    expect(() => bodyLimit(-1)).toThrow(RangeError);
    expect(() => bodyLimit(1.5)).toThrow(RangeError);
  });
});

/** An error with a code, like @tessera/layers' OverloadedError, without importing that package. */
class CodedError extends TesseraError {
  readonly retryAfterMs?: number;
  constructor(code: string, retryAfterMs?: number) {
    super(code, `internal detail: ${code} at /srv/secret/path.ts`);
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

describe("catchErrors", () => {
  const failing = (error: unknown) => handler(() => Promise.reject(error));

  it("turns an error into a 500 with only the reason phrase, and calls the hook", async () => {
    const logged: [unknown, string, number][] = [];
    const boom = new Error("password=hunter2 in /srv/app.ts");
    const svc = stack(catchErrors({ onError: (e, req, status) => logged.push([e, req.path, status]) })).into(
      failing(boom),
    );
    const res = await svc.serve(request({ target: "/x" }));
    expect(res.status).toBe(500);
    const text = await res.body.text();
    expect(text).toBe("Internal Server Error");
    expect(text).not.toContain("hunter2");
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(logged).toEqual([[boom, "/x", 500]]);
  });

  it("uses the status an HTTP error declares, and maps known codes", async () => {
    const cases: [unknown, number, string | undefined][] = [
      [new BodyTooLargeError(10), 413, undefined],
      [new InvalidUriError("whitespace", "/a b", "a space"), 400, undefined],
      [new CodedError("ERR_OVERLOADED"), 503, undefined],
      [new CodedError("ERR_RATE_LIMITED", 1500), 429, "2"],
      [new CodedError("ERR_CIRCUIT_OPEN", 10), 503, "1"],
      [new TimeoutError(), 504, undefined],
      [new ShutdownError(), 503, undefined],
      [new AbortedError(), 500, undefined],
      [Object.assign(new Error("plain"), { code: "ERR_OVERLOADED" }), 503, undefined],
      [Object.assign(new Error("fake"), { status: 404 }), 500, undefined], // not a Tessera error: no trust
      ["a string", 500, undefined],
    ];
    for (const [error, status, retryAfter] of cases) {
      const res = await stack(catchErrors()).into(failing(error)).serve(request());
      expect(res.status, String(error)).toBe(status);
      expect(res.headers.get("retry-after"), String(error)).toBe(retryAfter);
      expect(await res.body.text()).toBe(Response.empty(status).reasonPhrase);
      expect(statusOfError(error)).toBe(status);
    }
  });

  it("catches a synchronous throw, survives a throwing hook, and cancels the unread body", async () => {
    const throwing = {
      serve: (_: Request): Promise<Response> => {
        throw new Error("sync");
      },
    };
    const { body } = trackedBody(["x"], { forever: true });
    const svc = stack(
      catchErrors({
        onError: () => {
          throw new Error("logger down");
        },
      }),
    ).into(throwing);
    const res = await svc.serve(request({ method: "POST", body }));
    expect(res.status).toBe(500);
    expect(body.cancelled).toBe(true);
  });

  it("lets statusFor and render decide", async () => {
    const svc = stack(
      catchErrors({
        statusFor: (e) => (e instanceof RangeError ? 422 : undefined),
        render: (status, _e, req) => Response.json({ status }, { status, request: req }),
      }),
    ).into(failing(new RangeError("x")));
    const res = await svc.serve(request());
    expect(res.status).toBe(422);
    expect(await res.body.json()).toEqual({ status: 422 });
  });

  it("passes responses through untouched, and a 413 from bodyLimit arrives as 413", async () => {
    const ok = Response.text("fine");
    expect(
      await stack(catchErrors())
        .into(handler(() => ok))
        .serve(request()),
    ).toBe(ok);
    const svc = stack(catchErrors(), bodyLimit(5)).into(reader());
    const res = await svc.serve(request({ method: "POST", body: trackedBody(["123456"]).body }));
    expect(res.status).toBe(413);
  });
});
