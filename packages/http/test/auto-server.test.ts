import { Extensions, type Service } from "@tessera/core";
import { Alpn, type Conn, memoryConnPair, PeekTimeoutError } from "@tessera/net";
import { describe, expect, it } from "vitest";
import { autoServer, HttpProtocolKey } from "../src/index.js";

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/** A fake protocol server that records its name and every byte it reads until the peer ends. */
function recorder(
  name: string,
  log: { name: string; bytes: string; protocol: unknown }[],
): Service<Conn, void> {
  return {
    async serve(conn: Conn): Promise<void> {
      let bytes = "";
      for await (const chunk of conn.stream) bytes += (chunk as Buffer).toString("latin1");
      log.push({ name, bytes, protocol: conn.extensions.get(HttpProtocolKey) });
    },
  };
}

async function run(
  send: (client: Conn) => Promise<void> | void,
  options: { alpn?: string; sniffTimeout?: number } = {},
) {
  const log: { name: string; bytes: string; protocol: unknown }[] = [];
  const server = autoServer({
    http1: recorder("h1", log),
    http2: recorder("h2", log),
    ...(options.sniffTimeout === undefined ? {} : { sniffTimeout: options.sniffTimeout }),
  });
  const [client, serverSide] = memoryConnPair();
  if (options.alpn !== undefined) serverSide.extensions.insert(Alpn, options.alpn);
  const served = server.serve(serverSide);
  await send(client);
  await served;
  return log;
}

describe("autoServer", () => {
  it("hands a cleartext HTTP/1.1 request to http1 with every byte replayed", async () => {
    const request = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    const log = await run((c) => {
      c.stream.end(request);
    });
    expect(log).toEqual([{ name: "h1", bytes: request, protocol: "http/1.1" }]);
  });

  it("hands a prior-knowledge HTTP/2 preface to http2, replaying the preface and what follows", async () => {
    const bytes = `${PREFACE}\x00\x00\x00\x04\x00\x00\x00\x00\x00`;
    const log = await run((c) => {
      c.stream.end(Buffer.from(bytes, "latin1"));
    });
    expect(log).toEqual([{ name: "h2", bytes, protocol: "h2" }]);
  });

  it("decides the same when the preface arrives one byte at a time", async () => {
    const log = await run(async (c) => {
      for (const ch of PREFACE) {
        c.stream.write(ch);
        await new Promise((r) => setImmediate(r));
      }
      c.stream.end();
    });
    expect(log).toEqual([{ name: "h2", bytes: PREFACE, protocol: "h2" }]);
  });

  it("a request that only starts like the preface ('PRI /x') is HTTP/1", async () => {
    const request = "PRI /x HTTP/1.1\r\n\r\n";
    const log = await run((c) => {
      c.stream.end(request);
    });
    expect(log[0]?.name).toBe("h1");
    expect(log[0]?.bytes).toBe(request);
  });

  it("a truncated preface followed by the peer's end goes to http1 (which will reject it)", async () => {
    const log = await run((c) => {
      c.stream.end("PRI * HTTP/2.0");
    });
    expect(log).toEqual([{ name: "h1", bytes: "PRI * HTTP/2.0", protocol: "http/1.1" }]);
  });

  it("follows ALPN without reading a byte: h2 and http/1.1", async () => {
    const h2 = await run((c) => void c.stream.end("anything"), { alpn: "h2" });
    expect(h2).toEqual([{ name: "h2", bytes: "anything", protocol: "h2" }]);
    const h1 = await run((c) => void c.stream.end(PREFACE), { alpn: "http/1.1" });
    expect(h1).toEqual([{ name: "h1", bytes: PREFACE, protocol: "http/1.1" }]);
  });

  it("closes a cleartext connection that sends too little for too long (typed error)", async () => {
    const [client, serverSide] = memoryConnPair();
    const server = autoServer({
      http1: recorder("h1", []),
      http2: recorder("h2", []),
      sniffTimeout: 50,
    });
    client.stream.write("PRI");
    await expect(server.serve(serverSide)).rejects.toBeInstanceOf(PeekTimeoutError);
  });

  it("keeps the connection's extensions (the servers fork them per request)", async () => {
    const seen: Extensions[] = [];
    const ext = new Extensions();
    const server = autoServer({
      http1: { serve: async (c) => void seen.push(c.extensions) },
      http2: { serve: async () => {} },
    });
    const [client, serverSide] = memoryConnPair();
    const conn = serverSide.withExtensions(ext);
    client.stream.end("GET / HTTP/1.1\r\n\r\n");
    await server.serve(conn);
    expect(seen[0]).toBe(ext);
  });
});
