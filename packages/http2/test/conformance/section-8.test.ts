// RFC 9113 section 8: expressing HTTP semantics (8.1 message framing, 8.2 fields, 8.3 control data, 8.4 push,
// 8.5 CONNECT). A malformed request is a stream error PROTOCOL_ERROR (8.1.1): the connection goes on.
import { describe, expect, it } from "vitest";
import {
  block,
  connect,
  dataFrame,
  ErrorCode,
  expectConnectionError,
  expectResponse,
  expectStreamError,
  FrameFlag,
  FrameType,
  frame,
  getFields,
  halfClosedRemote,
  headersFrame,
  postFields,
  pushPromiseFrame,
  send,
} from "./conformance.js";

const END_HEADERS = FrameFlag.END_HEADERS;

/** Sends a request with `fields` (END_STREAM) on stream 1 and expects it reset as malformed. */
async function expectMalformed(fields: [string, string][]): Promise<void> {
  const { client } = await connect();
  send(client, headersFrame(1, fields));
  await expectStreamError(client, 1, ErrorCode.PROTOCOL_ERROR);
  // The connection is fine: the next request is served.
  send(client, headersFrame(3, getFields()));
  await expectResponse(client, 3);
}

/** The request fields without the named pseudo-header. */
function without(name: string): [string, string][] {
  return getFields().filter(([n]) => n !== name);
}

describe("RFC 9113 8.1 HTTP message framing", () => {
  it("8.1 a GET request gets a response [h2spec generic/4/1]", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, getFields()));
    expect((await expectResponse(client, 1)).body).toBe("ok");
  });

  it("8.1 a HEAD request gets a response head and no content [h2spec generic/4/2]", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, [[":method", "HEAD"], ...getFields().slice(1)]));
    const res = await expectResponse(client, 1);
    expect(res.body).toBe("");
    const head = client.stream(1).find((f) => f.type === FrameType.HEADERS)!;
    expect(head.endStream).toBe(true);
  });

  it("8.1 a POST request with content gets a response [h2spec generic/4/3]", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, postFields(), END_HEADERS), dataFrame(1, "posted", true));
    expect((await expectResponse(client, 1)).body).toBe("posted");
  });

  it("8.1 a POST request with trailers: HEADERS, DATA, then a trailer section with END_STREAM [h2spec generic/4/4]", async () => {
    const { client } = await connect();
    send(
      client,
      headersFrame(1, postFields("/echo", [["te", "trailers"]]), END_HEADERS),
      dataFrame(1, "body"),
    );
    send(client, headersFrame(1, [["x-checksum", "abc"]]));
    const res = await expectResponse(client, 1);
    expect(res.body).toBe("body");
    expect(res.headers).toContainEqual(["x-trailers", "x-checksum"]);
  });

  it("8.1 a second HEADERS frame without END_STREAM is a stream error PROTOCOL_ERROR [h2spec http2/8.1/1]", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, postFields(), END_HEADERS), dataFrame(1, "test"));
    send(client, headersFrame(1, [["x-trailer", "1"]], END_HEADERS));
    await expectStreamError(client, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it("8.1 a trailer section right after the header section (no DATA) ends the request", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, postFields(), END_HEADERS), headersFrame(1, [["x-only", "1"]]));
    const res = await expectResponse(client, 1);
    expect(res.body).toBe("");
  });

  it("8.1 a header section split over HEADERS and CONTINUATION, with END_STREAM on the HEADERS frame", async () => {
    const { client } = await connect();
    const fields = block(getFields());
    send(
      client,
      frame(FrameType.HEADERS, FrameFlag.END_STREAM, 1, fields.subarray(0, 12)),
      frame(FrameType.CONTINUATION, END_HEADERS, 1, fields.subarray(12)),
    );
    await expectResponse(client, 1);
  });
});

