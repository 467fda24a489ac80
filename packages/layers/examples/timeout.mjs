// node examples/timeout.mjs: a call that outlives its deadline fails with ERR_TIMEOUT, and the slow work
// sees the abort and stops (its timer is cleared, so the process exits at once).
import { pathToFileURL } from "node:url";
import { Extensions, signalOf, stack } from "@tessera/core";
import { timeout } from "@tessera/layers/timeout";

const slowLookup = {
  serve: (req) =>
    new Promise((resolve, reject) => {
      const signal = signalOf(req);
      const timer = setTimeout(resolve, 10_000, "answer");
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    }),
};

export async function main() {
  const svc = stack(timeout(50)).into(slowLookup);
  try {
    return await svc.serve({ extensions: new Extensions() });
  } catch (error) {
    return `${error.code}: ${error.message}`;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
