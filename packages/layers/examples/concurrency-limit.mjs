// node examples/concurrency-limit.mjs: ten calls, at most three at once, a queue of five; the last two
// are refused with ERR_OVERLOADED.
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { Extensions, stack } from "@tessera/core";
import { concurrencyLimit } from "@tessera/layers/concurrency-limit";

export async function main() {
  let running = 0;
  let peak = 0;
  const work = {
    serve: async () => {
      peak = Math.max(peak, ++running);
      await sleep(10);
      running--;
      return "done";
    },
  };
  const svc = stack(concurrencyLimit(3, { queue: 5 })).into(work);
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, () => svc.serve({ extensions: new Extensions() })),
  );
  const refused = results.filter((r) => r.status === "rejected").map((r) => r.reason.code);
  return { peak, done: results.length - refused.length, refused };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
