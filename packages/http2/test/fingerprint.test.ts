import { Extensions, service } from "@tessera/core";
import { Request, Response } from "@tessera/http";
import { memoryConnPair } from "@tessera/net";
import { describe, expect, it } from "vitest";
import {
  akamaiFingerprint,
  clientConnection,
  type Http2Fingerprint,
  Http2FingerprintKey,
  server,
} from "../src/index.js";
import { RawClient, serve } from "./support/raw-client.js";

/** Answers with the fingerprint the request sees (from the connection's extensions) as JSON. */
const reporter = service((req: Request) => {
  const fp = req.extensions.get(Http2FingerprintKey);
  return Response.json(fp === undefined ? null : { akamai: fp.akamai, hash: fp.hash, ps: fp.pseudoHeaders });
});

// Published Akamai fingerprints (and their MD5, the form fingerprint databases use).
const FIREFOX =
  "1:65536;4:131072;5:16384|12517377|3:0:0:201,5:0:0:101,7:0:0:1,9:0:7:1,11:0:3:1,13:0:0:241|m,p,a,s";
const FIREFOX_MD5 = "3d9132023bf26a71d40fe766e5c24c9d";
const CHROME = "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p";
const CHROME_MD5 = "52d84b11737d980aef856699f885ca86";

describe("server-side HTTP/2 fingerprint (Akamai S|WU|P|PS)", () => {
  it("records Firefox's opening (SETTINGS order, WINDOW_UPDATE, six PRIORITY frames, m,p,a,s)", async () => {
    const { client } = serve(reporter);
    client.w.preface().settings([
      [1, 65536],
      [4, 131072],
      [5, 16384],
    ]);
    client.w.windowUpdate(0, 12517377);
    for (const [id, dep, weight] of [
      [3, 0, 201],
      [5, 0, 101],
      [7, 0, 1],
      [9, 7, 1],
      [11, 3, 1],
      [13, 0, 241],
    ] as const) {
      client.w.priority(id, { dependency: dep, weight, exclusive: false });
    }
    client.flush();
    client.headers(15, [
      [":method", "GET"],
      [":path", "/"],
      [":authority", "example.com"],
      [":scheme", "https"],
    ]);
    const res = await client.response(15);
    expect(JSON.parse(res.body)).toEqual({
      akamai: FIREFOX,
      hash: FIREFOX_MD5,
      ps: [":method", ":path", ":authority", ":scheme"],
    });
  });

  it("records what our client sends when told to look like Chrome (emulation round trip)", async () => {
    const [a, b] = memoryConnPair();
    void server(reporter).serve(b);
    const client = await clientConnection(a, {
      settings: [
        [1, 65536],
        [2, 0],
        [4, 6291456],
        [6, 262144],
      ],
      windowUpdate: 15663105,
      pseudoHeaderOrder: ["method", "authority", "scheme", "path"],
      headerPriority: { dependency: 0, weight: 256, exclusive: true },
    });
    try {
      const res = await client.serve(Request.get("https://example.com/"));
      const json = (await res.body.json()) as { akamai: string; hash: string };
      expect(json.akamai).toBe(CHROME);
      expect(json.hash).toBe(CHROME_MD5);
    } finally {
      client.destroy();
    }
  });

  it("is the connection's: later requests see the first request's pseudo-header order, and later frames change nothing", async () => {
    const connExt = new Extensions();
    const [c, s] = memoryConnPair({ serverExtensions: connExt });
    void server(reporter).serve(s);
    const client = new RawClient(c);
    await client.handshake([[4, 100_000]]);
    client.get(1, "/first");
    const first = JSON.parse((await client.response(1)).body) as { akamai: string };
    // After the first HEADERS: a PRIORITY frame, a WINDOW_UPDATE and a request with another order.
    client.w.priority(5, { dependency: 0, weight: 16 });
    client.w.windowUpdate(0, 1000);
    client.flush();
    client.headers(3, [
      [":path", "/second"],
      [":method", "GET"],
      [":scheme", "http"],
      [":authority", "test"],
    ]);
    const second = (await client.response(3)).body;
    expect(first.akamai).toBe("4:100000|00|0|m,s,a,p");
    expect(JSON.parse(second).akamai).toBe(first.akamai);
    // On the connection's own extensions, not only the request's fork.
    expect(connExt.get(Http2FingerprintKey)?.akamai).toBe(first.akamai);
  });

  it("an empty SETTINGS frame gives an empty S part", () => {
    expect(akamaiFingerprint([], 0, [], [":method", ":scheme", ":path", ":authority"])).toBe("|00|0|m,s,p,a");
  });

  it("keeps unknown and GREASE setting ids in wire order, and exclusive PRIORITY as 1", async () => {
    const { client } = serve(reporter);
    client.w.preface().settings([
      [0x0a0a, 7],
      [3, 100],
      [1, 4096],
    ]);
    client.w.priority(3, { dependency: 0, weight: 256, exclusive: true });
    client.flush();
    client.get(1);
    const fp = JSON.parse((await client.response(1)).body) as Pick<Http2Fingerprint, "akamai">;
    expect(fp.akamai).toBe("2570:7;3:100;1:4096|00|3:1:0:256|m,s,a,p");
  });

  it("is bounded: a client opening with thousands of PRIORITY frames is remembered by its first 32", async () => {
    const { client } = serve(reporter);
    client.w.preface().settings([]);
    for (let id = 3; id < 3 + 2 * 5000; id += 2) client.w.priority(id, { dependency: 0, weight: 1 });
    client.flush();
    client.get(20_001);
    const fp = JSON.parse((await client.response(20_001, 5000)).body) as { akamai: string };
    expect(fp.akamai.split("|")[2]!.split(",")).toHaveLength(32);
  });
});
