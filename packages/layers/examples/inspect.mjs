// node examples/inspect.mjs: count calls, outputs and failures without touching them.
import { pathToFileURL } from "node:url";
import { service, stack } from "@tessera/core";
import { inspect } from "@tessera/layers/inspect";

export async function main() {
  const stats = { calls: 0, ok: 0, failed: 0 };
  const svc = stack(
    inspect({ input: () => stats.calls++, output: () => stats.ok++, error: () => stats.failed++ }),
  ).into(
    service((n) => {
      if (n < 0) throw new RangeError("negative");
      return Math.sqrt(n);
    }),
  );
  await svc.serve(16);
  await svc.serve(-1).catch(() => {});
  return stats;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
