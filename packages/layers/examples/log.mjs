// node examples/log.mjs: one child logger per input, its id on the extensions, start/end/error lines.
import { pathToFileURL } from "node:url";
import { Extensions, service, stack } from "@tessera/core";
import { LogId, log, loggerOf } from "@tessera/layers/log";
import { pino } from "pino";

export async function main() {
  const lines = [];
  const logger = pino({ level: "debug" }, { write: (line) => lines.push(JSON.parse(line)) });
  const handler = service((req) => {
    loggerOf(req, logger).info({ user: "ada" }, "looking up user"); // carries the call's id
    if (req.path === "/fail") throw new Error("no such user");
    return { status: 200 };
  });
  let n = 0;
  const svc = stack(
    log({ logger, id: () => `req-${++n}`, bindings: (req) => ({ path: req.path }), result: (res) => res }),
  ).into(handler);
  const req = { path: "/users/ada", extensions: new Extensions() };
  await svc.serve(req);
  await svc.serve({ path: "/fail", extensions: new Extensions() }).catch(() => {});
  return {
    idOnExtensions: req.extensions.get(LogId),
    lines: lines.map((l) => `${l.level} ${l.id} ${l.path} ${l.msg}${l.status ? ` status=${l.status}` : ""}`),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
