import { Extensions, stack } from "@tessera/core";
import { PeerAddr, type SocketAddress } from "@tessera/net";
import { describe, expect, it } from "vitest";
import {
  appendForwarded,
  ClientAddr,
  type ClientAddress,
  forwarded,
  forwardedClient,
  trustList,
} from "../../src/layers/forwarded/index.js";
import { inCidr, ipBytes, parseCidr } from "../../src/layers/forwarded/ip.js";
import { handler, request } from "./helpers.js";

function peer(host: string, port = 40000): SocketAddress {
  return { family: host.includes(":") ? "IPv6" : "IPv4", host, port };
}

function from(address: SocketAddress | undefined, headers: Record<string, string> = {}) {
  const extensions = new Extensions();
  if (address !== undefined) extensions.insert(PeerAddr, address);
  return request({ headers, extensions });
}

async function client(
  trust: readonly string[],
  address: SocketAddress | undefined,
  headers: Record<string, string> = {},
  which?: "forwarded" | "x-forwarded" | "both",
): Promise<ClientAddress | undefined> {
  const req = from(address, headers);
  await stack(forwarded({ trust, headers: which }))
    .into(handler())
    .serve(req);
  return req.extensions.get(ClientAddr);
}

describe("forwarded: trust", () => {
  it("parses CIDR ranges for both families, IPv4-mapped IPv6 included", () => {
    const ten = parseCidr("10.0.0.0/8");
    expect(inCidr(ipBytes("10.255.1.2")!, ten)).toBe(true);
    expect(inCidr(ipBytes("11.0.0.1")!, ten)).toBe(false);
    expect(inCidr(ipBytes("::ffff:10.1.2.3")!, ten)).toBe(true);
    const v6 = parseCidr("2001:db8::/33");
    expect(inCidr(ipBytes("2001:db8:7fff::1")!, v6)).toBe(true);
    expect(inCidr(ipBytes("2001:db8:8000::1")!, v6)).toBe(false);
    expect(inCidr(ipBytes("172.31.255.255")!, parseCidr("172.16.0.0/12"))).toBe(true);
    expect(inCidr(ipBytes("172.32.0.0")!, parseCidr("172.16.0.0/12"))).toBe(false);
    expect(inCidr(ipBytes("1.2.3.4")!, parseCidr("0.0.0.0/0"))).toBe(true);
    expect(inCidr(ipBytes("::1")!, parseCidr("::1"))).toBe(true);
    expect(ipBytes("example.com")).toBeUndefined();
    expect(() => parseCidr("10.0.0.0/33")).toThrow(TypeError);
    expect(() => parseCidr("nonsense")).toThrow(TypeError);
    expect(() => trustList(["constructor"])).toThrow(TypeError);
  });

  it("trust lists know loopback, private, linklocal and unix", () => {
    const t = trustList(["loopback", "private", "unix"]);
    expect(t(peer("127.0.0.1"))).toBe(true);
    expect(t(peer("::1"))).toBe(true);
    expect(t(peer("192.168.1.1"))).toBe(true);
    expect(t(peer("fd12::1"))).toBe(true);
    expect(t(peer("8.8.8.8"))).toBe(false);
    expect(t({ family: "unix", path: "" })).toBe(true);
    expect(trustList(["linklocal"])(peer("169.254.0.9"))).toBe(true);
    expect(trustList([])({ family: "unix", path: "" })).toBe(false);
  });
});

