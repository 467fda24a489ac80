import { Extensions, forkInput, key, neverAborts, SignalKey, signalOf } from "@tessera/core";
import { describe, expect, it } from "vitest";
import {
  Body,
  HeaderMap,
  InvalidHeaderValueError,
  InvalidMethodError,
  InvalidStatusError,
  InvalidUriError,
  Method,
  Request,
  Response,
  Status,
  Version,
} from "../src/index.js";

const Tag = key<string>("test.http.Tag");

describe("Request", () => {
  it("keeps the raw target and parses it only on first access, once", () => {
    const req = new Request("GET", "/a b", new HeaderMap(), Body.empty());
    expect(req.target).toBe("/a b");
    expect(() => req.uri).toThrow(InvalidUriError);
    expect(() => req.path).toThrow(InvalidUriError);

    const ok = new Request("GET", "/items?page=2", new HeaderMap(), Body.empty());
    const uri = ok.uri;
    expect(ok.uri).toBe(uri);
    expect(ok.path).toBe("/items");
    expect(ok.query).toBe("page=2");
  });

  it("defaults: HTTP/1.1, new extensions, a signal that never aborts", () => {
    const req = new Request("GET", "/", new HeaderMap(), Body.empty());
    expect(req.version).toBe(Version.HTTP_11);
    expect(req.signal).toBe(neverAborts());
    expect(req.extensions).toBeInstanceOf(Extensions);
  });

  it("its signal is the one in its extensions (signalOf), no controller of its own", () => {
    const controller = new AbortController();
    const ext = new Extensions().insert(SignalKey, controller.signal);
    const req = new Request("GET", "/", new HeaderMap(), Body.empty(), "HTTP/2", ext.fork());
    expect(req.signal).toBe(controller.signal);
    expect(signalOf(req)).toBe(controller.signal);
  });

  it("create() and the shortcuts validate method, target and headers", () => {
    expect(() => Request.create({ method: "BAD METHOD", target: "/" })).toThrow(InvalidMethodError);
    expect(() => Request.get("/a#b")).toThrow(InvalidUriError);
    expect(() => Request.get("/", { headers: { x: "a\nb" } })).toThrow(InvalidHeaderValueError);
    expect(() => Request.create({ method: "GET", target: "*" })).toThrow(InvalidUriError);
    expect(Request.create({ method: "OPTIONS", target: "*" }).uri.form).toBe("asterisk");
    expect(Request.create({ method: "CONNECT", target: "h:443" }).uri.port).toBe(443);
    expect(Request.create({ method: "PROPFIND", target: "/" }).method).toBe("PROPFIND");
  });

  it("shortcuts make the method, body and headers", async () => {
    const get = Request.get("http://example.com/x", { headers: [["Accept", "text/plain"]] });
    expect(get.method).toBe("GET");
    expect(get.uri.host).toBe("example.com");
    expect(get.headers.get("accept")).toBe("text/plain");
    expect(get.body).toBe(Body.empty());

    const post = Request.post("/items", JSON.stringify({ a: 1 }));
    expect(post.method).toBe("POST");
    expect(post.body.length).toBe(7);
    expect(await post.body.json()).toEqual({ a: 1 });
    expect(Request.put("/", "x").method).toBe("PUT");
    expect(Request.patch("/", "x").method).toBe("PATCH");
    expect(Request.delete("/").method).toBe("DELETE");
    expect(Request.head("/").method).toBe("HEAD");
  });

  it("withExtensions / forkInput: a copy that shares the body, with headers copied on write", () => {
    const parent = new Extensions().insert(Tag, "conn");
    const req = Request.post("/", "body", { headers: { "X-A": "1" }, extensions: parent });
    const copy = forkInput(req);
    expect(copy).toBeInstanceOf(Request);
    expect(copy.body).toBe(req.body);
    expect(copy.extensions.get(Tag)).toBe("conn");
    copy.extensions.insert(Tag, "attempt");
    copy.headers.append("X-B", "2");
    expect(req.extensions.get(Tag)).toBe("conn");
    expect(req.headers.has("x-b")).toBe(false);
    expect(copy.headers.get("x-a")).toBe("1");
  });

  it("with() changes parts and keeps the rest", () => {
    const req = Request.get("/api/items?x=1", { headers: { a: "1" } });
    const rewritten = req.with({ target: "/items?x=1" });
    expect(rewritten.path).toBe("/items");
    expect(rewritten.method).toBe("GET");
    expect(rewritten.headers.get("a")).toBe("1");
    expect(rewritten.extensions).toBe(req.extensions);
    expect(() => req.with({ method: "B A D" })).toThrow(InvalidMethodError);
    expect(() => req.with({ target: "/bad path" })).toThrow(InvalidUriError);
  });
});

