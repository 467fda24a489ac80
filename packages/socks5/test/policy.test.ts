import { type Conn, memoryConnPair } from "@tessera/net";
import { describe, expect, it } from "vitest";
import {
  isPublicAddress,
  publicAddressLookup,
  publicTargetsOnly,
  Socks5NotAllowedError,
  type Socks5PolicyRequest,
} from "../src/index.js";

describe("public-only policy", () => {
  it("isPublicAddress: loopback, private, link-local, CGNAT, multicast, documentation, names, and IPv6 forms carrying such IPv4 addresses are not public", () => {
    for (const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.1.1",
      "100.64.0.1",
      "0.0.0.0",
    ]) {
      expect(isPublicAddress(ip)).toBe(false);
    }
    for (const ip of [
      "::1",
      "::",
      "fc00::1",
      "fe80::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
      "::ffff:7f00:1",
      // IPv4-compatible (deprecated) and 6to4 addresses carrying a loopback or private IPv4 address.
      "::127.0.0.1",
      "::7f00:1",
      "::10.0.0.1",
      "2002:7f00:1::",
      "2002:c0a8:101::1",
      // NAT64 (well-known and local-use), Teredo, discard-only, documentation.
      "64:ff9b::7f00:1",
      "64:ff9b:1::1",
      "2001::1",
      "100::1",
      "2001:db8::1",
    ]) {
      expect(isPublicAddress(ip)).toBe(false);
    }
    expect(isPublicAddress("localhost")).toBe(false);
    for (const ip of ["192.0.2.1", "198.51.100.1", "203.0.113.1"]) {
      expect(isPublicAddress(ip)).toBe(false);
    }
    // 6to4 with a public IPv4 address inside is judged by that address.
    for (const ip of ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1"]) {
      expect(isPublicAddress(ip)).toBe(true);
    }
  });

  it("publicTargetsOnly judges CONNECT and UDP destinations, not BIND or UDP ASSOCIATE", async () => {
    const conn: Conn = memoryConnPair()[1];
    const ask = (command: Socks5PolicyRequest["command"], host: string) =>
      publicTargetsOnly().serve({ command, target: { host, port: 80 }, conn });
    expect(await ask("connect", "127.0.0.1")).toBe(false);
    expect(await ask("udp", "192.168.0.1")).toBe(false);
    expect(await ask("connect", "8.8.8.8")).toBe(true);
    expect(await ask("connect", "example.test")).toBe(true); // names: see publicAddressLookup
    expect(await ask("bind", "0.0.0.0")).toBe(true);
    expect(await ask("udp-associate", "0.0.0.0")).toBe(true);
  });

  it("publicAddressLookup drops private addresses and refuses a name that has only those", async () => {
    const lookup = publicAddressLookup(async (name) =>
      name === "mixed.test"
        ? [
            { address: "10.0.0.1", family: 4 },
            { address: "8.8.8.8", family: 4 },
          ]
        : [{ address: "127.0.0.1", family: 4 }],
    );
    expect(await lookup("mixed.test")).toEqual([{ address: "8.8.8.8", family: 4 }]);
    await expect(lookup("localhost")).rejects.toBeInstanceOf(Socks5NotAllowedError);
  });
});
