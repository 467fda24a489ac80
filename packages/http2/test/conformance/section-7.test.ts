// RFC 9113 section 7: error codes.
import { describe, expect, it } from "vitest";
import {
  connect,
  ErrorCode,
  expectAlive,
  expectCleanClose,
  expectResponse,
  getFields,
  goawayFrame,
  halfClosedRemote,
  headersFrame,
  rstStreamFrame,
  send,
} from "./conformance.js";

describe("RFC 9113 7 error codes", () => {
  it("7 a GOAWAY with an unknown error code gets no special behaviour: the open stream goes on, then a clean close [h2spec http2/7/1]", async () => {
    const c = await connect();
    await halfClosedRemote(c.client, 1);
    send(c.client, goawayFrame(1, 0xff));
    await expectAlive(c.client, false);
    send(c.client, rstStreamFrame(1, ErrorCode.CANCEL));
    // The server closes as after any GOAWAY: without an error of its own.
    await expectCleanClose(c);
  });

  it("7 an RST_STREAM with an unknown error code gets no special behaviour: the stream closes, the connection goes on [h2spec http2/7/2]", async () => {
    // One stream at a time: stream 3 is served only if the reset closed stream 1 (else REFUSED_STREAM).
    const { client } = await connect([], { maxConcurrentStreams: 1 });
    await halfClosedRemote(client, 1);
    send(client, rstStreamFrame(1, 0xff));
    await expectAlive(client, false);
    send(client, headersFrame(3, getFields()));
    await expectResponse(client, 3);
  });

  it("7 an RST_STREAM with each error code RFC 9113 defines is accepted as a reset", async () => {
    // One stream at a time: each stream opens (and the last request is served) only if the reset before it
    // closed the previous one (else REFUSED_STREAM).
    const { client } = await connect([], { maxConcurrentStreams: 1 });
    const codes = Object.values(ErrorCode);
    expect(codes).toHaveLength(14);
    for (const [i, code] of codes.entries()) {
      const id = 1 + 2 * i;
      await halfClosedRemote(client, id);
      send(client, rstStreamFrame(id, code));
    }
    await expectAlive(client, false);
    send(client, headersFrame(1 + 2 * codes.length, getFields()));
    await expectResponse(client, 1 + 2 * codes.length);
  });
});
