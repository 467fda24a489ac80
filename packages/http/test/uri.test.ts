import { describe, expect, it } from "vitest";
import { InvalidUriError, parseAbsoluteUri, parseRequestTarget, type UriErrorReason } from "../src/index.js";

describe("request-target forms", () => {
  it("origin-form: path and query as sent", () => {
    const uri = parseRequestTarget("/a/b%20c?x=1&y=%2F");
    expect(uri.form).toBe("origin");
    expect(uri.path).toBe("/a/b%20c");
    expect(uri.query).toBe("x=1&y=%2F");
    expect(uri.scheme).toBeUndefined();
    expect(uri.host).toBeUndefined();
    expect(uri.pathAndQuery).toBe("/a/b%20c?x=1&y=%2F");
    expect(parseRequestTarget("/").path).toBe("/");
    expect(parseRequestTarget("/p?").query).toBe("");
    expect(parseRequestTarget("/p").query).toBeUndefined();
    expect(parseRequestTarget("//double").path).toBe("//double");
    expect(parseRequestTarget("/q?a=/b?c").query).toBe("a=/b?c");
  });

  it("absolute-form: scheme, authority, host, port (explicit or default), path, query", () => {
    const uri = parseRequestTarget("HTTP://Example.COM:8080/p?q=1", "GET");
    expect(uri).toMatchObject({
      form: "absolute",
      scheme: "http",
      authority: "Example.COM:8080",
      host: "example.com",
      port: 8080,
      path: "/p",
      query: "q=1",
    });
    expect(parseRequestTarget("https://example.com").port).toBe(443);
    expect(parseRequestTarget("https://example.com").path).toBe("/");
    expect(parseRequestTarget("http://example.com?x").query).toBe("x");
    expect(parseRequestTarget("http://example.com?x").path).toBe("/");
    expect(parseRequestTarget("http://[::1]:81/").host).toBe("::1");
    expect(parseRequestTarget("http://10.0.0.1/").port).toBe(80);
    expect(parseRequestTarget("ws://h/").port).toBe(80);
    expect(parseRequestTarget("foo://h/").port).toBeUndefined();
    expect(parseRequestTarget("foo://h:9/").port).toBe(9);
    expect(String(parseRequestTarget("http://h/x"))).toBe("http://h/x");
  });

  it("authority-form for CONNECT, port required", () => {
    const uri = parseRequestTarget("example.com:443", "CONNECT");
    expect(uri).toMatchObject({ form: "authority", host: "example.com", port: 443, path: "" });
    expect(parseRequestTarget("[2001:db8::1]:8443", "CONNECT").host).toBe("2001:db8::1");
    expect(parseRequestTarget("example.com:443").form).toBe("authority");
  });

  it("absolute-form for CONNECT too (HTTP/2 extended CONNECT)", () => {
    expect(parseRequestTarget("https://example.com/chat", "CONNECT").form).toBe("absolute");
  });

  it("asterisk-form for OPTIONS", () => {
    expect(parseRequestTarget("*", "OPTIONS")).toMatchObject({ form: "asterisk", path: "*" });
    expect(parseRequestTarget("*").form).toBe("asterisk");
  });
});