describe("forwarded: reading", () => {
  it("an untrusted peer is the client, whatever it claims", async () => {
    const c = await client(["10.0.0.0/8"], peer("203.0.113.9", 1234), {
      "x-forwarded-for": "1.1.1.1",
      forwarded: "for=1.1.1.1",
    });
    expect(c).toEqual({
      address: "203.0.113.9",
      port: 1234,
      proto: undefined,
      host: undefined,
      forwarded: false,
    });
  });

  it("no PeerAddr, no ClientAddr", async () => {
    expect(await client(["0.0.0.0/0"], undefined, { "x-forwarded-for": "1.1.1.1" })).toBeUndefined();
  });

  it("takes the rightmost untrusted X-Forwarded-For entry, ignoring what the client prepended", async () => {
    const c = await client(["10.0.0.0/8"], peer("10.0.0.2"), {
      "x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.0.0.5",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "example.com",
    });
    expect(c).toEqual({
      address: "203.0.113.7",
      port: undefined,
      proto: "https",
      host: "example.com",
      forwarded: true,
    });
  });

  it("aligns X-Forwarded-Proto with the chosen hop when the lists have the same length", async () => {
    const c = await client(["10.0.0.0/8"], peer("10.0.0.2"), {
      "x-forwarded-for": "203.0.113.7, 10.0.0.5",
      "x-forwarded-proto": "https, http",
    });
    expect(c?.proto).toBe("https");
  });

  it("walks past trusted hops (all trusted: the leftmost); ports and IPv6 are understood", async () => {
    const c = await client(["private", "loopback"], peer("127.0.0.1"), {
      "x-forwarded-for": "[2001:db8::7]:5555, 10.1.1.1:80, 192.168.0.1",
    });
    const mid = await client(["loopback", "192.168.0.0/16"], peer("127.0.0.1"), {
      "x-forwarded-for": "[2001:db8::7]:5555, 10.1.1.1:80, 192.168.0.1",
    });
    expect(c).toMatchObject({ address: "2001:db8::7", port: 5555 });
    expect(mid).toMatchObject({ address: "10.1.1.1", port: 80 });
    const bare = await client(["loopback"], peer("127.0.0.1"), { "x-forwarded-for": "2001:DB8::7" });
    expect(bare?.address).toBe("2001:db8::7");
    const left = await client(["private", "loopback"], peer("127.0.0.1"), { "x-forwarded-for": "10.9.9.9" });
    expect(left?.address).toBe("10.9.9.9");
  });

  it("reads RFC 7239 Forwarded with quoted IPv6, ports, proto and host from the client's element", async () => {
    const c = await client(["10.0.0.0/8"], peer("10.0.0.2"), {
      forwarded:
        'for=6.6.6.6;proto=http, for="[2001:db8:cafe::17]:4711";proto=https;host="example.com:8443", for=10.0.0.5',
    });
    expect(c).toEqual({
      address: "2001:db8:cafe::17",
      port: 4711,
      proto: "https",
      host: "example.com:8443",
      forwarded: true,
    });
  });

  it("Forwarded wins over X-Forwarded-For with 'both'; each can be chosen alone", async () => {
    const headers = { forwarded: "for=198.51.100.1", "x-forwarded-for": "198.51.100.2" };
    expect((await client(["loopback"], peer("127.0.0.1"), headers))?.address).toBe("198.51.100.1");
    expect((await client(["loopback"], peer("127.0.0.1"), headers, "x-forwarded"))?.address).toBe(
      "198.51.100.2",
    );
    const onlyXff = { "x-forwarded-for": "198.51.100.2" };
    expect((await client(["loopback"], peer("127.0.0.1"), onlyXff, "forwarded"))?.address).toBe("127.0.0.1");
  });

  it("stops at unknown, obfuscated or malformed hops", async () => {
    const obfuscated = await client(["loopback"], peer("127.0.0.1"), {
      forwarded: "for=1.2.3.4, for=_hidden",
    });
    expect(obfuscated?.address).toBe("_hidden");
    const unknown = await client(["loopback"], peer("127.0.0.1"), { "x-forwarded-for": "1.2.3.4, unknown" });
    expect(unknown?.address).toBe("unknown");
    const malformed = await client(["loopback"], peer("127.0.0.1"), { forwarded: "for=1.2.3.4, for" });
    expect(malformed?.address).toBe("unknown");
    const repeated = await client(["loopback"], peer("127.0.0.1"), { forwarded: "for=1.2.3.4;for=5.6.7.8" });
    expect(repeated?.address).toBe("unknown");
    const junk = await client(["loopback"], peer("127.0.0.1"), { "x-forwarded-for": "not an ip" });
    expect(junk?.address).toBe("unknown");
  });

  it("ignores a bad proto or host, and takes them from a trusted peer without X-Forwarded-For", async () => {
    const bad = await client(["loopback"], peer("127.0.0.1"), {
      "x-forwarded-for": "1.2.3.4",
      "x-forwarded-proto": "ht tp",
      "x-forwarded-host": "evil.com/<script>",
    });
    expect(bad?.proto).toBeUndefined();
    expect(bad?.host).toBeUndefined();
    const noXff = await client(["loopback"], peer("127.0.0.1"), { "x-forwarded-proto": "HTTPS" });
    expect(noXff).toMatchObject({ address: "127.0.0.1", proto: "https", forwarded: false });
  });

  it("a predicate decides trust too, and a Unix peer is 'unix'", async () => {
    const req = from(peer("192.0.2.1"), { "x-forwarded-for": "198.51.100.9" });
    expect(forwardedClient(req, (a) => a.family === "IPv4" && a.host === "192.0.2.1")?.address).toBe(
      "198.51.100.9",
    );
    const unix = from({ family: "unix", path: "" }, { "x-forwarded-for": "198.51.100.9" });
    expect(forwardedClient(unix, trustList([]))?.address).toBe("unix");
    expect(forwardedClient(unix, trustList(["unix"]))?.address).toBe("198.51.100.9");
  });
});

