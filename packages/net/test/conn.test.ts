import { Extensions, forkInput, key } from "@tessera/core";
import { describe, expect, it } from "vitest";
import {
  Alpn,
  ConnectTarget,
  conn,
  connectRequest,
  Draining,
  ForwardBytes,
  InvalidAddressError,
  LocalAddr,
  memoryPair,
  PeerAddr,
  Sni,
} from "../src/index.js";

describe("conn", () => {
  it("carries a stream and extensions; withExtensions shares the stream, not the extensions", () => {
    const [stream] = memoryPair();
    const c = conn(stream);
    c.extensions.insert(Alpn, "h2");
    const copy = forkInput(c); // what a retry layer does with an input it does not know
    copy.extensions.insert(Sni, "example.com");
    expect(copy.stream).toBe(stream);
    expect(copy.extensions.get(Alpn)).toBe("h2");
    expect(c.extensions.get(Sni)).toBeUndefined();
    const wrapped = conn(stream, c.extensions); // a 1:1 wrap shares the extensions
    expect(wrapped.extensions).toBe(c.extensions);
  });
});

describe("connectRequest", () => {
  it("parses a string authority and keeps an object one", () => {
    expect(connectRequest("example.com:443").authority).toEqual({ host: "example.com", port: 443 });
    expect(connectRequest({ host: "::1", port: 80 }).authority).toEqual({ host: "::1", port: 80 });
    expect(() => connectRequest("example.com")).toThrow(InvalidAddressError);
  });

  it("forks like every input", () => {
    const Attempt = key<number>("test.Attempt");
    const request = connectRequest("a.example:1", new Extensions().insert(Attempt, 0));
    const retry = forkInput(request).extensions.insert(Attempt, 1);
    expect(retry.get(Attempt)).toBe(1);
    expect(request.extensions.get(Attempt)).toBe(0);
    expect(forkInput(request).authority).toBe(request.authority);
  });
});

describe("keys", () => {
  it("have global names, so two copies of the package agree on them", () => {
    const names = [PeerAddr, LocalAddr, ConnectTarget, Draining, ForwardBytes, Alpn, Sni].map((k) => k.name);
    expect(names).toEqual([
      "tessera.net.PeerAddr",
      "tessera.net.LocalAddr",
      "tessera.net.ConnectTarget",
      "tessera.net.Draining",
      "tessera.net.ForwardBytes",
      "tessera.net.Alpn",
      "tessera.net.Sni",
    ]);
    // A key made elsewhere with the same name reads the same value.
    const ext = new Extensions().insert(Alpn, "http/1.1");
    expect(ext.get(key<string>("tessera.net.Alpn"))).toBe("http/1.1");
  });
});
