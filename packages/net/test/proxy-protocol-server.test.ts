import { Extensions, type Service, service, stack } from "@tessera/core";
import { describe, expect, it } from "vitest";
import { prng } from "../../../test-support/prng.js";
import {
  type Conn,
  encodeProxyHeader,
  memoryConnPair,
  PeerAddr,
  ProxiedClientAddr,
  ProxiedDestAddr,
  ProxyHeaderError,
  ProxyHeaderMissingError,
  ProxyHeaderTimeoutError,
  ProxyHeaderTooLargeError,
  ProxyProtocolHeader,
  type ProxyProtocolOptions,
  proxyProtocol,
} from "../src/index.js";
import { collect, delay, payload } from "./helpers.js";

const client = { family: "IPv4", host: "203.0.113.7", port: 40000 } as const;
const server = { family: "IPv4", host: "198.51.100.1", port: 443 } as const;
const lb = { family: "IPv4", host: "10.0.0.2", port: 50000 } as const;
const V1 = Buffer.from("PROXY TCP4 203.0.113.7 198.51.100.1 40000 443\r\n");

interface Seen {
  conn: Conn;
  data: Buffer;
}

/** A server with the layer over an inner service that records its connection and reads it to the end. */
function setup(options?: ProxyProtocolOptions) {
  const served: Seen[] = [];
  const inner: Service<Conn, void> = service(async (conn: Conn) => {
    // for-await, not 'end' listeners: a peer that ended before sending anything hands on a stream that has
    // already ended (as peek and sniff do).
    const chunks: Buffer[] = [];
    for await (const chunk of conn.stream.iterator({ destroyOnReturn: false })) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    served.push({ conn, data });
    conn.stream.end("bye");
  });
  const svc = stack(proxyProtocol(options)).into(inner);
  const [c, s] = memoryConnPair({ serverExtensions: new Extensions().insert(PeerAddr, lb) });
  const result = svc.serve(s).then(
    () => undefined,
    (error: Error) => error,
  );
  return { served, client: c.stream, serverConn: s, result };
}

async function dribble(stream: NodeJS.WritableStream, bytes: Buffer): Promise<void> {
  for (const byte of bytes) {
    stream.write(Buffer.from([byte]));
    await delay(0);
  }
}

