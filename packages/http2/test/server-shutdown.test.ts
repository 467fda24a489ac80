import { createShutdown, service } from "@tessera/core";
import { type Request, Response } from "@tessera/http";
import { Draining, memoryConnPair } from "@tessera/net";
import { describe, expect, it } from "vitest";
import { ErrorCode, FrameFlag, FrameType, MAX_STREAM_ID, server } from "../src/index.js";
import { RawClient } from "./support/raw-client.js";

const GET: [string, string][] = [
  [":method", "GET"],
  [":scheme", "http"],
  [":authority", "t"],
  [":path", "/"],
];

describe("graceful shutdown (RFC 9113 6.8)", () => {
  it("core Shutdown: GOAWAY(max) + PING, final GOAWAY(last id) on the PING ACK, in-flight finishes, then close", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    const shutdown = createShutdown();
    const srv = server(
      service(async (req: Request) => {
        calls++;
        await gate;
        return Response.text(`done ${req.path}`);
      }),
      { shutdown },
    );
    const [c, s] = memoryConnPair();
    const done = srv.serve(s);
    const client = new RawClient(c);
    await client.handshake();
    client.headers(1, GET);
    await client.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) !== 0);
    await new Promise((r) => setTimeout(r, 20));
    void shutdown.close();
    const first = await client.goaway();
    expect(first.lastStreamId).toBe(MAX_STREAM_ID);
    expect(first.errorCode).toBe(ErrorCode.NO_ERROR);
    const ping = await client.waitFor((f) => f.type === FrameType.PING && (f.flags & FrameFlag.ACK) === 0);
    // A request already on the wire before the client saw the GOAWAY is still served.
    client.headers(3, GET);
    client.w.ping(ping.data, true);
    client.flush();
    const goaways = async () => {
      await client.waitFor((f) => f.type === FrameType.GOAWAY && f.lastStreamId !== MAX_STREAM_ID);
      return client.frames.filter((f) => f.type === FrameType.GOAWAY);
    };
    const all = await goaways();
    expect(all).toHaveLength(2);
    expect(all[1]!.lastStreamId).toBe(3);
    // After the final GOAWAY, new streams are ignored.
    client.headers(5, GET);
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toBe(2);
    expect(client.closed || client.ended).toBe(false);
    release();
    expect((await client.response(1)).body).toBe("done /");
    expect((await client.response(3)).body).toBe("done /");
    await done;
    await client.waitClosed();
    expect(client.stream(5)).toHaveLength(0);
  });

  it("net Draining on an idle connection: both GOAWAYs, then close, even if the PING is never answered", async () => {
    const drain = new AbortController();
    const [c, s] = memoryConnPair();
    s.extensions.insert(Draining, drain.signal);
    const done = server(service(() => Response.text("x"))).serve(s);
    const client = new RawClient(c);
    await client.handshake();
    client.get(1);
    await client.response(1);
    drain.abort();
    await done;
    await client.waitClosed();
    const goaways = client.frames.filter((f) => f.type === FrameType.GOAWAY);
    expect(goaways.map((f) => f.lastStreamId)).toEqual([MAX_STREAM_ID, 1]);
  });

  it("when the grace period ends (Shutdown.forced), a connection still busy is destroyed and its requests aborted", async () => {
    const shutdown = createShutdown();
    let aborted = false;
    const srv = server(
      service(
        (req: Request) =>
          new Promise<Response>((resolve) => {
            req.signal.addEventListener("abort", () => {
              aborted = true;
              resolve(Response.text("x"));
            });
          }),
      ),
      { shutdown },
    );
    const [c, s] = memoryConnPair();
    const done = srv.serve(s);
    const client = new RawClient(c);
    await client.handshake();
    client.get(1);
    await new Promise((r) => setTimeout(r, 20));
    const leave = shutdown.enter(); // the in-flight work a listener would count
    const closed = shutdown.close({ timeout: 50 });
    await done;
    expect(aborted).toBe(true);
    expect((await closed).forced).toBe(true);
    leave();
  });
});
