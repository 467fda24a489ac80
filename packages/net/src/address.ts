import { isIPv4 as nodeIsIPv4, isIPv6 as nodeIsIPv6 } from "node:net";
import { domainToASCII } from "node:url";
import { type AddressErrorReason, InvalidAddressError } from "./errors.js";
import type { InetSocketAddress, SocketAddress } from "./keys.js";

/** A host and port to connect to. `host` is a lower-case name or an IP literal, without brackets. */
export interface Authority {
  readonly host: string;
  readonly port: number;
}

export interface PortOptions {
  /** Accept port 0 (as in "any free port" for a listener). Default: false, 0 is out of range. */
  readonly allowZero?: boolean;
}

export interface AuthorityOptions extends PortOptions {
  /** The port to use when the input has none (`"example.com"`). Without it a missing port is an error. */
  readonly defaultPort?: number;
}

/**
 * True for an IPv4 literal in dotted-quad form (`1.2.3.4`; no leading zeros, no shorthand).
 *
 * @example
 * ```ts
 * isIPv4("10.0.0.1"); // true
 * isIPv4("010.0.0.1"); // false: a leading zero means octal to some resolvers
 * ```
 */
export function isIPv4(input: string): boolean {
  return nodeIsIPv4(input);
}

/**
 * True for an IPv6 literal without brackets and without a zone id (`::1`, `2001:db8::1`, `::ffff:1.2.3.4`).
 *
 * @example
 * ```ts
 * isIPv6("::1"); // true
 * isIPv6("fe80::1%eth0"); // false: zone ids are not accepted
 * ```
 */
export function isIPv6(input: string): boolean {
  // Node accepts a zone id ("fe80::1%eth0"); a zone is local to one machine and means nothing in an authority.
  return !input.includes("%") && nodeIsIPv6(input);
}

/**
 * 4 or 6 for an IP literal (see {@link isIPv4}, {@link isIPv6}), 0 for anything else (a name).
 *
 * @example
 * ```ts
 * ipFamily("::1"); // 6
 * ipFamily("example.com"); // 0
 * ```
 */
export function ipFamily(input: string): 0 | 4 | 6 {
  if (isIPv4(input)) return 4;
  if (isIPv6(input)) return 6;
  return 0;
}

function fail(reason: AddressErrorReason, input: string, detail: string): never {
  throw new InvalidAddressError(reason, input, detail);
}

// Any Unicode white space (\s) or ASCII control character: never valid in a host or port, and the usual sign
// of a header value or config line that was not trimmed.
const WHITESPACE = /\s/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\x00-\x1f\x7f]/;

function checkText(input: string, whole: string): void {
  if (WHITESPACE.test(input)) fail("whitespace", whole, "contains white space");
  if (CONTROL.test(input)) fail("invalid-host", whole, "contains a control character");
}

/**
 * Parse a port: decimal digits only, 1-65535 (0 too with `allowZero`). A number is range-checked.
 *
 * @example
 * ```ts
 * parsePort("8080"); // 8080
 * parsePort("0x50"); // throws InvalidAddressError (reason "invalid-port")
 * ```
 */
export function parsePort(input: string | number, options?: PortOptions): number {
  return checkPort(input, String(input), options);
}

function checkPort(input: string | number, whole: string, options: PortOptions | undefined): number {
  let port: number;
  if (typeof input === "number") {
    if (!Number.isInteger(input)) fail("invalid-port", whole, "the port is not an integer");
    port = input;
  } else {
    if (input === "") fail("empty-port", whole, "the port is empty");
    checkText(input, whole);
    port = 0;
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i) - 48;
      // Digits only: Number() would also take "0x50", "1e3", "+80" and " 80".
      if (c < 0 || c > 9) fail("invalid-port", whole, "the port has a character that is not a digit");
      // Stop growing once out of range, so a thousand digits cannot lose precision and wrap into range.
      if (port <= 65535) port = port * 10 + c;
    }
  }
  if (port > 65535 || port < 0) fail("port-out-of-range", whole, "the port is not within 0-65535");
  if (port === 0 && options?.allowZero !== true)
    fail("port-out-of-range", whole, "port 0 is not allowed here");
  return port;
}