describe("appendForwarded", () => {
  it("appends this hop to both headers and sets proto and host when absent", async () => {
    const inner = handler();
    const svc = stack(appendForwarded({ by: "_edge" })).into(inner);
    const req = request({
      target: "https://example.com/x",
      extensions: new Extensions().insert(PeerAddr, peer("2001:db8::1")),
      headers: { "x-forwarded-for": "203.0.113.1", forwarded: "for=203.0.113.1" },
    });
    await svc.serve(req);
    const h = inner.seen[0]!.headers;
    expect(h.get("x-forwarded-for")).toBe("203.0.113.1, 2001:db8::1");
    expect(h.getAll("forwarded")).toEqual([
      "for=203.0.113.1",
      'for="[2001:db8::1]";by=_edge;host=example.com;proto=https',
    ]);
    expect(h.get("x-forwarded-proto")).toBe("https");
    expect(h.get("x-forwarded-host")).toBe("example.com");
  });

  it("with replace, drops what the client sent; without a peer the hop is unknown", async () => {
    const inner = handler();
    const svc = stack(appendForwarded({ replace: true, proto: "https", headers: "x-forwarded" })).into(inner);
    await svc.serve(
      request({
        headers: { host: "example.com:8443", "x-forwarded-for": "6.6.6.6", "x-forwarded-proto": "gopher" },
      }),
    );
    const h = inner.seen[0]!.headers;
    expect(h.get("x-forwarded-for")).toBe("unknown");
    expect(h.get("x-forwarded-proto")).toBe("https");
    expect(h.get("x-forwarded-host")).toBe("example.com:8443");
    expect(h.has("forwarded")).toBe(false);
  });

  it("round-trips: what a proxy appends, a server behind it reads", async () => {
    const edge = stack(appendForwarded({ replace: true, proto: "https" })).into(handler());
    const req = request({
      headers: { host: "shop.test" },
      extensions: new Extensions().insert(PeerAddr, peer("198.51.100.23")),
    });
    await edge.serve(req);
    // The upstream server sees the proxy (10.0.0.3) as its peer.
    const upstream = from(peer("10.0.0.3"), Object.fromEntries(req.headers));
    expect(forwardedClient(upstream, trustList(["10.0.0.0/8"]))).toEqual({
      address: "198.51.100.23",
      port: undefined,
      proto: "https",
      host: "shop.test",
      forwarded: true,
    });
  });

  it("checks its options", () => {
    expect(() => appendForwarded({ by: "not valid" })).toThrow(TypeError);
    expect(() => forwarded({ trust: [], headers: "x" as "both" })).toThrow(TypeError);
  });
});
