// node examples/rate-limit.mjs: 2 calls per second per peer with bursts of 3; each peer has its own bucket.
import { pathToFileURL } from "node:url";
import { Extensions, key, service, stack } from "@tessera/core";
import { rateLimit } from "@tessera/layers/rate-limit";

const PeerIp = key("example.PeerIp");
const conn = (ip) => ({ extensions: new Extensions().insert(PeerIp, ip) });

export async function main() {
  const svc = stack(
    rateLimit({ rate: 2, burst: 3, key: (c) => c.extensions.get(PeerIp), maxKeys: 10_000 }),
  ).into(service(() => "ok"));
  const outcome = (p) =>
    p.then(
      (v) => v,
      (e) => `${e.code} (retry in ${e.retryAfterMs} ms)`,
    );
  const a = [];
  for (let i = 0; i < 4; i++) a.push(await outcome(svc.serve(conn("10.0.0.1"))));
  const b = await outcome(svc.serve(conn("10.0.0.2")));
  return { "10.0.0.1": a, "10.0.0.2": b };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
