import { describe, expect, it } from "vitest";
import {
  type AddressErrorReason,
  authority,
  formatAuthority,
  formatHost,
  formatSocketAddress,
  InvalidAddressError,
  inetSocketAddress,
  ipFamily,
  isIPv4,
  isIPv6,
  parseAuthority,
  parseHost,
  parsePort,
} from "../src/index.js";

function reasonOf(fn: () => unknown): AddressErrorReason | "no error" {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidAddressError);
    expect((error as InvalidAddressError).code).toBe("ERR_NET_INVALID_ADDRESS");
    return (error as InvalidAddressError).reason;
  }
  return "no error";
}

describe("parseAuthority accepts", () => {
  it.each([
    ["example.com:443", undefined, { host: "example.com", port: 443 }],
    ["Example.COM:80", undefined, { host: "example.com", port: 80 }],
    ["example.com.:80", undefined, { host: "example.com.", port: 80 }],
    ["[::1]:8080", undefined, { host: "::1", port: 8080 }],
    ["[2001:DB8::1]:1", undefined, { host: "2001:db8::1", port: 1 }],
    ["[::ffff:1.2.3.4]:65535", undefined, { host: "::ffff:1.2.3.4", port: 65535 }],
    ["1.2.3.4", { defaultPort: 80 }, { host: "1.2.3.4", port: 80 }],
    ["1.2.3.4:0080", undefined, { host: "1.2.3.4", port: 80 }],
    ["[::1]", { defaultPort: 443 }, { host: "::1", port: 443 }],
    ["localhost:0", { allowZero: true }, { host: "localhost", port: 0 }],
    ["under_score.example:25", undefined, { host: "under_score.example", port: 25 }],
    ["bücher.example:80", undefined, { host: "xn--bcher-kva.example", port: 80 }],
    ["a-b.c-d:1", undefined, { host: "a-b.c-d", port: 1 }],
  ] as const)("%s", (input, options, expected) => {
    expect(parseAuthority(input, options)).toEqual(expected);
  });
});

describe("parseAuthority rejects", () => {
  it.each([
    ["", "empty"],
    [":443", "empty-host"],
    ["[]:80", "empty-host"],
    ["example.com", "missing-port"],
    ["example.com:", "empty-port"],
    ["example.com:http", "invalid-port"],
    ["example.com:+80", "invalid-port"],
    ["example.com:-1", "invalid-port"],
    ["example.com:0x50", "invalid-port"],
    ["example.com:8.0", "invalid-port"],
    ["example.com:65536", "port-out-of-range"],
    ["example.com:99999999999999999999999", "port-out-of-range"],
    ["example.com:0", "port-out-of-range"],
    [" example.com:80", "whitespace"],
    ["example.com:80 ", "whitespace"],
    ["exa mple.com:80", "whitespace"],
    ["example.com:\t80", "whitespace"],
    ["example.com\r\n:80", "whitespace"],
    ["example.com\u00a0:80", "whitespace"],
    ["exa\u0000mple.com:80", "invalid-host"],
    ["[::1", "unclosed-bracket"],
    ["[::1:80", "unclosed-bracket"],
    ["::1]:80", "unexpected-bracket"],
    ["[::1]80", "unexpected-bracket"],
    ["[::1]:[80]", "unexpected-bracket"],
    ["a[b]:80", "unexpected-bracket"],
    ["[[::1]]:80", "unexpected-bracket"],
    ["[fe80::1%eth0]:80", "zone-id"],
    ["[fe80::1%25eth0]:80", "zone-id"],
    ["[1.2.3.4]:80", "invalid-ipv6"],
    ["[zz::1]:80", "invalid-ipv6"],
    ["[example.com]:80", "invalid-ipv6"],
    ["::1", "unbracketed-ipv6"],
    ["::1:8080", "unbracketed-ipv6"],
    ["2001:db8::1:443", "unbracketed-ipv6"],
    ["a:b:c", "invalid-host"],
    ["user@example.com:80", "invalid-host"],
    ["example.com/path:80", "invalid-host"],
    ["exa%41mple.com:80", "invalid-host"],
    ["a..b:80", "invalid-host"],
    [".example.com:80", "invalid-host"],
    [`${"a".repeat(64)}.example:80`, "invalid-host"],
    [`${"abcdefghi.".repeat(26)}com:80`, "invalid-host"],
    ["256.1.1.1:80", "invalid-ipv4"],
    ["1.2.3:80", "invalid-ipv4"],
    ["127.1:80", "invalid-ipv4"],
    ["01.2.3.4:80", "invalid-ipv4"],
    ["0x7f.0.0.1:80", "invalid-ipv4"],
    ["2130706433:80", "invalid-ipv4"],
    ["example.123:80", "invalid-ipv4"],
  ] as const)("%j as %s", (input, reason) => {
    expect(reasonOf(() => parseAuthority(input))).toBe(reason);
  });

  it("says what was wrong and keeps the input", () => {
    try {
      parseAuthority("example.com:99999");
      expect.unreachable();
    } catch (error) {
      const e = error as InvalidAddressError;
      expect(e.input).toBe("example.com:99999");
      expect(e.message).toContain("example.com:99999");
      expect(e.message).toContain("0-65535");
      expect(e).toBeInstanceOf(InvalidAddressError);
    }
  });
});

