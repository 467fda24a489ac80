// node examples/circuit-breaker.mjs: three failures open the circuit; calls fail fast while it is open;
// after openFor it lets a trial through, which succeeds and closes it.
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { stack } from "@tessera/core";
import { circuitBreaker } from "@tessera/layers/circuit-breaker";

export async function main() {
  let healthy = false;
  let backendCalls = 0;
  const backend = {
    serve: async () => {
      backendCalls++;
      if (!healthy) throw new Error("503 from upstream");
      return "ok";
    },
  };
  const states = [];
  const svc = stack(
    circuitBreaker({
      consecutiveFailures: 3,
      openFor: 30,
      onStateChange: (s, from) => states.push(`${from}->${s}`),
    }),
  ).into(backend);
  const call = () =>
    svc.serve({}).then(
      (v) => v,
      (e) => e.code ?? e.message,
    );
  const outcomes = [];
  for (let i = 0; i < 5; i++) outcomes.push(await call());
  healthy = true;
  await sleep(40);
  outcomes.push(await call());
  return { outcomes, states, backendCalls };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await main());