describe("RFC 9113 8.1.1 malformed messages and content-length", () => {
  for (const status of ["204", "304"]) {
    it(`8.1.1 a ${status} response has no DATA frames: the HEADERS frame ends the stream, whatever the handler gave as body`, async () => {
      const { client } = await connect();
      send(client, headersFrame(1, getFields(`/status/${status}`)));
      const res = await expectResponse(client, 1, status);
      expect(res.body).toBe("");
      expect(client.stream(1).filter((f) => f.type === FrameType.DATA)).toEqual([]);
      expect(client.stream(1)[0]!.endStream).toBe(true);
    });
  }

  it("8.1.1 content-length that does not match the DATA received is a stream error PROTOCOL_ERROR [h2spec http2/8.1.2.6/1]", async () => {
    const { client } = await connect();
    send(
      client,
      headersFrame(1, postFields("/echo", [["content-length", "1"]]), END_HEADERS),
      dataFrame(1, "test", true),
    );
    await expectStreamError(client, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it("8.1.1 content-length that does not match the sum of several DATA frames is a stream error PROTOCOL_ERROR [h2spec http2/8.1.2.6/2]", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, postFields("/echo", [["content-length", "5"]]), END_HEADERS));
    send(client, dataFrame(1, "tes"), dataFrame(1, "ting", true));
    await expectStreamError(client, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it("8.1.1 DATA shorter than content-length at END_STREAM is a stream error PROTOCOL_ERROR", async () => {
    const { client } = await connect();
    send(
      client,
      headersFrame(1, postFields("/echo", [["content-length", "10"]]), END_HEADERS),
      dataFrame(1, "short", true),
    );
    await expectStreamError(client, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it("8.1.1 END_STREAM on the HEADERS of a request whose content-length is not 0 is a stream error PROTOCOL_ERROR", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, postFields("/echo", [["content-length", "3"]])));
    await expectStreamError(client, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it("8.1.1 two content-length fields that disagree are malformed", async () => {
    const { client } = await connect();
    const extra: [string, string][] = [
      ["content-length", "4"],
      ["content-length", "5"],
    ];
    send(client, headersFrame(1, postFields("/echo", extra), END_HEADERS), dataFrame(1, "test", true));
    await expectStreamError(client, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it("8.1.1 a content-length that is not a number is malformed", async () => {
    await expectMalformed([...getFields(), ["content-length", "-1"]]);
  });

  it("8.1.1 content-length that matches the DATA is served", async () => {
    const { client } = await connect();
    send(
      client,
      headersFrame(1, postFields("/echo", [["content-length", "7"]]), END_HEADERS),
      dataFrame(1, "tes"),
      dataFrame(1, "ting", true),
    );
    expect((await expectResponse(client, 1)).body).toBe("testing");
  });
});

describe("RFC 9113 8.2 HTTP fields", () => {
  it("8.2 a field name with upper-case letters is a stream error PROTOCOL_ERROR [h2spec http2/8.1.2/1]", async () => {
    await expectMalformed([...getFields(), ["X-TEST", "ok"]]);
  });
});

describe("RFC 9113 8.2.1 field validity", () => {
  for (const [what, name] of [
    ["a space", "x test"],
    ["a tab", "x\ttest"],
    ["DEL (0x7f)", "x\u007ftest"],
    ["an octet above 0x7f", "x\u00e9test"],
    ["a control character", "x\u0001test"],
  ]) {
    it(`8.2.1 a field name with ${what} is malformed`, async () => {
      await expectMalformed([...getFields(), [name!, "ok"]]);
    });
  }

  it("8.2.1 a field name with a colon other than at the start is malformed", async () => {
    await expectMalformed([...getFields(), ["x:test", "ok"]]);
  });

  it("8.2.1 an empty field name is malformed", async () => {
    await expectMalformed([...getFields(), ["", "ok"]]);
  });

  it("8.2.1 a field value with a NUL is malformed", async () => {
    await expectMalformed([...getFields(), ["x-test", "a\0b"]]);
  });

  it("8.2.1 a field value with a CR or LF is malformed", async () => {
    await expectMalformed([...getFields(), ["x-test", "a\r\nx-injected: 1"]]);
  });

  it("8.2.1 a field value with leading or trailing whitespace is malformed", async () => {
    await expectMalformed([...getFields(), ["x-test", " padded "]]);
  });

  it("8.2.1 a pseudo-header value with a CR or LF is malformed", async () => {
    await expectMalformed([
      [":method", "GET"],
      [":scheme", "http"],
      [":authority", "test"],
      [":path", "/a\nb"],
    ]);
  });

  it("8.2.1 a value with inner spaces, tabs and obs-text is valid", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, [...getFields(), ["x-test", "a b\tc\u00e9"]]));
    await expectResponse(client, 1);
  });
});

describe("RFC 9113 8.2.2 connection-specific header fields", () => {
  for (const [name, value] of [
    ["connection", "keep-alive"],
    ["keep-alive", "timeout=5"],
    ["proxy-connection", "keep-alive"],
    ["transfer-encoding", "chunked"],
    ["upgrade", "h2c"],
  ] as [string, string][]) {
    it(`8.2.2 a request with the connection-specific field ${name} is malformed [h2spec http2/8.1.2.2/1]`, async () => {
      await expectMalformed([...getFields(), [name, value]]);
    });
  }

  it('8.2.2 a TE field with any value other than "trailers" is malformed [h2spec http2/8.1.2.2/2]', async () => {
    await expectMalformed([...getFields(), ["te", "trailers, deflate"]]);
  });

  it("8.2.2 the server never generates connection-specific fields: a handler's are dropped from head and trailers", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, getFields("/hop")));
    const res = await expectResponse(client, 1);
    expect(res.body).toBe("hop");
    const hop = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"];
    for (const section of [res.headers, res.trailers ?? []]) {
      expect(section.filter(([n]) => hop.includes(n))).toEqual([]);
      expect(section).toContainEqual(["x-kept", "1"]);
    }
    expect(res.trailers).toBeDefined();
  });

  it("8.2.2 a connection-specific field in a trailer section is malformed", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, postFields(), END_HEADERS), dataFrame(1, "test"));
    send(client, headersFrame(1, [["transfer-encoding", "chunked"]]));
    await expectStreamError(client, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it('8.2.2 a TE field of "trailers" is accepted', async () => {
    const { client } = await connect();
    send(client, headersFrame(1, [...getFields(), ["te", "trailers"]]));
    await expectResponse(client, 1);
  });
});

describe("RFC 9113 8.2.3 compressing the cookie header field", () => {
  it('8.2.3 several cookie fields reach the application as one, joined with "; "', async () => {
    const { client } = await connect();
    send(
      client,
      headersFrame(1, [...getFields("/cookie"), ["cookie", "a=1"], ["x-other", "x"], ["cookie", "b=2"]]),
    );
    expect((await expectResponse(client, 1)).body).toBe("a=1; b=2");
  });
});

describe("RFC 9113 8.3 HTTP control data", () => {
  it("8.3 an unknown pseudo-header is malformed [h2spec http2/8.1.2.1/1]", async () => {
    await expectMalformed([...getFields(), [":test", "ok"]]);
  });

  it("8.3 a response pseudo-header (:status) in a request is malformed [h2spec http2/8.1.2.1/2]", async () => {
    await expectMalformed([...getFields(), [":status", "200"]]);
  });

  it("8.3 a pseudo-header in a trailer section is malformed [h2spec http2/8.1.2.1/3]", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, postFields(), END_HEADERS), dataFrame(1, "test"));
    send(client, headersFrame(1, [[":method", "POST"]]));
    await expectStreamError(client, 1, ErrorCode.PROTOCOL_ERROR);
  });

  it("8.3 a pseudo-header after a regular field is malformed [h2spec http2/8.1.2.1/4]", async () => {
    await expectMalformed([
      [":method", "GET"],
      [":scheme", "http"],
      ["x-test", "ok"],
      [":path", "/"],
      [":authority", "test"],
    ]);
  });
});

