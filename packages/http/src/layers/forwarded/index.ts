import { type Key, key, type Service } from "@tessera/core";
import { isIPv4, isIPv6, PeerAddr, type SocketAddress } from "@tessera/net";
import type { HeaderMap } from "../../header-map.js";
import type { Request } from "../../request.js";
import type { Response } from "../../response.js";
import { type HttpLayer, httpLayer } from "../internal/http-layer.js";
import { trustList } from "./ip.js";

export { trustList } from "./ip.js";

/** Who the client is, as {@link forwarded} worked it out. */
export interface ClientAddress {
  /**
   * The client's IP address (no brackets), or what a trusted proxy wrote instead of one: `"unknown"` or an
   * obfuscated identifier (`"_hidden"`, RFC 7239 6.3). `"unix"` for an untrusted peer on a Unix socket.
   */
  readonly address: string;
  /** The client's port, when known. */
  readonly port: number | undefined;
  /** The protocol the client used (`"https"`), when a trusted proxy said. */
  readonly proto: string | undefined;
  /** The Host the client asked for, when a trusted proxy said. */
  readonly host: string | undefined;
  /** True when this came from a forwarding header, false when it is the connection's peer itself. */
  readonly forwarded: boolean;
}

/** The original client of a request, on its extensions (set by {@link forwarded}). */
export const ClientAddr: Key<ClientAddress> = key<ClientAddress>("tessera.http.ClientAddr");

/** Which headers to read or write: RFC 7239 `Forwarded`, the de-facto `X-Forwarded-*`, or both. */
export type ForwardedHeaders = "forwarded" | "x-forwarded" | "both";

/** Who is trusted to say who the client is: a list for {@link trustList}, or a predicate. */
export type ForwardedTrust = readonly string[] | ((address: SocketAddress) => boolean);

/** Options of {@link forwarded}. */
export interface ForwardedOptions {
  /**
   * The proxies whose forwarding headers are believed: CIDR ranges, single addresses, `"loopback"`,
   * `"private"`, `"linklocal"`, `"unix"` (see {@link trustList}), or a predicate over the address. The
   * connection's peer (`PeerAddr` from `@tessera/net`) must be trusted for any header to be read at all.
   */
  readonly trust: ForwardedTrust;
  /** Which headers to read. With `both`, `Forwarded` wins when present. Default `both`. */
  readonly headers?: ForwardedHeaders;
}

/**
 * Server side, behind proxies: work out the original client from `Forwarded` (RFC 7239) or
 * `X-Forwarded-For`/`-Proto`/`-Host`, believing only trusted hops, and put it on the request's extensions as
 * {@link ClientAddr}.
 *
 * The headers are read only when the connection's peer is trusted. Then the hops are walked from the nearest
 * (rightmost) back: each trusted proxy's entry says who connected to it, and the first address that is not a
 * trusted proxy is the client (anything further left was written by the client itself and is ignored). With
 * an untrusted peer, or no header, the client is the peer. Requests whose connection has no `PeerAddr` get no
 * `ClientAddr`. `proto` and `host` come from the same `Forwarded` element as the client; with
 * `X-Forwarded-Proto`/`-Host`, from the entry at the same position when the lists line up, else the nearest.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { ClientAddr, forwarded } from "@tessera/http/forwarded";
 *
 * // Behind a load balancer in 10.0.0.0/8:
 * const app = stack(forwarded({ trust: ["10.0.0.0/8", "loopback"] })).into(
 *   service((req: Request) => Response.text(`hello ${req.extensions.get(ClientAddr)?.address}`)),
 * );
 * ```
 */
export function forwarded(options: ForwardedOptions): HttpLayer {
  const trust = typeof options.trust === "function" ? options.trust : trustList(options.trust);
  const which = options.headers ?? "both";
  checkHeaders(which);
  return httpLayer((inner) => ({
    serve(req: Request): Promise<Response> {
      let client: ClientAddress | undefined;
      try {
        client = forwardedClient(req, trust, which);
      } catch (error) {
        return Promise.reject(error);
      }
      if (client !== undefined) req.extensions.insert(ClientAddr, client);
      return inner.serve(req);
    },
  }));
}

/**
 * The client of `req` as {@link forwarded} sees it (undefined without a `PeerAddr`): for code that wants the
 * answer without the layer.
 *
 * @example
 * ```ts
 * forwardedClient(req, trustList(["loopback"])); // { address: "203.0.113.7", forwarded: true, ... }
 * ```
 */
export function forwardedClient(
  req: Request,
  trust: (address: SocketAddress) => boolean,
  which: ForwardedHeaders = "both",
): ClientAddress | undefined {
  const peer = req.extensions.get(PeerAddr);
  if (peer === undefined) return undefined;
  const self: ClientAddress =
    peer.family === "unix"
      ? { address: "unix", port: undefined, proto: undefined, host: undefined, forwarded: false }
      : { address: peer.host, port: peer.port, proto: undefined, host: undefined, forwarded: false };
  if (!trust(peer)) return self;
  const headers = req.headers;
  if (which !== "x-forwarded") {
    const value = headers.get("forwarded");
    if (value !== undefined) return fromForwarded(value, trust) ?? self;
    if (which === "forwarded") return self;
  }
  return fromXForwarded(headers, trust, self) ?? self;
}

