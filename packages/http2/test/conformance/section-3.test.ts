// RFC 9113 section 3: starting HTTP/2 (prior knowledge, 3.3) and the connection preface (3.4).
import { describe, expect, it } from "vitest";
import {
  connect,
  ErrorCode,
  expectAlive,
  expectConnectionError,
  expectResponse,
  FrameFlag,
  FrameType,
  frame,
  getFields,
  headersFrame,
  open,
  send,
  settingsFrame,
} from "./conformance.js";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

describe("RFC 9113 3.3 starting HTTP/2 with prior knowledge", () => {
  it("3.3 a client that knows the server speaks HTTP/2 sends the preface and gets HTTP/2 back [h2spec generic/1/1]", async () => {
    const c = await connect();
    expect(c.client.frames[0]!.type).toBe(FrameType.SETTINGS);
    send(c.client, headersFrame(1, getFields()));
    await expectResponse(c.client, 1);
  });
});

describe("RFC 9113 3.4 HTTP/2 connection preface", () => {
  it("3.4 the server connection preface is a SETTINGS frame, the first frame the server sends [h2spec http2/3.5/1]", async () => {
    const { client } = open();
    send(client, PREFACE, settingsFrame([]));
    const first = await client.waitFor(() => true);
    expect(first.type).toBe(FrameType.SETTINGS);
    expect(first.flags & FrameFlag.ACK).toBe(0);
    expect(first.streamId).toBe(0);
  });

  it("3.4 the SETTINGS frames received as part of the preface MUST be acknowledged [h2spec http2/3.5/1]", async () => {
    const { client } = open();
    send(client, PREFACE, settingsFrame([]));
    const ack = await client.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) !== 0);
    expect(ack.data.length).toBe(0);
  });

  it("3.4 an invalid connection preface is a connection error of type PROTOCOL_ERROR [h2spec http2/3.5/2]", async () => {
    const c = open();
    send(c.client, Buffer.from("INVALID CONNECTION PREFACE\r\n\r\n", "latin1"));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("3.4 a preface that is not followed by a SETTINGS frame is a connection error PROTOCOL_ERROR", async () => {
    const c = open();
    send(c.client, PREFACE, frame(FrameType.PING, 0, 0, Buffer.alloc(8)));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("3.4 a preface followed by a SETTINGS frame with ACK (not the client's own SETTINGS) is a PROTOCOL_ERROR", async () => {
    const c = open();
    send(c.client, PREFACE, frame(FrameType.SETTINGS, FrameFlag.ACK, 0));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("3.4 an HTTP/1.1 request in place of the preface is a PROTOCOL_ERROR", async () => {
    const c = open();
    send(c.client, Buffer.from("GET / HTTP/1.1\r\nhost: test\r\n\r\n", "latin1"));
    await expectConnectionError(c, ErrorCode.PROTOCOL_ERROR);
  });

  it("3.4 the client may send frames right after its preface, without waiting for the server's SETTINGS", async () => {
    const { client } = open();
    send(client, Buffer.concat([PREFACE, settingsFrame([]), headersFrame(1, getFields())]));
    const res = await client.response(1);
    expect(res.status).toBe("200");
    expect(res.body).toBe("ok");
  });

  it("3.4 the preface may arrive one octet at a time", async () => {
    const { client } = open();
    for (const b of Buffer.concat([PREFACE, settingsFrame([])])) client.write(Buffer.from([b]));
    await client.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) !== 0);
    client.w.settingsAck();
    await expectAlive(client);
  });
});