describe("RFC 9113 8.3.1 request pseudo-header fields", () => {
  it("8.3.1 an empty :path is malformed [h2spec http2/8.1.2.3/1]", async () => {
    await expectMalformed([
      [":method", "GET"],
      [":scheme", "http"],
      [":authority", "test"],
      [":path", ""],
    ]);
  });

  it("8.3.1 a request without :method is malformed [h2spec http2/8.1.2.3/2]", async () => {
    await expectMalformed(without(":method"));
  });

  it("8.3.1 a request without :scheme is malformed [h2spec http2/8.1.2.3/3]", async () => {
    await expectMalformed(without(":scheme"));
  });

  it("8.3.1 a request without :path is malformed [h2spec http2/8.1.2.3/4]", async () => {
    await expectMalformed(without(":path"));
  });

  it("8.3.1 a request with :method twice is malformed [h2spec http2/8.1.2.3/5]", async () => {
    await expectMalformed([[":method", "GET"], ...getFields()]);
  });

  it("8.3.1 a request with :scheme twice is malformed [h2spec http2/8.1.2.3/6]", async () => {
    await expectMalformed([...getFields().slice(0, 2), [":scheme", "http"], ...getFields().slice(2)]);
  });

  it("8.3.1 a request with :path twice is malformed [h2spec http2/8.1.2.3/7]", async () => {
    await expectMalformed([...getFields(), [":path", "/"]]);
  });

  it("8.3.1 a request with :authority twice is malformed", async () => {
    await expectMalformed([...getFields(), [":authority", "other"]]);
  });

  it("8.3.1 a :path that is neither origin form nor * is malformed", async () => {
    await expectMalformed([
      [":method", "GET"],
      [":scheme", "http"],
      [":authority", "test"],
      [":path", "no-slash"],
    ]);
  });

  it("8.3.1 :scheme is not restricted to http and https", async () => {
    const { client } = await connect();
    send(
      client,
      headersFrame(1, [
        [":method", "GET"],
        [":scheme", "foo"],
        [":authority", "test"],
        [":path", "/"],
      ]),
    );
    await expectResponse(client, 1);
  });

  it("8.3.1 :path * is valid for OPTIONS", async () => {
    const { client } = await connect();
    send(
      client,
      headersFrame(1, [
        [":method", "OPTIONS"],
        [":scheme", "http"],
        [":authority", "test"],
        [":path", "*"],
      ]),
    );
    await expectResponse(client, 1);
  });

  it("8.3.1 a host field that names another entity than :authority is malformed", async () => {
    await expectMalformed([...getFields(), ["host", "elsewhere.example"]]);
  });

  it("8.3.1 a host field equal to :authority (up to case and a default port) is accepted", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, [...getFields(), ["host", "TEST:80"]]));
    await expectResponse(client, 1);
  });

  it("8.3.1 :authority may be left out when a host field carries the authority", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, [...without(":authority"), ["host", "test"]]));
    await expectResponse(client, 1);
  });
});

