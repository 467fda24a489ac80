import { service } from "@tessera/core";
import { type Request, Response } from "@tessera/http";
import { describe, expect, it } from "vitest";
import { FrameFlag, FrameType, SettingId } from "../src/index.js";
import { serve } from "./support/raw-client.js";

describe("regression: a stream opened before the client ACKed our SETTINGS gets our larger window on the ACK", () => {
  it("accepts DATA up to the advertised INITIAL_WINDOW_SIZE (RFC 9113 6.9.2), no FLOW_CONTROL_ERROR", async () => {
    const size = 200_000;
    const { client } = serve(
      service(async (req: Request) =>
        Response.text(String((await req.body.bytes({ limit: size })).byteLength)),
      ),
      { initialWindowSize: 1024 * 1024, connectionWindowSize: 1024 * 1024 },
    );
    // Preface, SETTINGS and the request before the client has seen the server's SETTINGS.
    client.w.preface().settings([]);
    client.get(1, "/", false);
    const settings = await client.waitFor(
      (f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) === 0,
    );
    expect(settings.settings).toContain(SettingId.INITIAL_WINDOW_SIZE);
    // The client applies the server's 1 MiB initial window to stream 1 (6.9.2), ACKs, and sends 200 kB at once.
    client.w.settingsAck();
    for (let sent = 0; sent < size; sent += 16_384) {
      client.w.data(1, Buffer.alloc(Math.min(16_384, size - sent)), { endStream: sent + 16_384 >= size });
    }
    client.flush();
    const res = await client.response(1);
    expect(res.status).toBe("200");
    expect(res.body).toBe(String(size));
  });
});
