// node examples/map.mjs: adapt a service's types: plain strings in, status numbers out, typed errors.
import { pathToFileURL } from "node:url";
import { Extensions, service, stack, TesseraError } from "@tessera/core";
import { andThen, mapError, mapInput, mapOutput } from "@tessera/layers/map";

class UpstreamError extends TesseraError {
  static code = "ERR_UPSTREAM";
  constructor(cause) {
    super(UpstreamError.code, `upstream failed: ${cause.message}`, { cause });
  }
}

const handler = service((req) => {
  if (req.path === "/boom") throw new Error("kaboom");
  return { status: req.path === "/" ? 200 : 404 };
});

export async function main() {
  const statusOf = stack(
    mapInput((path) => ({ path, extensions: new Extensions() })),
    mapError((error) => new UpstreamError(error)),
    mapOutput((res) => res.status),
  ).into(handler);
  const described = stack(andThen(async (res, req) => `${req.path} -> ${res.status}`)).into(handler);
  return {
    root: await statusOf.serve("/"),
    missing: await statusOf.serve("/missing"),
    boom: await statusOf.serve("/boom").catch((e) => `${e.code}: ${e.message}`),
    described: await described.serve({ path: "/x", extensions: new Extensions() }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
