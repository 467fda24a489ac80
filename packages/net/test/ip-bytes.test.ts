import { describe, expect, it } from "vitest";
import { formatIpv4, formatIpv6, ipv4Bytes, ipv6Bytes } from "../src/index.js";

describe("IP addresses as bytes", () => {
  it("IPv4 both ways, and refuses what is not a strict dotted quad", () => {
    expect(ipv4Bytes("192.0.2.1")).toEqual(Buffer.from([192, 0, 2, 1]));
    for (const ip of ["0.0.0.0", "255.255.255.255", "10.0.0.1", "1.22.3.99", "100.64.200.7"])
      expect(formatIpv4(ipv4Bytes(ip)!)).toBe(ip);
    expect(formatIpv4(Buffer.from([9, 9, 192, 0, 2, 1]), 2)).toBe("192.0.2.1");
    for (const bad of ["1.2.3", "1.2.3.256", "01.2.3.4", "::1", "a.b.c.d", ""])
      expect(ipv4Bytes(bad)).toBeUndefined();
  });

  it.each([
    ["::", "00000000000000000000000000000000", "::"],
    ["::1", "00000000000000000000000000000001", "::1"],
    ["1::", "00010000000000000000000000000000", "1::"],
    ["2001:DB8::8:800:200C:417A", "20010db8000000000008080020 0c417a", "2001:db8::8:800:200c:417a"],
    ["2001:db8:0:0:1:0:0:1", "20010db8000000000001000000000001", "2001:db8::1:0:0:1"],
    ["2001:0:0:1:0:0:0:1", "20010000000000010000000000000001", "2001:0:0:1::1"],
    ["1:2:3:4:5:6:7:8", "00010002000300040005000600070008", "1:2:3:4:5:6:7:8"],
    ["1:0:3:4:5:6:7:8", "00010000000300040005000600070008", "1:0:3:4:5:6:7:8"],
    ["::ffff:192.0.2.1", "00000000000000000000ffffc0000201", "::ffff:192.0.2.1"],
    ["64:ff9b::192.0.2.1", "0064ff9b0000000000000000c0000201", "64:ff9b::c000:201"],
  ])("%s is %s, written back as %s (RFC 5952)", (text, hex, canonical) => {
    const bytes = ipv6Bytes(text);
    expect(bytes).toEqual(Buffer.from(hex.replace(/ /g, ""), "hex"));
    expect(formatIpv6(bytes!)).toBe(canonical);
    expect(ipv6Bytes(canonical)).toEqual(bytes);
  });

  it("refuses what is not an IPv6 literal", () => {
    for (const bad of [
      "1.2.3.4",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "fe80::1%eth0",
      "[::1]",
      "12345::",
      "::g",
      "",
    ]) {
      expect(ipv6Bytes(bad)).toBeUndefined();
    }
  });
});