describe("RFC 9113 8.3.2 response pseudo-header fields", () => {
  it("8.3.2 a response carries :status first and no other pseudo-header; every field name is lower case", async () => {
    const { client } = await connect();
    send(client, headersFrame(1, getFields("/hop")));
    const res = await expectResponse(client, 1);
    expect(res.headers[0]).toEqual([":status", "200"]);
    const names = res.headers.slice(1).map(([n]) => n);
    expect(names.filter((n) => n.startsWith(":") || n !== n.toLowerCase())).toEqual([]);
  });
});

describe("RFC 9113 8.4 server push", () => {
  it("8.4 a PUSH_PROMISE from a client is a connection error PROTOCOL_ERROR [h2spec http2/8.2/1]", async () => {
    const c = await connect();
    await halfClosedRemote(c.client, 1);
    send(c.client, pushPromiseFrame(1, 2));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });
});

describe("RFC 9113 8.5 the CONNECT method", () => {
  it("8.5 a CONNECT request with only :method and :authority is a valid request", async () => {
    const { client } = await connect();
    send(
      client,
      headersFrame(
        1,
        [
          [":method", "CONNECT"],
          [":authority", "example.com:443"],
        ],
        END_HEADERS,
      ),
    );
    const head = await client.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1);
    expect(head.headers).toContainEqual([":status", "200"]);
  });

  it("8.5 a CONNECT request with :scheme is malformed", async () => {
    await expectMalformed([
      [":method", "CONNECT"],
      [":scheme", "http"],
      [":authority", "example.com:443"],
    ]);
  });

  it("8.5 a CONNECT request with :path is malformed", async () => {
    await expectMalformed([
      [":method", "CONNECT"],
      [":authority", "example.com:443"],
      [":path", "/"],
    ]);
  });

  it("8.5 a CONNECT request without :authority is malformed", async () => {
    await expectMalformed([[":method", "CONNECT"]]);
  });

  it("8.5 an extended CONNECT (:protocol) is malformed: SETTINGS_ENABLE_CONNECT_PROTOCOL was not offered", async () => {
    await expectMalformed([
      [":method", "CONNECT"],
      [":protocol", "websocket"],
      [":scheme", "http"],
      [":authority", "test"],
      [":path", "/chat"],
    ]);
  });
});
