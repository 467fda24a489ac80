import { service } from "@tessera/core";
import { autoServer, type Request, Response } from "@tessera/http";
import { memoryConnPair } from "@tessera/net";
import { expect, it } from "vitest";
import { server } from "../src/index.js";
import { RawClient } from "./support/raw-client.js";

it("runs behind @tessera/http's autoServer: the sniffed (rewound) connection replays the preface to us", async () => {
  let http1Used = false;
  const auto = autoServer({
    http1: {
      serve: async () => {
        http1Used = true;
      },
    },
    http2: server(service((req: Request) => Response.text(`h2 ${req.path}`))),
  });
  const [c, s] = memoryConnPair();
  const done = auto.serve(s);
  const client = new RawClient(c);
  await client.handshake();
  client.get(1, "/auto");
  expect((await client.response(1)).body).toBe("h2 /auto");
  expect(http1Used).toBe(false);
  c.stream.end();
  await done;
});
