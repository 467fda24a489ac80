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