// Characters allowed in a host name once lower-cased: letters, digits, '-', '_' (seen in real names, e.g.
// SRV-style labels) and '.'. Everything else (`@`, `/`, `%`, `\`, ...) has smuggled requests to the wrong host.
const NAME_CHAR = /^[a-z0-9._-]+$/;
const HEX_NUMBER = /^0x[0-9a-f]*$/;
const DIGITS = /^[0-9]+$/;

function parseName(host: string, whole: string): string {
  if (host === "") fail("empty-host", whole, "the host is empty");
  let name = host.toLowerCase();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting non-ASCII text
  if (/[^\x00-\x7f]/.test(name)) {
    // An internationalized name: resolvers only take its ASCII (punycode) form.
    const ascii = domainToASCII(name);
    if (ascii === "") fail("invalid-host", whole, "the host is not a valid internationalized name");
    name = ascii;
  }
  if (!NAME_CHAR.test(name)) fail("invalid-host", whole, "the host has a character not allowed in a name");
  const labels = name.endsWith(".") ? name.slice(0, -1).split(".") : name.split(".");
  // A name whose last label is a number is an IPv4 address or nothing (as in the WHATWG URL standard):
  // resolvers accept "127.1", "0x7f.1" or "2130706433" as 127.0.0.1, a classic way around address filters.
  const last = labels[labels.length - 1] ?? "";
  if (DIGITS.test(last) || HEX_NUMBER.test(last)) {
    if (!isIPv4(name))
      fail("invalid-ipv4", whole, "the host looks like an IPv4 address but is not a valid one");
    return name;
  }
  if (name.length > 254 || (name.length > 253 && !name.endsWith("."))) {
    fail("invalid-host", whole, "the host name is longer than 253 characters");
  }
  for (const label of labels) {
    if (label === "") fail("invalid-host", whole, "the host name has an empty label");
    if (label.length > 63)
      fail("invalid-host", whole, "a label of the host name is longer than 63 characters");
  }
  return name;
}

function parseBracketed(inner: string, whole: string): string {
  if (inner === "") fail("empty-host", whole, "the brackets are empty");
  if (inner.includes("[")) fail("unexpected-bracket", whole, "a '[' inside brackets");
  if (inner.includes("%")) fail("zone-id", whole, "IPv6 zone ids are not supported in an address");
  if (!nodeIsIPv6(inner)) fail("invalid-ipv6", whole, "the bracketed host is not an IPv6 address");
  return inner.toLowerCase();
}

/**
 * Parse a host alone: a name (lower-cased, internationalized names converted to punycode), an IPv4 literal, or
 * an IPv6 literal with or without brackets. Returns the host without brackets.
 *
 * @example
 * ```ts
 * parseHost("Example.COM"); // "example.com"
 * parseHost("[::1]"); // "::1"
 * parseHost("127.1"); // throws InvalidAddressError (reason "invalid-ipv4")
 * ```
 */
export function parseHost(input: string): string {
  // A dotted-quad IPv4 literal (a proxy's usual target) is already in its one canonical form.
  if (nodeIsIPv4(input)) return input;
  if (input === "") fail("empty", input, "the input is empty");
  checkText(input, input);
  if (input.startsWith("[")) {
    if (!input.endsWith("]"))
      fail(input.includes("]") ? "unexpected-bracket" : "unclosed-bracket", input, "bad brackets");
    return parseBracketed(input.slice(1, -1), input);
  }
  if (input.includes("]") || input.includes("["))
    fail("unexpected-bracket", input, "a bracket outside an IPv6 literal");
  if (input.includes(":")) {
    if (input.includes("%") && nodeIsIPv6(input)) fail("zone-id", input, "IPv6 zone ids are not supported");
    if (!nodeIsIPv6(input)) fail("invalid-ipv6", input, "the host has ':' but is not an IPv6 address");
    return input.toLowerCase();
  }
  return parseName(input, input);
}

/**
 * Parse an authority: `host:port`, `[ipv6]:port`, or a host alone when `defaultPort` is given. IPv6 literals must
 * be bracketed (`::1:80` is ambiguous); zone ids, white space, empty parts, non-digit ports and ports out of
 * range are rejected with an {@link InvalidAddressError} whose `reason` says which.
 *
 * @example
 * ```ts
 * parseAuthority("example.com:443"); // { host: "example.com", port: 443 }
 * parseAuthority("[::1]:8080"); // { host: "::1", port: 8080 }
 * parseAuthority("1.2.3.4", { defaultPort: 80 }); // { host: "1.2.3.4", port: 80 }
 * ```
 */
