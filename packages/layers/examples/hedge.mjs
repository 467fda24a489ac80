// node examples/hedge.mjs: the first replica is stuck; after 20 ms a second attempt goes out and wins, and
// the stuck attempt is cancelled.
import { pathToFileURL } from "node:url";
import { Extensions, signalOf, stack } from "@tessera/core";
import { hedge } from "@tessera/layers/hedge";

class Req {
  constructor(extensions = new Extensions()) {
    this.extensions = extensions;
  }
  withExtensions(extensions) {
    return new Req(extensions);
  }
}

export async function main() {
  let attempt = 0;
  const cancelled = [];
  const replicas = {
    serve: (req) =>
      new Promise((resolve, reject) => {
        const n = ++attempt;
        const timer = setTimeout(resolve, n === 1 ? 5_000 : 5, `answer from attempt ${n}`);
        signalOf(req).addEventListener("abort", () => {
          clearTimeout(timer);
          cancelled.push(n);
          reject(signalOf(req).reason);
        });
      }),
  };
  const svc = stack(hedge({ delay: 20 })).into(replicas);
  const answer = await svc.serve(new Req());
  return { answer, cancelled };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