describe("parsePort", () => {
  it.each([
    ["80", 80],
    ["65535", 65535],
    ["00001", 1],
    [443, 443],
  ] as const)("accepts %j", (input, port) => {
    expect(parsePort(input)).toBe(port);
  });

  it.each([
    ["", "empty-port"],
    ["8o", "invalid-port"],
    [" 80", "whitespace"],
    ["1e3", "invalid-port"],
    [80.5, "invalid-port"],
    [Number.NaN, "invalid-port"],
    [-1, "port-out-of-range"],
    [65536, "port-out-of-range"],
    [0, "port-out-of-range"],
    ["0", "port-out-of-range"],
  ] as const)("rejects %j as %s", (input, reason) => {
    expect(reasonOf(() => parsePort(input))).toBe(reason);
  });

  it("accepts 0 only when allowed", () => {
    expect(parsePort(0, { allowZero: true })).toBe(0);
    expect(parsePort("0", { allowZero: true })).toBe(0);
  });
});

describe("parseHost", () => {
  it.each([
    ["EXAMPLE.com", "example.com"],
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["FE80::1", "fe80::1"],
    ["10.0.0.1", "10.0.0.1"],
  ])("accepts %s", (input, host) => {
    expect(parseHost(input)).toBe(host);
  });

  it.each([
    ["", "empty"],
    ["fe80::1%eth0", "zone-id"],
    ["[fe80::1%eth0]", "zone-id"],
    ["[::1", "unclosed-bracket"],
    ["[::1]x", "unexpected-bracket"],
    ["::1]", "unexpected-bracket"],
    ["1:2", "invalid-ipv6"],
    ["host name", "whitespace"],
    ["999.0.0.1", "invalid-ipv4"],
  ] as const)("rejects %j as %s", (input, reason) => {
    expect(reasonOf(() => parseHost(input))).toBe(reason);
  });
});

describe("IP literal detection", () => {
  it.each([
    ["1.2.3.4", 4],
    ["255.255.255.255", 4],
    ["::", 6],
    ["::1", 6],
    ["2001:db8::8a2e:370:7334", 6],
    ["::ffff:10.0.0.1", 6],
    ["fe80::1%eth0", 0],
    ["01.2.3.4", 0],
    ["1.2.3", 0],
    ["example.com", 0],
    ["[::1]", 0],
    ["", 0],
  ] as const)("%s is family %i", (input, family) => {
    expect(ipFamily(input)).toBe(family);
    expect(isIPv4(input)).toBe(family === 4);
    expect(isIPv6(input)).toBe(family === 6);
  });
});

describe("formatting", () => {
  it("brackets IPv6 and round-trips through parseAuthority", () => {
    for (const text of ["example.com:443", "[::1]:8080", "1.2.3.4:80", "[2001:db8::1]:1"]) {
      expect(formatAuthority(parseAuthority(text))).toBe(text);
    }
    expect(formatHost("::1")).toBe("[::1]");
    expect(formatHost("[::1]")).toBe("[::1]");
    expect(formatHost("example.com")).toBe("example.com");
  });

  it("formats socket addresses of every family", () => {
    expect(formatSocketAddress({ family: "IPv4", host: "1.2.3.4", port: 80 })).toBe("1.2.3.4:80");
    expect(formatSocketAddress({ family: "IPv6", host: "::1", port: 80 })).toBe("[::1]:80");
    expect(formatSocketAddress({ family: "unix", path: "/run/x.sock" })).toBe("unix:/run/x.sock");
  });

  it("reports IPv4-mapped IPv6 addresses as IPv4", () => {
    expect(inetSocketAddress("::ffff:10.0.0.1", 5)).toEqual({ family: "IPv4", host: "10.0.0.1", port: 5 });
    expect(inetSocketAddress("::1", 5)).toEqual({ family: "IPv6", host: "::1", port: 5 });
    expect(inetSocketAddress("10.0.0.1", 5)).toEqual({ family: "IPv4", host: "10.0.0.1", port: 5 });
  });

  it("authority() validates host and port", () => {
    expect(authority("[::1]", "443")).toEqual({ host: "::1", port: 443 });
    expect(reasonOf(() => authority("example.com", 70000))).toBe("port-out-of-range");
    expect(reasonOf(() => authority("", 80))).toBe("empty");
  });
});
