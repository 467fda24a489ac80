import { service } from "@tessera/core";
import { HeaderMap, type Request, Response } from "@tessera/http";
import { describe, expect, it } from "vitest";
import { ErrorCode, FrameType } from "../src/index.js";
import { serve } from "./support/raw-client.js";

const echoHead = service((req: Request) =>
  Response.json({
    method: req.method,
    target: req.target,
    version: req.version,
    host: req.headers.get("host") ?? null,
    names: [...req.headers.entries()].map(([n]) => n),
  }),
);

const base: [string, string][] = [
  [":method", "GET"],
  [":scheme", "https"],
  [":authority", "example.com"],
  [":path", "/p?q=1"],
];

describe("requests from HEADERS (RFC 9113 8.3)", () => {
  it("maps pseudo-headers to method, target and host; regular fields keep wire order", async () => {
    const { client } = serve(echoHead);
    await client.handshake();
    client.headers(1, [...base, ["accept", "*/*"], ["x-b", "2"]]);
    const res = await client.response(1);
    expect(JSON.parse(res.body)).toEqual({
      method: "GET",
      target: "/p?q=1",
      version: "HTTP/2",
      host: "example.com",
      names: ["accept", "x-b", "host"],
    });
  });

  it("CONNECT carries :authority only and becomes an authority-form target", async () => {
    const { client } = serve(echoHead);
    await client.handshake();
    client.headers(1, [
      [":method", "CONNECT"],
      [":authority", "example.com:443"],
    ]);
    expect(JSON.parse((await client.response(1)).body).target).toBe("example.com:443");
  });

  it("answers HEAD without a body, with the content-length of GET", async () => {
    const { client } = serve(service(() => Response.text("12345")));
    await client.handshake();
    client.headers(1, [[":method", "HEAD"], ...base.slice(1)]);
    const res = await client.response(1);
    expect(res.body).toBe("");
    expect(res.headers).toContainEqual(["content-length", "5"]);
    expect(client.stream(1).filter((f) => f.type === FrameType.DATA)).toHaveLength(0);
  });

  it("drops connection-specific response fields and lower-cases names", async () => {
    const { client } = serve(
      service(() =>
        Response.text("x", {
          headers: [
            ["Connection", "close"],
            ["X-Up", "1"],
            ["Transfer-Encoding", "chunked"],
          ],
        }),
      ),
    );
    await client.handshake();
    client.headers(1, base);
    const res = await client.response(1);
    const names = res.headers.map(([n]) => n);
    expect(names).toContain("x-up");
    expect(names).not.toContain("connection");
    expect(names).not.toContain("transfer-encoding");
    expect(res.headers.find(([n]) => n === "date")?.[1]).toMatch(
      /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    );
  });

  const malformed: [string, [string, string][]][] = [
    ["upper-case name", [...base, ["X-Upper", "1"]]],
    ["empty name", [...base, ["", "v"]]],
    ["pseudo after a regular field", [...base.slice(0, 3), ["accept", "*/*"], base[3]!]],
    ["unknown pseudo-header", [...base, [":foo", "x"]]],
    [":status in a request", [...base, [":status", "200"]]],
    ["repeated :path", [...base, [":path", "/again"]]],
    ["missing :path", base.slice(0, 3)],
    ["missing :method", base.slice(1)],
    ["missing :scheme", [base[0]!, base[2]!, base[3]!]],
    ["connection", [...base, ["connection", "keep-alive"]]],
    ["keep-alive", [...base, ["keep-alive", "5"]]],
    ["proxy-connection", [...base, ["proxy-connection", "x"]]],
    ["transfer-encoding", [...base, ["transfer-encoding", "chunked"]]],
    ["upgrade", [...base, ["upgrade", "h2c"]]],
    ["te other than trailers", [...base, ["te", "gzip"]]],
    ["value with a newline", [...base, ["x-a", "a\nb"]]],
    ["value with leading space", [...base, ["x-a", " a"]]],
    ["control char in :authority", [base[0]!, base[1]!, [":authority", "a\u0001b"], base[3]!]],
    [
      "CONNECT with :path",
      [
        [":method", "CONNECT"],
        [":authority", "a:1"],
        [":path", "/"],
      ],
    ],
    ["bad content-length", [...base, ["content-length", "1x"]]],
    ["content-length on a request without DATA", [...base, ["content-length", "3"]]],
  ];
  for (const [name, fields] of malformed) {
    it(`malformed (${name}): RST_STREAM PROTOCOL_ERROR, handler not called, connection lives`, async () => {
      let called = false;
      const { client } = serve(
        service(() => {
          called = true;
          return Response.text("no");
        }),
      );
      await client.handshake();
      client.headers(1, fields);
      expect((await client.rst(1)).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
      expect(called).toBe(false);
      client.headers(3, base);
      expect((await client.response(3)).status).toBe("200");
    });
  }

  it("te: trailers is allowed", async () => {
    const { client } = serve(echoHead);
    await client.handshake();
    client.headers(1, [...base, ["te", "trailers"]]);
    expect((await client.response(1)).status).toBe("200");
  });

  it("content-length larger or smaller than the DATA is malformed; the handler's body fails", async () => {
    for (const [declared, sent] of [
      [5, 3],
      [2, 3],
    ] as const) {
      let bodyError: unknown;
      const { client } = serve(
        service(async (req: Request) => {
          try {
            await req.body.bytes();
          } catch (err) {
            bodyError = err;
          }
          return Response.text("x");
        }),
      );
      await client.handshake();
      client.headers(1, [[":method", "POST"], ...base.slice(1), ["content-length", String(declared)]], false);
      client.w.data(1, Buffer.alloc(sent), { endStream: true });
      client.flush();
      expect((await client.rst(1)).errorCode).toBe(ErrorCode.PROTOCOL_ERROR);
      await new Promise((r) => setTimeout(r, 10));
      expect(bodyError).toBeInstanceOf(Error);
    }
  });

  it("batches the responses to requests that arrived together into one socket write", async () => {
    const { client, serverConn } = serve(service((req: Request) => Response.text(req.path)));
    await client.handshake();
    await new Promise((r) => setTimeout(r, 20));
    let writes = 0;
    const stream = serverConn.stream;
    const write = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      writes++;
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    for (let id = 1; id <= 19; id += 2)
      client.w.headers(id, client.encoder.encodePairs([...base.slice(0, 3), [":path", `/${id}`]]), {
        endStream: true,
      });
    client.flush();
    for (let id = 1; id <= 19; id += 2) expect((await client.response(id)).body).toBe(`/${id}`);
    expect(writes).toBe(1);
  });

  it("a header list over maxHeaderListSize gets 431; the connection (and HPACK state) lives on", async () => {
    const { client } = serve(echoHead, { maxHeaderListSize: 1000 });
    await client.handshake();
    client.headers(1, [...base, ["x-big", "v".repeat(2000)]]);
    expect((await client.response(1)).status).toBe("431");
    client.headers(3, [...base, ["x-small", "1"]]);
    expect(JSON.parse((await client.response(3)).body).names).toEqual(["x-small", "host"]);
  });

  it("a response field HTTP/2 cannot carry gets 500 and leaves HPACK in step for later responses", async () => {
    const { client } = serve(
      service((req: Request) => {
        // A HeaderSource is trusted (not validated), so a field HPACK cannot carry can reach the server.
        const flat = [`x-first`, `indexed-${req.path}`];
        if (req.path === "/bad") flat.push("x-bad", "\u20ac");
        const headers = HeaderMap.fromSource({
          count: flat.length / 2,
          name: (i) => flat[2 * i]!,
          value: (i) => flat[2 * i + 1]!,
        });
        return Response.text("x", { headers });
      }),
    );
    await client.handshake();
    client.get(1, "/bad");
    expect((await client.response(1)).status).toBe("500");
    client.get(3, "/bad2");
    const res = await client.response(3);
    expect(res.headers).toContainEqual(["x-first", "indexed-/bad2"]);
    expect(client.readError).toBeNull();
  });
});
