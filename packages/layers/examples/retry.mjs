// node examples/retry.mjs: a flaky service fails twice, retry succeeds on the third attempt; each attempt
// runs on forked extensions, so the breadcrumbs of the failed ones are gone.
import { pathToFileURL } from "node:url";
import { Extensions, key, stack } from "@tessera/core";
import { retry, retryBudget } from "@tessera/layers/retry";

const Attempt = key("example.Attempt");

class Req {
  constructor(path, extensions = new Extensions()) {
    this.path = path;
    this.extensions = extensions;
  }
  withExtensions(extensions) {
    return new Req(this.path, extensions);
  }
}

let calls = 0;
const flaky = {
  serve: async (req) => {
    calls++;
    req.extensions.insert(Attempt, calls);
    if (calls < 3) throw Object.assign(new Error("connection reset"), { code: "ECONNRESET" });
    return `ok after ${calls} attempts, breadcrumbs seen: ${req.extensions.getAll(Attempt)}`;
  },
};

export async function main() {
  const budget = retryBudget({ ratio: 0.2, minPerSecond: 10 }); // share it across clients
  const svc = stack(
    retry({ attempts: 4, baseDelay: 10, budget, isRetryable: (error) => error.code === "ECONNRESET" }),
  ).into(flaky);
  return svc.serve(new Req("/"));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
