import { type Extensions, type Layer, type Service, sameLayer, service, signalOf } from "@tessera/core";
import { Alpn, type Conn, type ConnectRequest, conn, memoryPair } from "@tessera/net";
import { afterEach, describe, expect, it } from "vitest";
import {
  Body,
  ClientConfigError,
  type ClientConnection,
  type ClientConnectionFactory,
  type ClientConnectionListener,
  ConnectionExtensions,
  type HttpClient,
  type HttpClientOptions,
  HttpProxy,
  httpClient,
  InvalidUriError,
  parseProxy,
  Request,
  Response,
  UnsupportedProtocolError,
} from "../src/index.js";

// A protocol connection that answers at once with what it was asked, so tests see the request as the protocol
// would write it (target, headers) and the connection's extensions.
class EchoConnection implements ClientConnection {
  readonly extensions: Extensions;
  readonly protocol: string;
  readonly listener: ClientConnectionListener | undefined;
  inFlight = 0;
  closed = false;
  constructor(c: Conn, protocol: string, listener: ClientConnectionListener | undefined) {
    this.extensions = c.extensions;
    this.protocol = protocol;
    this.listener = listener;
    c.stream.on("close", () => this.destroy());
  }
  get capacity(): number {
    return this.closed || this.inFlight > 0 ? 0 : 1;
  }
  serve(request: Request): Promise<Response> {
    this.inFlight++;
    const seen = {
      protocol: this.protocol,
      method: request.method,
      target: request.target,
      headers: request.headers.toJSON(),
    };
    queueMicrotask(() => {
      this.inFlight--;
      this.listener?.onAvailable(this);
    });
    return Promise.resolve(
      new Response(
        200,
        undefined,
        Body.fromJson(seen),
        request.extensions.fork().insert(ConnectionExtensions, this.extensions),
      ),
    );
  }
  close(): void {
    this.destroy();
  }
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener?.onClose(this);
  }
}

const echo =
  (protocol: string): ClientConnectionFactory =>
  (c, options) =>
    new EchoConnection(c, protocol, options.listener);

/** A connector over in-memory pairs that records where it was asked to go. */
function fakeConnector(alpn?: string) {
  const targets: string[] = [];
  const streams: ReturnType<typeof memoryPair>[] = [];
  const connector: Service<ConnectRequest, Conn> = service((request: ConnectRequest) => {
    targets.push(`${request.authority.host}:${request.authority.port}`);
    const pair = memoryPair();
    streams.push(pair);
    const ext = request.extensions.fork();
    if (alpn !== undefined) ext.insert(Alpn, alpn);
    return conn(pair[0], ext);
  });
  return { connector, targets, streams };
}

/** A connector layer that tags connections, to see which layers a route went through. */
function tagLayer(tag: string, calls: string[]): Layer<ConnectRequest, Conn> {
  return {
    layer: (inner) =>
      service(async (request: ConnectRequest) => {
        calls.push(`${tag} ${request.authority.host}:${request.authority.port}`);
        return inner.serve(request);
      }),
  };
}

const clients: HttpClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function client(options: Omit<HttpClientOptions, "http1"> & { http1?: ClientConnectionFactory }): HttpClient {
  const c = httpClient({ http1: echo("h1"), ...options });
  clients.push(c);
  return c;
}

async function seen(response: Promise<Response>) {
  return (await (await response).body.json()) as {
    protocol: string;
    method: string;
    target: string;
    headers: [string, string][];
  };
}