interface Hop {
  readonly address: string;
  readonly port: number | undefined;
  readonly ip: boolean;
}

// Walk the hops from the nearest back: the index of the client's entry.
function pick(hops: readonly Hop[], trust: (address: SocketAddress) => boolean): number {
  for (let i = hops.length - 1; i > 0; i--) {
    const hop = hops[i]!;
    if (!hop.ip) return i;
    const family = isIPv4(hop.address) ? "IPv4" : "IPv6";
    if (!trust({ family, host: hop.address, port: hop.port ?? 0 })) return i;
  }
  return 0;
}

function fromForwarded(value: string, trust: (address: SocketAddress) => boolean): ClientAddress | undefined {
  const elements = splitOutsideQuotes(value, ",").map(parseElement);
  if (elements.length === 0) return undefined;
  const hops = elements.map((e) => parseNode(e?.get("for")));
  const i = pick(hops, trust);
  const hop = hops[i]!;
  const element = elements[i];
  return {
    address: hop.address,
    port: hop.port,
    proto: checkProto(element?.get("proto")),
    host: checkHost(element?.get("host")),
    forwarded: true,
  };
}

function fromXForwarded(
  headers: HeaderMap,
  trust: (address: SocketAddress) => boolean,
  self: ClientAddress,
): ClientAddress | undefined {
  const xff = headers.get("x-forwarded-for");
  const protos = list(headers.get("x-forwarded-proto"));
  const hosts = list(headers.get("x-forwarded-host"));
  const hops = xff === undefined ? [] : list(xff).map(parseNode);
  if (hops.length === 0) {
    // No addresses: the peer is the client, but a trusted peer may still say how the client came in.
    if (protos.length === 0 && hosts.length === 0) return undefined;
    return {
      ...self,
      proto: checkProto(protos[protos.length - 1]),
      host: checkHost(hosts[hosts.length - 1]),
    };
  }
  const i = pick(hops, trust);
  const hop = hops[i]!;
  const aligned = (values: string[]): string | undefined =>
    values.length === hops.length ? values[i] : values[values.length - 1];
  return {
    address: hop.address,
    port: hop.port,
    proto: checkProto(aligned(protos)),
    host: checkHost(aligned(hosts)),
    forwarded: true,
  };
}

function list(value: string | undefined): string[] {
  if (value === undefined) return [];
  const out: string[] = [];
  for (const part of value.split(",")) {
    const item = part.trim();
    if (item !== "") out.push(item);
  }
  return out;
}

const UNKNOWN: Hop = { address: "unknown", port: undefined, ip: false };

/** A node (RFC 7239 6): an IP, `[IPv6]`, either with `:port`, `unknown`, or an `_obfuscated` name. */
function parseNode(node: string | undefined): Hop {
  if (node === undefined || node === "") return UNKNOWN;
  let host = node;
  let portText: string | undefined;
  if (node.startsWith("[")) {
    const close = node.indexOf("]");
    if (close < 0) return UNKNOWN;
    host = node.slice(1, close);
    const after = node.slice(close + 1);
    if (after.startsWith(":")) portText = after.slice(1);
    else if (after !== "") return UNKNOWN;
  } else if (!isIPv6(node)) {
    const colon = node.indexOf(":");
    if (colon >= 0) {
      host = node.slice(0, colon);
      portText = node.slice(colon + 1);
    }
  }
  let port: number | undefined;
  if (portText !== undefined) {
    // Ports may be obfuscated too ("_abc"): keep the address, drop the port.
    if (/^\d{1,5}$/.test(portText) && Number(portText) <= 65535) port = Number(portText);
    else if (!/^_[A-Za-z0-9._-]+$/.test(portText)) return UNKNOWN;
  }
  if (isIPv4(host) || isIPv6(host)) return { address: host.toLowerCase(), port, ip: true };
  if (host === "unknown" || /^_[A-Za-z0-9._-]+$/.test(host)) return { address: host, port, ip: false };
  return UNKNOWN;
}

/** The `name=value` pairs of one Forwarded element, names in lower case; undefined when malformed. */
function parseElement(element: string): Map<string, string> | undefined {
  const pairs = new Map<string, string>();
  for (const pair of splitOutsideQuotes(element, ";")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) return undefined;
    const name = pair.slice(0, eq).trim().toLowerCase();
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"')) {
      if (value.length < 2 || !value.endsWith('"')) return undefined;
      value = value.slice(1, -1).replace(/\\(.)/g, "$1");
    }
    // A repeated parameter makes the element ambiguous (RFC 7239 4): distrust it.
    if (pairs.has(name)) return undefined;
    pairs.set(name, value);
  }
  return pairs;
}

