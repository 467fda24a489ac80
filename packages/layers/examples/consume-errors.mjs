// node examples/consume-errors.mjs: an acceptor whose connection handler fails must not crash the accept
// loop: the error is logged (here to an array) and dropped.
import { pathToFileURL } from "node:url";
import { Extensions, stack } from "@tessera/core";
import { consumeErrors } from "@tessera/layers/consume-errors";
import { pino } from "pino";

export async function main() {
  const lines = [];
  const logger = pino({ level: "info" }, { write: (line) => lines.push(JSON.parse(line)) });
  const handleConn = {
    serve: async () => {
      throw Object.assign(new Error("peer sent garbage"), { code: "ERR_BAD_HANDSHAKE" });
    },
  };
  const acceptor = stack(consumeErrors({ logger })).into(handleConn); // Service<Conn, void>
  const result = await acceptor.serve({ extensions: new Extensions() });
  return { result, logged: lines.map((l) => `${l.level} ${l.msg}: ${l.err.code}`) };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
