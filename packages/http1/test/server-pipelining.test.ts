// Pipelined and byte-by-byte requests over real sockets.
import { service } from "@tessera/core";
import { type Request, Response } from "@tessera/http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { header, parseResponses, rawExchange, sleep, tcpServer } from "./support/server-harness.js";

describe("http1 server: pipelining and split input over real sockets", () => {
  let srv: Awaited<ReturnType<typeof tcpServer>>;
  beforeAll(async () => {
    srv = await tcpServer(
      service(async (req: Request) => {
        const body = await req.body.text();
        // Later requests finish first: order must come from the server, not from the handlers.
        await sleep(Number(req.headers.get("x-delay") ?? 0));
        return Response.text(`${req.method} ${req.target} ${body}`);
      }),
    );
  });
  afterAll(async () => {
    await srv.close();
  });

  it("answers 40 pipelined requests (mixed methods and bodies) in order", async () => {
    const requests: string[] = [];
    const methods: string[] = [];
    for (let i = 0; i < 40; i++) {
      const delay = (40 - i) % 7;
      if (i % 3 === 0) {
        requests.push(
          `POST /${i} HTTP/1.1\r\nHost: a\r\nX-Delay: ${delay}\r\nContent-Length: 2\r\n\r\n${String(i).padStart(2, "0")}`,
        );
        methods.push("POST");
      } else if (i % 3 === 1) {
        requests.push(
          `PUT /${i} HTTP/1.1\r\nHost: a\r\nX-Delay: ${delay}\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n`,
        );
        methods.push("PUT");
      } else {
        requests.push(`GET /${i} HTTP/1.1\r\nHost: a\r\nX-Delay: ${delay}\r\n\r\n`);
        methods.push("GET");
      }
    }
    requests.push("GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    methods.push("GET");
    const { bytes } = await rawExchange(srv.port, requests.join(""));
    const { responses, error } = parseResponses(bytes, methods);
    expect(error).toBeNull();
    expect(responses).toHaveLength(41);
    responses.slice(0, 40).forEach((res, i) => {
      const body = i % 3 === 0 ? String(i).padStart(2, "0") : i % 3 === 1 ? "x" : "";
      expect(res.body.toString()).toBe(`${methods[i]} /${i} ${body}`);
    });
    expect(header(responses[40]!, "connection")).toBe("close");
  });

  it("parses requests that arrive one byte at a time", async () => {
    const input =
      "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" +
      "PUT /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nT: 1\r\n\r\n" +
      "GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    const { bytes } = await rawExchange(srv.port, input, { byteByByte: true });
    const { responses } = parseResponses(bytes, ["POST", "PUT", "GET"]);
    expect(responses.map((r) => r.body.toString())).toEqual(["POST /a hello", "PUT /b abc", "GET /c "]);
  });

  it("answers everything sent before the client half-closes", async () => {
    const input = Array.from({ length: 10 }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`).join("");
    const { bytes } = await rawExchange(srv.port, input, { end: true });
    const { responses } = parseResponses(bytes, Array(10).fill("GET"));
    expect(responses.map((r) => r.body.toString())).toEqual(
      Array.from({ length: 10 }, (_, i) => `GET /${i} `),
    );
  });
});

describe("http1 server: random splits, holds and delays (in memory)", () => {
  it("answers every request in order whatever the chunking, pipelining limit and handler timing", async () => {
    const { memoryServer } = await import("./support/server-harness.js");
    let seed = Number(process.env.FUZZ_SEED ?? 42);
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let round = 0; round < Number(process.env.FUZZ_ROUNDS ?? 8); round++) {
      const requests: string[] = [];
      const methods: string[] = [];
      const expected: string[] = [];
      for (let i = 0; i < 25; i++) {
        const kind = Math.floor(random() * 3);
        const body = "b".repeat(Math.floor(random() * 40));
        if (kind === 0) {
          requests.push(`GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
          expected.push(`GET /${i} `);
        } else if (kind === 1) {
          requests.push(`POST /${i} HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
          expected.push(`POST /${i} ${body}`);
        } else {
          const chunks = body.length === 0 ? "" : `${body.length.toString(16)}\r\n${body}\r\n`;
          requests.push(
            `PUT /${i} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`,
          );
          expected.push(`PUT /${i} ${body}`);
        }
        methods.push(["GET", "POST", "PUT"][kind]!);
      }
      const t = memoryServer(
        service(async (req: Request) => {
          const text = await req.body.text();
          if (random() < 0.5) await sleep(Math.floor(random() * 3));
          return Response.text(`${req.method} ${req.target} ${text}`);
        }),
        { maxPipelined: 1 + Math.floor(random() * 4) },
        { highWaterMark: 64 + Math.floor(random() * 256) },
      );
      t.reader.expect(...methods);
      const wire = Buffer.from(requests.join(""), "latin1");
      for (let pos = 0; pos < wire.length; ) {
        const n = 1 + Math.floor(random() * 80);
        t.send(wire.subarray(pos, pos + n));
        pos += n;
        if (random() < 0.3) await sleep(0);
      }
      await t.reader.response(24);
      expect(t.reader.responses.map((r) => r.body.toString())).toEqual(expected);
      expect(t.errors).toEqual([]);
    }
  });
});

describe("http1 server: random mixes of handler behaviours (in memory)", () => {
  it("unread bodies, streamed and synchronous answers, and a half-close at the end", async () => {
    const { memoryServer } = await import("./support/server-harness.js");
    const { Body } = await import("@tessera/http");
    let seed = Number(process.env.FUZZ_SEED ?? 7);
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let round = 0; round < Number(process.env.FUZZ_ROUNDS ?? 8); round++) {
      const requests: string[] = [];
      const methods: string[] = [];
      for (let i = 0; i < 20; i++) {
        const body = "b".repeat(Math.floor(random() * 300));
        const mode = ["read", "ignore", "stream", "sync"][Math.floor(random() * 4)]!;
        if (random() < 0.5) {
          requests.push(
            `POST /${i}/${mode} HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
          );
        } else {
          const chunks = body.length === 0 ? "" : `${body.length.toString(16)}\r\n${body}\r\n`;
          requests.push(
            `PUT /${i}/${mode} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`,
          );
        }
        methods.push(requests[i]!.startsWith("POST") ? "POST" : "PUT");
      }
      const t = memoryServer(
        {
          serve: (req: Request) => {
            const [, i, mode] = req.path.split("/");
            if (mode === "sync") return Response.text(`#${i}`);
            if (mode === "stream") {
              async function* parts() {
                yield `#${i}`;
                await sleep(Math.floor(random() * 2));
                yield "";
              }
              return Promise.resolve(new Response(200, undefined, Body.fromIterable(parts())));
            }
            return (async () => {
              if (mode === "read") await req.body.text();
              if (random() < 0.5) await sleep(Math.floor(random() * 3));
              return Response.text(`#${i}`);
            })();
          },
        },
        { maxPipelined: 1 + Math.floor(random() * 4), maxDiscardBytes: 100_000 },
        { highWaterMark: 64 + Math.floor(random() * 512) },
      );
      t.reader.expect(...methods);
      const wire = Buffer.from(requests.join(""), "latin1");
      for (let pos = 0; pos < wire.length; ) {
        const n = 1 + Math.floor(random() * 200);
        t.send(wire.subarray(pos, pos + n));
        pos += n;
        if (random() < 0.3) await sleep(0);
      }
      t.client.stream.end();
      await t.reader.closed(5000);
      expect(t.reader.responses.map((r) => r.body.toString())).toEqual(
        Array.from({ length: 20 }, (_, i) => `#${i}`),
      );
      await t.served;
    }
  });
});
