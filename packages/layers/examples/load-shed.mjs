// node examples/load-shed.mjs: with loadShed above the limit, a call that would have queued fails at once.
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { Extensions, stack } from "@tessera/core";
import { concurrencyLimit } from "@tessera/layers/concurrency-limit";
import { loadShed } from "@tessera/layers/load-shed";
import { timeout } from "@tessera/layers/timeout";

export async function main() {
  const work = { serve: () => sleep(20, "done") };
  // timeout sits between: it passes the limit's capacity report up to loadShed.
  const svc = stack(loadShed(), timeout(1_000), concurrencyLimit(2)).into(work);
  const call = () => {
    const started = performance.now();
    return svc.serve({ extensions: new Extensions() }).then(
      (value) => value,
      (error) => `${error.code} after ${Math.round(performance.now() - started)} ms`,
    );
  };
  return Promise.all([call(), call(), call()]);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