export function parseAuthority(input: string, options?: AuthorityOptions): Authority {
  if (input === "") fail("empty", input, "the input is empty");
  checkText(input, input);
  let host: string;
  let portText: string | undefined;
  if (input.startsWith("[")) {
    const close = input.indexOf("]");
    if (close < 0) fail("unclosed-bracket", input, "'[' without a closing ']'");
    host = parseBracketed(input.slice(1, close), input);
    const rest = input.slice(close + 1);
    if (rest !== "") {
      if (rest[0] !== ":") fail("unexpected-bracket", input, "only ':port' may follow ']'");
      portText = rest.slice(1);
      if (portText.includes("[") || portText.includes("]"))
        fail("unexpected-bracket", input, "a bracket in the port");
    }
  } else {
    if (input.includes("[") || input.includes("]")) {
      fail("unexpected-bracket", input, "a bracket outside an IPv6 literal");
    }
    const colon = input.lastIndexOf(":");
    if (colon !== input.indexOf(":")) {
      // Two or more colons: an IPv6 literal without brackets (maybe followed by a port), or garbage.
      if (nodeIsIPv6(input) || nodeIsIPv6(input.slice(0, colon))) {
        fail("unbracketed-ipv6", input, "an IPv6 literal must be written in brackets, e.g. [::1]:80");
      }
      fail("invalid-host", input, "more than one ':' outside brackets");
    }
    if (colon >= 0) {
      portText = input.slice(colon + 1);
      if (colon === 0) fail("empty-host", input, "the host is empty");
      host = parseName(input.slice(0, colon), input);
    } else {
      host = parseName(input, input);
    }
  }
  let port: number;
  if (portText === undefined) {
    if (options?.defaultPort === undefined) fail("missing-port", input, "no port and no default port");
    port = checkPort(options.defaultPort, input, options);
  } else {
    port = checkPort(portText, input, options);
  }
  return { host, port };
}

/**
 * Make an {@link Authority} from a host and a port, validating both (see {@link parseHost}, {@link parsePort}).
 *
 * @example
 * ```ts
 * authority("[::1]", 443); // { host: "::1", port: 443 }
 * ```
 */
export function authority(host: string, port: number | string, options?: PortOptions): Authority {
  return { host: parseHost(host), port: parsePort(port, options) };
}

/**
 * A host as it is written in an authority: IPv6 literals in brackets.
 *
 * @example
 * ```ts
 * formatHost("::1"); // "[::1]"
 * ```
 */
export function formatHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/**
 * Format an authority as `host:port` (IPv6 in brackets).
 *
 * @example
 * ```ts
 * formatAuthority({ host: "::1", port: 8080 }); // "[::1]:8080"
 * ```
 */
export function formatAuthority(authority: Authority): string {
  return `${formatHost(authority.host)}:${authority.port}`;
}

/**
 * Format a socket address for logs: `1.2.3.4:80`, `[::1]:80`, or `unix:/run/app.sock`.
 *
 * @example
 * ```ts
 * formatSocketAddress({ family: "unix", path: "/run/app.sock" }); // "unix:/run/app.sock"
 * ```
 */
export function formatSocketAddress(address: SocketAddress): string {
  if (address.family === "unix") return `unix:${address.path}`;
  return formatAuthority(address);
}

const MAPPED_V4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/**
 * An IP socket address from what Node reports (`remoteAddress`, `remotePort`, ...). An IPv4-mapped IPv6 address
 * (`::ffff:1.2.3.4`, what a dual-stack listener reports for IPv4 clients) becomes plain IPv4, so one client has
 * one spelling whichever way the listener was bound.
 *
 * @example
 * ```ts
 * inetSocketAddress("::ffff:10.0.0.1", 5000); // { family: "IPv4", host: "10.0.0.1", port: 5000 }
 * ```
 */
export function inetSocketAddress(host: string, port: number): InetSocketAddress {
  const mapped = MAPPED_V4.exec(host);
  if (mapped !== null) return { family: "IPv4", host: mapped[1]!, port };
  return { family: host.includes(":") ? "IPv6" : "IPv4", host, port };
}
