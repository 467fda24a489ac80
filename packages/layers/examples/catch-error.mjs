// node examples/catch-error.mjs: turn a timeout into a 504 response and anything else into a 500.
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { Extensions, stack, TimeoutError } from "@tessera/core";
import { catchError } from "@tessera/layers/catch-error";
import { timeout } from "@tessera/layers/timeout";

const handler = {
  serve: async (req) => {
    if (req.path === "/slow") await sleep(100);
    if (req.path === "/bug") throw new Error("bug");
    return { status: 200 };
  },
};

export async function main() {
  const svc = stack(
    catchError((error) => ({ status: error instanceof TimeoutError ? 504 : 500 })),
    timeout(20),
  ).into(handler);
  const get = (path) => svc.serve({ path, extensions: new Extensions() }).then((res) => res.status);
  return { ok: await get("/"), slow: await get("/slow"), bug: await get("/bug") };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