describe("httpClient builder", () => {
  it("connects straight to the origin and pools per authority", async () => {
    const { connector, targets } = fakeConnector();
    const c = client({ connector });
    const first = await seen(c.get("http://a.example:8080/x?y"));
    expect(first).toMatchObject({ protocol: "h1", method: "GET", target: "http://a.example:8080/x?y" });
    await c.get("http://a.example:8080/again");
    await c.get("http://b.example/");
    expect(targets).toEqual(["a.example:8080", "b.example:80"]);
    expect(c.stats()).toMatchObject({ authorities: 2, connections: 2 });
  });

  it("request() builds the request from parts; a signal cancels it", async () => {
    const { connector } = fakeConnector();
    const c = client({ connector });
    const got = await seen(
      c.request("PUT", "http://a.example/items/1", { headers: { "X-Id": "1" }, body: "data" }),
    );
    expect(got).toMatchObject({ method: "PUT", headers: [["X-Id", "1"]] });
    expect(await seen(c.post("http://a.example/p", "x"))).toMatchObject({ method: "POST" });
    const controller = new AbortController();
    const res = await c.get("http://a.example/", { signal: controller.signal });
    expect(signalOf(res)).toBe(controller.signal); // the response forks the request's extensions
    await expect(c.request("BAD METHOD", "http://a.example/")).rejects.toMatchObject({
      code: "ERR_HTTP_INVALID_METHOD",
    });
  });

  it("sends plain http to a forward proxy: one pool for every origin, HttpProxy on the connection, credentials", async () => {
    const { connector, targets } = fakeConnector();
    const c = client({ connector, proxy: { url: "http://proxy.local:3128", username: "u", password: "p" } });
    const a = await c.get("http://a.example/1");
    const b = await seen(c.get("http://b.example/2"));
    // A target that does not parse fails as a rejected promise, never a throw.
    await expect(c.serve(Request.get("/relative"))).rejects.toBeInstanceOf(InvalidUriError);
    expect(targets).toEqual(["proxy.local:3128"]);
    const connExt = a.extensions.get(ConnectionExtensions)!;
    expect(connExt.get(HttpProxy)).toEqual({
      authority: { host: "proxy.local", port: 3128 },
      mode: "forward",
    });
    expect(b.headers).toContainEqual(["Proxy-Authorization", "Basic dTpw"]);
    expect(c.stats().authorities).toBe(1);
  });

  it("tunnels https, and http when asked, through the connectTunnel layer; TLS goes over the tunnel", async () => {
    const { connector, targets } = fakeConnector();
    const calls: string[] = [];
    const tunnels: unknown[] = [];
    const c = client({
      connector,
      proxy: { url: "http://proxy.local:3128", tunnel: true },
      connectTunnel: (options) => {
        tunnels.push(options);
        return tagLayer("tunnel", calls);
      },
      tls: tagLayer("tls", calls),
    });
    await c.get("http://a.example/");
    await c.get("https://b.example/");
    expect(tunnels).toEqual([
      { proxy: { host: "proxy.local", port: 3128 }, username: undefined, password: undefined },
    ]);
    expect(calls).toEqual(["tunnel a.example:80", "tls b.example:443", "tunnel b.example:443"]);
    // The fake tunnel layer passes the target on; a real one connects to the proxy.
    expect(targets).toEqual(["a.example:80", "b.example:443"]);
  });

  it("picks HTTP/2 by ALPN when given it, and refuses h2 without it", async () => {
    const h2 = fakeConnector("h2");
    const c = client({ connector: h2.connector, tls: tagLayer("tls", []), http2: echo("h2") });
    expect((await seen(c.get("https://a.example/"))).protocol).toBe("h2");
    const without = client({ connector: fakeConnector("h2").connector, tls: tagLayer("tls", []) });
    const error = await without.get("https://a.example/").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedProtocolError);
  });

  it("refuses what it cannot send: relative targets, other schemes, https without TLS", async () => {
    const c = client({ connector: fakeConnector().connector });
    await expect(c.get("/relative")).rejects.toBeInstanceOf(InvalidUriError);
    await expect(c.get("ftp://a.example/")).rejects.toBeInstanceOf(UnsupportedProtocolError);
    await expect(c.get("https://a.example/")).rejects.toMatchObject({
      code: "ERR_HTTP_CLIENT_UNSUPPORTED_PROTOCOL",
    });
  });

  it("rejects configurations that cannot work", () => {
    expect(() => httpClient({ http1: echo("h1"), proxy: "https://proxy.local" })).toThrow(ClientConfigError);
    expect(() => httpClient({ http1: echo("h1"), proxy: "http://u:p@proxy.local" })).toThrow(
      ClientConfigError,
    );
    expect(() =>
      httpClient({ http1: echo("h1"), proxy: { url: "http://proxy.local", tunnel: true } }),
    ).toThrow(/connectTunnel/);
    expect(parseProxy("http://proxy.local").authority).toEqual({ host: "proxy.local", port: 80 });
    expect(parseProxy({ url: "http://[::1]:3128/", username: "a" }).authorization).toBe("Basic YTo=");
  });

  it("wraps the pool in the layers, outermost first", async () => {
    const order: string[] = [];
    const tag = (name: string) =>
      sameLayer(<I, O>(inner: Service<I, O>) =>
        service(async (input: I) => {
          order.push(`${name} in`);
          const out = await inner.serve(input);
          order.push(`${name} out`);
          return out;
        }),
      );
    const c = client({ connector: fakeConnector().connector, layers: [tag("outer"), tag("inner")] });
    await c.get("http://a.example/");
    expect(order).toEqual(["outer in", "inner in", "inner out", "outer out"]);
  });
});