describe("Response", () => {
  it("text() sets the content type and a buffered body", async () => {
    const res = Response.text("hello");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.has("content-length")).toBe(false);
    expect(res.body.length).toBe(5);
    expect(res.body.bytesIfBuffered()).toBeDefined();
    expect(await res.body.text()).toBe("hello");
    expect(
      Response.text("x", { headers: { "Content-Type": "text/html" } }).headers.getAll("content-type"),
    ).toEqual(["text/html"]);
  });

  it("json(), empty(), redirect(), create()", async () => {
    const json = Response.json({ id: 7 }, { status: 201 });
    expect(json.status).toBe(201);
    expect(json.headers.get("content-type")).toBe("application/json");
    expect(await json.body.json()).toEqual({ id: 7 });

    const empty = Response.empty();
    expect(empty.status).toBe(204);
    expect(empty.body.length).toBe(0);
    expect(Response.empty(404).status).toBe(404);

    const redirect = Response.redirect("/login", 303);
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get("location")).toBe("/login");
    expect(() => Response.redirect("/x\r\nSet-Cookie: a=1")).toThrow(InvalidHeaderValueError);

    const created = Response.create({ status: 418, reason: "Short And Stout", body: "tea" });
    expect(created.reasonPhrase).toBe("Short And Stout");
    expect(created.headers.size).toBe(0);
    expect(await created.body.text()).toBe("tea");
    expect(Response.create().status).toBe(200);
    expect(new Response(404).reasonPhrase).toBe("Not Found");
    expect(new Response(599).reasonPhrase).toBe("");
  });

  it("validates the status and the reason phrase", () => {
    for (const status of [99, 1000, 200.5, Number.NaN]) {
      expect(() => new Response(status)).toThrow(InvalidStatusError);
    }
    expect(() => Response.text("x", { status: 1 })).toThrow(InvalidStatusError);
    expect(() => Response.create({ reason: "OK\r\nX: 1" })).toThrow(InvalidHeaderValueError);
  });

  it("a response for a request forks its extensions and takes its version", () => {
    const req = new Request(
      "GET",
      "/",
      new HeaderMap(),
      Body.empty(),
      "HTTP/2",
      new Extensions().insert(Tag, "request"),
    );
    const res = Response.text("ok", { request: req });
    expect(res.version).toBe("HTTP/2");
    expect(res.extensions.get(Tag)).toBe("request");
    res.extensions.insert(Tag, "response");
    expect(req.extensions.get(Tag)).toBe("request");
    expect(res.extensions.getAll(Tag)).toEqual(["request", "response"]);
    expect(Response.empty(204, { request: req }).extensions.parent).toBe(req.extensions);
  });

  it("withExtensions and with() copy, sharing the body", () => {
    const res = Response.text("x", { headers: { a: "1" } });
    const copy = forkInput(res);
    expect(copy).toBeInstanceOf(Response);
    expect(copy.body).toBe(res.body);
    copy.headers.set("a", "2");
    expect(res.headers.get("a")).toBe("1");
    const changed = res.with({ status: 202, reason: "Queued" });
    expect(changed.status).toBe(202);
    expect(changed.reasonPhrase).toBe("Queued");
    expect(changed.with({ reason: undefined }).reasonPhrase).toBe("Accepted");
  });
});

describe("Method", () => {
  it("any token is a method; case matters", () => {
    expect(Method.isValid("GET")).toBe(true);
    expect(Method.isValid("M-SEARCH")).toBe(true);
    expect(Method.isValid("GE T")).toBe(false);
    expect(Method.isValid("")).toBe(false);
    expect(() => Method.assert("G\r\nET")).toThrow(InvalidMethodError);
    expect(Method.isSafe("get")).toBe(false);
  });
  it("safe and idempotent methods per RFC 9110 9.2", () => {
    expect(["GET", "HEAD", "OPTIONS", "TRACE"].every((m) => Method.isSafe(m))).toBe(true);
    expect(["POST", "PUT", "DELETE", "PATCH", "CONNECT"].some((m) => Method.isSafe(m))).toBe(false);
    expect(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"].every((m) => Method.isIdempotent(m))).toBe(
      true,
    );
    expect(["POST", "PATCH", "CONNECT"].some((m) => Method.isIdempotent(m))).toBe(false);
  });
});

describe("Status", () => {
  it("knows the reason phrase of every RFC 9110 code", () => {
    const rfc9110 = [
      100, 101, 200, 201, 202, 203, 204, 205, 206, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403,
      404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426, 500, 501, 502, 503,
      504, 505,
    ];
    for (const code of rfc9110) expect(Status.reasonPhrase(code), String(code)).toMatch(/^[A-Z]/);
    expect(Status.reasonPhrase(413)).toBe("Content Too Large");
    expect(Status.reasonPhrase(422)).toBe("Unprocessable Content");
    expect(Status.reasonPhrase(429)).toBe("Too Many Requests");
    expect(Status.reasonPhrase(299)).toBeUndefined();
    expect(Status.NOT_FOUND).toBe(404);
  });
  it("classifies codes", () => {
    expect(Status.isInformational(103)).toBe(true);
    expect(Status.isSuccess(204)).toBe(true);
    expect(Status.isRedirection(304)).toBe(true);
    expect(Status.isRedirect(304)).toBe(false);
    expect([301, 302, 303, 307, 308].every((c) => Status.isRedirect(c))).toBe(true);
    expect(Status.isClientError(404) && Status.isError(404)).toBe(true);
    expect(Status.isServerError(503) && !Status.isClientError(503)).toBe(true);
    expect([101, 204, 304].some((c) => Status.allowsBody(c))).toBe(false);
    expect(Status.allowsBody(200)).toBe(true);
    expect(Status.isValid(999) && !Status.isValid(99)).toBe(true);
  });
});