function splitOutsideQuotes(value: string, separator: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === separator) {
      const part = value.slice(start, i).trim();
      if (part !== "") out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last !== "") out.push(last);
  return out;
}

function checkProto(proto: string | undefined): string | undefined {
  return proto !== undefined && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(proto) ? proto.toLowerCase() : undefined;
}

function checkHost(host: string | undefined): string | undefined {
  return host !== undefined && /^[A-Za-z0-9.:[\]_-]{1,255}$/.test(host) ? host : undefined;
}

function checkHeaders(which: ForwardedHeaders): void {
  if (which !== "forwarded" && which !== "x-forwarded" && which !== "both") {
    throw new TypeError(`forwarded: unknown headers option ${JSON.stringify(which)}`);
  }
}

/** Options of {@link appendForwarded}. */
export interface AppendForwardedOptions {
  /** Which headers to add to. Default `both`. */
  readonly headers?: ForwardedHeaders;
  /**
   * Drop the forwarding headers the request came with before adding this hop: right for an edge proxy, whose
   * clients may send anything. Default false (an inner proxy extends the chain of the proxies before it).
   */
  readonly replace?: boolean;
  /** This proxy's identifier for `Forwarded: by=` (an IP, or an obfuscated `_name`). Default: omitted. */
  readonly by?: string;
  /**
   * The protocol the client used to reach this proxy. Default: the request target's scheme when it is
   * absolute, else omitted (a plain server does not know whether TLS was in front of it).
   */
  readonly proto?: string | ((req: Request) => string | undefined);
}

/**
 * Proxy side: record this hop before the request goes upstream. Adds `Forwarded: for=<peer>;host=<host>;
 * proto=<proto>` (RFC 7239, IPv6 quoted and bracketed) and appends the peer to `X-Forwarded-For`, and sets
 * `X-Forwarded-Proto`/`-Host` unless present (with `replace`, the incoming forwarding headers are dropped
 * first, so they always describe this hop). The peer is the connection's `PeerAddr`; without one, or on a
 * Unix socket, it is `unknown`. The request's headers are changed in place.
 *
 * @example
 * ```ts
 * import { stack } from "@tessera/core";
 * import { appendForwarded } from "@tessera/http/forwarded";
 *
 * const proxy = stack(appendForwarded({ replace: true, proto: "https" })).into(upstreamClient);
 * // X-Forwarded-For: 203.0.113.7, Forwarded: for=203.0.113.7;host=example.com;proto=https
 * ```
 */
export function appendForwarded(options: AppendForwardedOptions = {}): HttpLayer {
  const which = options.headers ?? "both";
  checkHeaders(which);
  const replace = options.replace ?? false;
  const by = options.by;
  if (by !== undefined && parseNode(by) === UNKNOWN && by !== "unknown") {
    throw new TypeError(
      `appendForwarded: "by" must be an IP or an obfuscated _name, got ${JSON.stringify(by)}`,
    );
  }
  const proto = options.proto;
  return httpLayer((inner: Service<Request, Response>) => ({
    serve(req: Request): Promise<Response> {
      try {
        const headers = req.headers;
        const peer = req.extensions.get(PeerAddr);
        const ip = peer !== undefined && peer.family !== "unix" ? peer.host : undefined;
        const host = headers.get("host") ?? (req.uri.form === "absolute" ? req.uri.authority : undefined);
        const scheme = checkProto(
          typeof proto === "function"
            ? proto(req)
            : (proto ?? (req.uri.form === "absolute" ? req.uri.scheme : undefined)),
        );
        if (replace) {
          for (const name of ["forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"]) {
            headers.delete(name);
          }
        }
        if (which !== "x-forwarded") {
          let element = `for=${ip === undefined ? "unknown" : forwardedNode(ip)}`;
          if (by !== undefined) element += `;by=${forwardedNode(by)}`;
          if (host !== undefined && checkHost(host) !== undefined) element += `;host=${quoteIfNeeded(host)}`;
          if (scheme !== undefined) element += `;proto=${scheme}`;
          headers.append("Forwarded", element);
        }
        if (which !== "forwarded") {
          const existing = headers.get("x-forwarded-for");
          const entry = ip ?? "unknown";
          headers.set("X-Forwarded-For", existing === undefined ? entry : `${existing}, ${entry}`);
          if (scheme !== undefined && !headers.has("x-forwarded-proto"))
            headers.set("X-Forwarded-Proto", scheme);
          if (host !== undefined && !headers.has("x-forwarded-host")) headers.set("X-Forwarded-Host", host);
        }
      } catch (error) {
        return Promise.reject(error);
      }
      return inner.serve(req);
    },
  }));
}

// An IPv6 node is bracketed and, having colons, quoted (RFC 7239 6).
function forwardedNode(address: string): string {
  return isIPv6(address) ? `"[${address}]"` : address;
}

function quoteIfNeeded(value: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? value : `"${value.replace(/["\\]/g, "\\$&")}"`;
}