describe("proxyProtocol server layer", () => {
  it("strict v1: records the client and destination, and passes on the bytes after the header untouched", async () => {
    const t = setup();
    const body = payload(100_000);
    t.client.end(Buffer.concat([V1, body]));
    const reply = collect(t.client);
    expect(await t.result).toBeUndefined();
    expect((await reply).toString()).toBe("bye");
    const seen = t.served[0]!;
    expect(seen.data.equals(body)).toBe(true);
    expect(seen.conn.extensions.get(ProxiedClientAddr)).toEqual(client);
    expect(seen.conn.extensions.get(ProxiedDestAddr)).toEqual(server);
    expect(seen.conn.extensions.get(ProxyProtocolHeader)).toMatchObject({ version: 1, command: "proxy" });
    // PeerAddr stays the load balancer's unless appendPeerAddr is set.
    expect(seen.conn.extensions.get(PeerAddr)).toEqual(lb);
  });

  it("v2 written one byte at a time, then data: the same result as in one piece", async () => {
    const t = setup();
    const header = encodeProxyHeader(2, {
      source: client,
      destination: server,
      alpn: "h2",
      authority: "example.com",
      uniqueId: "abc",
      ssl: { version: "TLSv1.3" },
      crc32c: true,
    });
    await dribble(t.client, Buffer.concat([header, Buffer.from("GET")]));
    await dribble(t.client, Buffer.from(" / HTTP/1.1\r\n"));
    t.client.end();
    expect(await t.result).toBeUndefined();
    const seen = t.served[0]!;
    expect(seen.data.toString()).toBe("GET / HTTP/1.1\r\n");
    expect(seen.conn.extensions.get(ProxiedClientAddr)).toEqual(client);
    expect(seen.conn.extensions.get(ProxyProtocolHeader)).toMatchObject({
      version: 2,
      alpn: "h2",
      authority: "example.com",
      uniqueId: Buffer.from("abc"),
      ssl: { ssl: true, version: "TLSv1.3" },
      crc32c: expect.any(Number),
    });
  });

  it("a header and data in two writes split inside the header", async () => {
    const t = setup();
    const all = Buffer.concat([V1, Buffer.from("hello")]);
    t.client.write(all.subarray(0, 20));
    await delay(5);
    t.client.end(all.subarray(20));
    expect(await t.result).toBeUndefined();
    expect(t.served[0]!.data.toString()).toBe("hello");
  });

  it("a peer that sends the header and ends at once: an inner service listening for 'end' still gets it", async () => {
    const [c, s] = memoryConnPair();
    let got: Buffer | undefined;
    const svc = stack(proxyProtocol()).into(
      service(async (conn: Conn) => {
        // 'data'/'end' listeners attached when the service starts: the end must not have been emitted yet.
        got = await collect(conn.stream);
      }),
    );
    c.stream.end(V1);
    await svc.serve(s);
    expect(got).toEqual(Buffer.alloc(0));
    expect(s.extensions.get(ProxiedClientAddr)).toEqual(client);
  });

  it("appendPeerAddr: PeerAddr's newest value is the client, its history still has the load balancer", async () => {
    const t = setup({ appendPeerAddr: true });
    t.client.end(Buffer.concat([V1, Buffer.from("x")]));
    expect(await t.result).toBeUndefined();
    const ext = t.served[0]!.conn.extensions;
    expect(ext.get(PeerAddr)).toEqual(client);
    expect(ext.getAll(PeerAddr)).toEqual([lb, client]);
  });

  it("LOCAL (a health check): the header is recorded, no proxied addresses, the connection served", async () => {
    const t = setup();
    t.client.end(Buffer.concat([encodeProxyHeader(2, { command: "local" }), Buffer.from("ping")]));
    expect(await t.result).toBeUndefined();
    const seen = t.served[0]!;
    expect(seen.data.toString()).toBe("ping");
    expect(seen.conn.extensions.get(ProxyProtocolHeader)).toMatchObject({ command: "local" });
    expect(seen.conn.extensions.has(ProxiedClientAddr)).toBe(false);
  });

  it("v1 UNKNOWN: served, no proxied addresses", async () => {
    const t = setup();
    t.client.end("PROXY UNKNOWN\r\nhi");
    expect(await t.result).toBeUndefined();
    expect(t.served[0]!.data.toString()).toBe("hi");
    expect(t.served[0]!.conn.extensions.has(ProxiedClientAddr)).toBe(false);
  });

  it("strict: a connection without a header is closed with ProxyHeaderMissingError, the inner service never runs", async () => {
    const t = setup();
    t.client.write("GET / HTTP/1.1\r\n\r\n");
    const closed = new Promise((resolve) => t.client.once("close", resolve));
    t.client.on("error", () => {});
    const error = await t.result;
    expect(error).toBeInstanceOf(ProxyHeaderMissingError);
    expect((error as ProxyHeaderMissingError).code).toBe("ERR_NET_PROXY_HEADER_MISSING");
    await closed;
    expect(t.serverConn.stream.destroyed).toBe(true);
    expect(t.served).toHaveLength(0);
  });

  it("strict: a connection that ends without sending anything is ProxyHeaderMissingError", async () => {
    const t = setup();
    t.client.end();
    t.client.on("error", () => {});
    expect(await t.result).toBeInstanceOf(ProxyHeaderMissingError);
  });

  it("optional: bytes that are not a header reach the inner service untouched, even ones that start like one", async () => {
    for (const data of ["GET / HTTP/1.1\r\n\r\n", "PROXYish", "PR", "\r\n\r\nhello", ""]) {
      const t = setup({ mode: "optional" });
      const bytes = Buffer.from(data, "latin1");
      await dribble(t.client, bytes);
      t.client.end();
      expect(await t.result).toBeUndefined();
      expect(t.served[0]!.data).toEqual(bytes);
      expect(t.served[0]!.conn.extensions.has(ProxyProtocolHeader)).toBe(false);
    }
  });

  it("optional: a header is still read and recorded", async () => {
    const t = setup({ mode: "optional" });
    t.client.end(Buffer.concat([V1, Buffer.from("data")]));
    expect(await t.result).toBeUndefined();
    expect(t.served[0]!.data.toString()).toBe("data");
    expect(t.served[0]!.conn.extensions.get(ProxiedClientAddr)).toEqual(client);
  });

  it.each(["strict", "optional"] as const)(
    "%s: a malformed header closes the connection with ProxyHeaderError",
    async (mode) => {
      const t = setup({ mode });
      t.client.on("error", () => {});
      t.client.write("PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\nGET /");
      const error = await t.result;
      expect(error).toBeInstanceOf(ProxyHeaderError);
      expect(error).toMatchObject({ code: "ERR_NET_PROXY_HEADER_INVALID", reason: "v1-port" });
      expect(t.serverConn.stream.destroyed).toBe(true);
      expect(t.served).toHaveLength(0);
    },
  );

  it.each(["strict", "optional"] as const)(
    "%s: a header cut short by the end of the connection is 'truncated'",
    async (mode) => {
      const t = setup({ mode });
      t.client.on("error", () => {});
      t.client.end(encodeProxyHeader(2, { source: client, destination: server }).subarray(0, 20));
      expect(await t.result).toMatchObject({ code: "ERR_NET_PROXY_HEADER_INVALID", reason: "truncated" });
      expect(t.served).toHaveLength(0);
    },
  );

  it("a v2 header announcing more than maxHeaderLength is refused from its first 16 bytes", async () => {
    const t = setup({ maxHeaderLength: 256 });
    t.client.on("error", () => {});
    const header = encodeProxyHeader(2, { source: client, destination: server, noop: 300 });
    t.client.write(header.subarray(0, 16));
    const error = await t.result;
    expect(error).toBeInstanceOf(ProxyHeaderTooLargeError);
    expect(error).toMatchObject({ limit: 256, length: header.length });
    expect(t.serverConn.stream.destroyed).toBe(true);
  });

  it("a v1 line without CRLF in 107 bytes is refused", async () => {
    const t = setup();
    t.client.on("error", () => {});
    t.client.write(`PROXY UNKNOWN ${"x".repeat(200)}`);
    expect(await t.result).toBeInstanceOf(ProxyHeaderTooLargeError);
  });

  it("a header that does not complete in time: ProxyHeaderTimeoutError, connection closed", async () => {
    const t = setup({ timeout: 50 });
    t.client.on("error", () => {});
    t.client.write(V1.subarray(0, 10));
    const error = await t.result;
    expect(error).toBeInstanceOf(ProxyHeaderTimeoutError);
    expect(error).toMatchObject({ code: "ERR_NET_PROXY_HEADER_TIMEOUT", timeoutMs: 50, bytesSeen: 10 });
    expect(t.serverConn.stream.destroyed).toBe(true);
  });

  it("optional: a silent client (server-speaks-first protocols) is passed on after the timeout", async () => {
    const t = setup({ mode: "optional", timeout: 20 });
    await delay(60);
    t.client.end("late");
    expect(await t.result).toBeUndefined();
    expect(t.served[0]!.data.toString()).toBe("late");
  });

  it("refuses a maxHeaderLength below the fixed v2 header", async () => {
    const t = setup({ maxHeaderLength: 8 });
    expect(await t.result).toBeInstanceOf(RangeError);
  });

  it("random headers and data in random pieces: the inner service gets exactly the data, the header recorded", async () => {
    // Seeded so a failure reproduces.
    const random = prng(0x7e55e7a);
    for (let i = 0; i < 150; i++) {
      const version = random() < 0.5 ? 1 : 2;
      const source = {
        family: "IPv4",
        host: `10.0.${Math.floor(random() * 256)}.1`,
        port: Math.floor(random() * 65536),
      } as const;
      const header = encodeProxyHeader(version, {
        source,
        destination: server,
        ...(version === 2 && random() < 0.5 ? { authority: "a.example", crc32c: true } : {}),
      });
      const data = payload(Math.floor(random() * 3000));
      const all = Buffer.concat([header, data]);
      const [c, s] = memoryConnPair();
      let got: Buffer | undefined;
      const served = stack(proxyProtocol())
        .into(
          service(async (conn: Conn) => {
            got = await collect(conn.stream);
          }),
        )
        .serve(s);
      for (let at = 0; at < all.length; ) {
        const size = 1 + Math.floor(random() * (random() < 0.5 ? 8 : 600));
        c.stream.write(all.subarray(at, at + size));
        at += size;
        if (random() < 0.3) await delay(0);
      }
      c.stream.end();
      await served;
      expect(got?.equals(data)).toBe(true);
      expect(s.extensions.get(ProxiedClientAddr)).toEqual(source);
    }
  });
});
