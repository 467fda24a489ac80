import { Extensions, service, stack } from "@tessera/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Conn,
  type ConnectRequest,
  connectRequest,
  type Listener,
  LocalAddr,
  listen,
  memoryConnPair,
  PeerAddr,
  ProxiedClientAddr,
  ProxiedDestAddr,
  ProxyHeaderEncodeError,
  ProxyProtocolHeader,
  ProxyProtocolSent,
  parseProxyHeader,
  proxyProtocol,
  proxyProtocolConnector,
  tcpConnector,
} from "../src/index.js";
import { collect } from "./helpers.js";

const client = { family: "IPv6", host: "2001:db8::7", port: 40000 } as const;
const front = { family: "IPv6", host: "2001:db8::1", port: 443 } as const;

/** A connector over memory pairs; `client()` and `server()` are the two ends of the last connection made. */
function memoryConnector(ownAddresses = true) {
  let last: [Conn, Conn] | undefined;
  const connector = service((req: ConnectRequest) => {
    last = memoryConnPair();
    const [near] = last;
    if (ownAddresses) {
      near.extensions
        .insert(LocalAddr, { family: "IPv4", host: "127.0.0.1", port: 5555 })
        .insert(PeerAddr, { family: "IPv4", host: "127.0.0.2", port: req.authority.port });
    }
    return near;
  });
  return { connector, client: () => last![0], server: () => last![1] };
}

describe("proxyProtocolConnector", () => {
  it("writes the header before the caller's first byte, for the client the request was made for", async () => {
    const m = memoryConnector();
    const connector = stack(
      proxyProtocolConnector({ header: { authority: "example.com", crc32c: true } }),
    ).into(m.connector);
    // A proxy forks the accepted connection's extensions for its upstream request.
    const accepted = new Extensions().insert(PeerAddr, client).insert(LocalAddr, front);
    const conn = await connector.serve(connectRequest("backend:8080", accepted.fork()));
    conn.stream.end("GET / HTTP/1.1\r\n\r\n");
    const wire = await collect(m.server().stream);
    const parsed = parseProxyHeader(wire);
    expect(parsed).toMatchObject({
      status: "complete",
      header: {
        version: 2,
        source: client,
        destination: front,
        authority: "example.com",
        crc32c: expect.any(Number),
      },
    });
    expect(parsed.status === "complete" && wire.subarray(parsed.length).toString()).toBe(
      "GET / HTTP/1.1\r\n\r\n",
    );
    expect(conn.extensions.get(ProxyProtocolSent)).toMatchObject({ version: 2, header: { source: client } });
  });

  it("prefers the request's proxied client (we are behind another balancer) over its peer", async () => {
    const m = memoryConnector();
    const connector = stack(proxyProtocolConnector({ version: 1 })).into(m.connector);
    const real = { family: "IPv4", host: "198.51.100.9", port: 1234 } as const;
    const realDest = { family: "IPv4", host: "198.51.100.1", port: 80 } as const;
    const accepted = new Extensions()
      .insert(PeerAddr, { family: "IPv4", host: "10.0.0.2", port: 9 })
      .insert(LocalAddr, { family: "IPv4", host: "10.0.0.3", port: 80 })
      .insert(ProxiedClientAddr, real)
      .insert(ProxiedDestAddr, realDest);
    const conn = await connector.serve(connectRequest("backend:8080", accepted.fork()));
    conn.stream.end();
    expect((await collect(m.server().stream)).toString()).toBe(
      "PROXY TCP4 198.51.100.9 198.51.100.1 1234 80\r\n",
    );
  });

  it("without a client on the request: the connection's own addresses, as curl sends; without those, UNKNOWN", async () => {
    const own = memoryConnector(true);
    const conn = await stack(proxyProtocolConnector({ version: 1 }))
      .into(own.connector)
      .serve(connectRequest("x:81"));
    conn.stream.end();
    expect((await collect(own.server().stream)).toString()).toBe(
      "PROXY TCP4 127.0.0.1 127.0.0.2 5555 81\r\n",
    );

    const none = memoryConnector(false);
    const v1 = await stack(proxyProtocolConnector({ version: 1 }))
      .into(none.connector)
      .serve(connectRequest("x:81"));
    v1.stream.end();
    expect((await collect(none.server().stream)).toString()).toBe("PROXY UNKNOWN\r\n");
  });

  it("a header function decides per connection, LOCAL included", async () => {
    const m = memoryConnector();
    const connector = stack(
      proxyProtocolConnector({
        header: (req) => (req.authority.host === "health" ? { command: "local" } : {}),
      }),
    ).into(m.connector);
    const conn = await connector.serve(connectRequest("health:80"));
    conn.stream.end("x");
    const wire = await collect(m.server().stream);
    expect(parseProxyHeader(wire)).toMatchObject({
      status: "complete",
      length: 16,
      header: { command: "local" },
    });
  });

  it("a header the version cannot carry: the connection is destroyed and the connect rejects with a typed error", async () => {
    const m = memoryConnector();
    const connector = stack(proxyProtocolConnector({ version: 1, header: { alpn: "h2" } })).into(m.connector);
    await expect(connector.serve(connectRequest("x:1"))).rejects.toBeInstanceOf(ProxyHeaderEncodeError);
    // The connection the layer got from the connector, never handed to the caller, is not left open.
    expect(m.client().stream.destroyed).toBe(true);
  });
});

describe("client layer to server layer over TCP", () => {
  let listener: Listener | undefined;
  afterEach(async () => {
    await listener?.close({ timeout: 1_000 });
    listener = undefined;
  });

  it.each([1, 2] as const)("v%i: the server records the client's real socket addresses", async (version) => {
    let seen: Conn | undefined;
    const echo = service(async (conn: Conn) => {
      seen = conn;
      conn.stream.end(await collect(conn.stream));
    });
    const server = await listen({ host: "127.0.0.1", port: 0 }, stack(proxyProtocol()).into(echo));
    listener = server;
    const connector = stack(proxyProtocolConnector({ version })).into(tcpConnector());
    const conn = await connector.serve(connectRequest(`127.0.0.1:${server.address.port}`));
    conn.stream.end("payload");
    expect((await collect(conn.stream)).toString()).toBe("payload");
    // What the client sent as its own local and peer address is what the server reads.
    expect(seen!.extensions.get(ProxiedClientAddr)).toEqual(conn.extensions.get(LocalAddr));
    expect(seen!.extensions.get(ProxiedDestAddr)).toEqual(conn.extensions.get(PeerAddr));
    expect(seen!.extensions.get(ProxyProtocolHeader)?.version).toBe(version);
  });
});
