import { pipeline } from "node:stream/promises";
import { type Service, service } from "@tessera/core";
import { HeaderMap, type Request, Response } from "@tessera/http";
import type { Conn } from "@tessera/net";
import { describe, expect, it } from "vitest";
import { OnUpgrade, UpgradeError, withUpgrade } from "../src/index.js";
import { get, header, memoryServer, sleep } from "./support/server-harness.js";

/** Echoes the upgraded connection's bytes back, upper-cased, until the client ends. */
const shout: Service<Conn, void> = service(async (conn: Conn) => {
  const { Transform } = await import("node:stream");
  await pipeline(
    conn.stream,
    new Transform({
      transform(chunk: Buffer, _e, cb) {
        cb(null, Buffer.from(chunk.toString("latin1").toUpperCase(), "latin1"));
      },
    }),
    conn.stream,
  );
});

function upgradeHandler(onConn?: (conn: Conn) => void) {
  return service((req: Request) => {
    if (req.headers.get("upgrade") !== "shout") return Response.text("plain HTTP");
    const res = new Response(
      101,
      HeaderMap.fromPairs([
        ["Connection", "Upgrade"],
        ["Upgrade", "shout"],
      ]),
    );
    return withUpgrade(
      res,
      service(async (conn: Conn) => {
        onConn?.(conn);
        await shout.serve(conn);
      }),
    );
  });
}

const UPGRADE = "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n";

describe("http1 server: upgrades", () => {
  it("hands the raw connection to the upgrade service after the 101, replaying bytes sent with the head", async () => {
    let ext: unknown;
    const t = memoryServer(upgradeHandler((conn) => (ext = conn.extensions)));
    t.reader.expect("GET");
    t.send(`${UPGRADE}early bytes,`);
    const res = await t.reader.response();
    expect(res.status).toBe(101);
    expect(header(res, "upgrade")).toBe("shout");
    expect(header(res, "connection")).toBe("Upgrade");
    t.send("later");
    await t.reader.until(() => Buffer.concat(t.reader.upgradeBytes).toString().includes("LATER"), "echo");
    const tail = t.reader.text.slice(t.reader.text.indexOf("\r\n\r\n") + 4);
    expect(tail).toBe("EARLY BYTES,LATER");
    t.client.stream.end();
    await t.served;
    // The upgraded connection carries the request's extensions: a fork of the connection's.
    expect((ext as { parent: unknown }).parent).toBe(t.conn.extensions);
  });

  it("goes on with HTTP/1 when the handler declines the upgrade", async () => {
    const t = memoryServer(service((req: Request) => Response.text(`declined ${req.path}`)));
    t.reader.expect("GET", "GET");
    t.send(UPGRADE + get("/next"));
    expect((await t.reader.response(0)).body.toString()).toBe("declined /chat");
    expect((await t.reader.response(1)).body.toString()).toBe("declined /next");
  });

  it("answers pipelined requests before the upgrade first, in order", async () => {
    const t = memoryServer(upgradeHandler());
    t.reader.expect("GET", "GET");
    t.send(get("/first") + UPGRADE + "x");
    expect((await t.reader.response(0)).body.toString()).toBe("plain HTTP");
    expect((await t.reader.response(1)).status).toBe(101);
    await t.reader.until(() => t.reader.text.endsWith("X"), "echo");
  });

  it("CONNECT: a 2xx with an upgrade service opens a tunnel that gets the bytes sent after the head", async () => {
    let target = "";
    const t = memoryServer(
      service((req: Request) => {
        target = req.target;
        return withUpgrade(new Response(200), shout);
      }),
    );
    t.reader.expect("CONNECT");
    t.send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nhello");
    const res = await t.reader.response();
    expect(res.status).toBe(200);
    expect(header(res, "content-length")).toBeUndefined();
    expect(header(res, "transfer-encoding")).toBeUndefined();
    await t.reader.until(() => t.reader.text.endsWith("HELLO"), "tunnel echo");
    expect(target).toBe("example.com:443");
    t.client.stream.end();
    await t.served;
  });

  it("a declined CONNECT is answered and the connection closed (tunnel bytes are never parsed as HTTP)", async () => {
    const t = memoryServer({ serve: () => Response.text("no", { status: 407 }) });
    t.reader.expect("CONNECT");
    t.send(`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n${get("/smuggled")}`);
    const res = await t.reader.response();
    expect(res.status).toBe(407);
    expect(header(res, "connection")).toBe("close");
    await t.reader.closed();
    expect(t.reader.responses).toHaveLength(1);
  });

  it("reports a failing upgrade service typed and closes the connection", async () => {
    const t = memoryServer({
      serve: () =>
        withUpgrade(
          new Response(
            101,
            HeaderMap.fromPairs([
              ["Upgrade", "x"],
              ["Connection", "Upgrade"],
            ]),
          ),
          service(async () => {
            throw new Error("nope");
          }),
        ),
    });
    t.reader.expect("GET");
    t.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n");
    await t.served;
    expect(t.errors[0]).toBeInstanceOf(UpgradeError);
    await t.reader.closed();
  });

  it("OnUpgrade is the extension key withUpgrade sets", () => {
    const res = withUpgrade(new Response(101), shout);
    expect(res.extensions.get(OnUpgrade)).toBe(shout);
  });

  it("the upgraded stream sees bytes that arrived while the handler was deciding", async () => {
    const t = memoryServer(
      service(async (req: Request) => {
        await sleep(30);
        return upgradeHandler().serve(req);
      }),
    );
    t.reader.expect("GET");
    t.send(UPGRADE);
    await sleep(5);
    t.send("while waiting;");
    await t.reader.until(() => t.reader.text.endsWith("WHILE WAITING;"), "echo of early bytes");
  });
});