describe("bad targets are refused with a precise reason", () => {
  const cases: [string, string | undefined, UriErrorReason][] = [
    ["", undefined, "empty"],
    ["/a b", undefined, "whitespace"],
    ["/a\tb", undefined, "control-character"],
    ["/a\r\nHost: evil", undefined, "control-character"],
    ["/a\u0000", undefined, "control-character"],
    ["/a\u007f", undefined, "control-character"],
    ["/caf\u00e9", undefined, "non-ascii"],
    ["/😀", undefined, "non-ascii"],
    ["/a#frag", undefined, "fragment"],
    ["http://h/#f", undefined, "fragment"],
    ["/a%2", undefined, "bad-percent-encoding"],
    ["/a%zz", undefined, "bad-percent-encoding"],
    ["/a?b=%", undefined, "bad-percent-encoding"],
    ["/a%g0/b", undefined, "bad-percent-encoding"],
    ["/a\\..\\b", undefined, "invalid-character"],
    ["1http://h/", "GET", "invalid-scheme"],
    ["ht_tp://h/", "GET", "invalid-scheme"],
    ["http:/h/", "GET", "missing-authority"],
    ["mailto:x@y", "GET", "missing-authority"],
    ["http:///path", "GET", "missing-authority"],
    ["http://user:pass@h/", "GET", "userinfo"],
    ["http://trusted.com@evil.com/", "GET", "userinfo"],
    ["user@h:443", "CONNECT", "userinfo"],
    ["http://h:99999/", "GET", "invalid-authority"],
    ["http://h:x/", "GET", "invalid-authority"],
    ["http://h:/", "GET", "invalid-authority"],
    ["http://127.1/", "GET", "invalid-authority"],
    ["http://::1/", "GET", "invalid-authority"],
    ["http://a%41.com/", "GET", "invalid-authority"],
    ["example.com", "CONNECT", "invalid-authority"],
    ["example.com:443/x", "CONNECT", "invalid-authority"],
    ["/path", "CONNECT", "wrong-form"],
    ["*", "GET", "wrong-form"],
    ["example.com:443", "GET", "wrong-form"],
    ["relative/path", "GET", "wrong-form"],
    ["relative", undefined, "wrong-form"],
  ];
  for (const [target, method, reason] of cases) {
    it(`${JSON.stringify(target)}${method ? ` (${method})` : ""}: ${reason}`, () => {
      let error: unknown;
      try {
        parseRequestTarget(target, method);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidUriError);
      expect(error).toMatchObject({ code: "ERR_HTTP_INVALID_URI", reason, input: target, status: 400 });
    });
  }

  it("accepts characters real clients send unencoded in paths and queries", () => {
    expect(parseRequestTarget('/a|b{c}^"<>`[]').path).toBe('/a|b{c}^"<>`[]');
    expect(parseRequestTarget("/p?q=a\\b|c").query).toBe("q=a\\b|c");
    expect(parseRequestTarget("/p;x=1/@:!$&'()*+,=-._~").form).toBe("origin");
  });
});

describe("parseAbsoluteUri (what a client is given)", () => {
  it("parses absolute URIs", () => {
    expect(parseAbsoluteUri("https://api.example.com/v1?x=1")).toMatchObject({
      scheme: "https",
      host: "api.example.com",
      port: 443,
      path: "/v1",
      query: "x=1",
    });
  });
  it("refuses anything else", () => {
    expect(() => parseAbsoluteUri("/relative")).toThrow(InvalidUriError);
    expect(() => parseAbsoluteUri("example.com:80")).toThrow(InvalidUriError);
    expect(() => parseAbsoluteUri("")).toThrow(InvalidUriError);
    expect(() => parseAbsoluteUri("http://u@h/")).toThrow(InvalidUriError);
  });
});

describe("the one-pass origin-form parser agrees with the grammar for every character", () => {
  it("in the path and in the query, for char codes 0-0x17f", () => {
    for (let c = 0; c <= 0x17f; c++) {
      const ch = String.fromCharCode(c);
      const visible = c >= 0x21 && c <= 0x7e;
      const inPath = visible && ch !== "#" && ch !== "\\" && ch !== "%";
      const inQuery = visible && ch !== "#" && ch !== "%";
      const path = `/a${ch}b`;
      const query = `/a?b${ch}c`;
      if (inPath) expect(parseRequestTarget(path).pathAndQuery, path).toBe(path);
      else expect(() => parseRequestTarget(path), JSON.stringify(path)).toThrow(InvalidUriError);
      if (inQuery) expect(parseRequestTarget(query).query, query).toBe(`b${ch}c`);
      else expect(() => parseRequestTarget(query), JSON.stringify(query)).toThrow(InvalidUriError);
    }
    expect(parseRequestTarget("/a?b").path).toBe("/a");
    expect(parseRequestTarget("/%41%4a?%7E").query).toBe("%7E");
    expect(() => parseRequestTarget("/%4")).toThrow(InvalidUriError);
  });
});
