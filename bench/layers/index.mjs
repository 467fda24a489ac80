// The cost of @tessera/layers on the hot path: a no-op service called directly vs behind stacks of five
// layers a user would actually stack, in one process, interleaved rounds, medians. Uses the BUILT packages:
//   (cd packages/core && pnpm run build) && (cd packages/layers && pnpm run build) && node bench/layers/index.mjs
// Options: --calls=N per round (default 100000), --rounds=N (default 7).
import { createRequire } from "node:module";
import { Extensions, key, stack } from "@tessera/core";
import {
  catchError,
  circuitBreaker,
  concurrencyLimit,
  inspect,
  loadShed,
  log,
  mapOutput,
  rateLimit,
  retry,
  timeout,
} from "@tessera/layers";
import { arg } from "../lib.mjs";

// pino is a dependency of @tessera/layers, not of the bench package: load the copy the layers use.
const { pino } = createRequire(import.meta.resolve("@tessera/layers"))("pino");

const CALLS = arg("calls", 100_000);
const ROUNDS = arg("rounds", 7);

/** A request-like input: fresh extensions per call (as every real request has), Extensible for retry. */
class Req {
  constructor(extensions) {
    this.extensions = extensions;
  }
  withExtensions(extensions) {
    return new Req(extensions);
  }
}

// Every input carries its peer's address, as a server's requests do: 256 distinct peers.
const PeerIp = key("bench.PeerIp");
const peers = Array.from({ length: 256 }, (_, i) => `10.0.0.${i}`);
const makeInput = (i) => new Req(new Extensions().insert(PeerIp, peers[i & 255]));

const result = { status: 200 };
const noop = { serve: () => Promise.resolve(result) };
// Production-like logging: level "warn", so the per-call start/end lines are off and only failures log.
const logger = pino({ level: "warn" }, { write() {} });

const subjects = [
  { name: "direct (no layers)", svc: noop },
  {
    // The main subject: what a server puts around its handler (the deadline living in the protocol layer).
    name: "server: log catchError loadShed concurrencyLimit rateLimit(key)",
    svc: stack(
      log({ logger }),
      catchError(() => ({ status: 500 })),
      loadShed(),
      concurrencyLimit(1024),
      rateLimit({ rate: 1e12, key: (req) => req.extensions.get(PeerIp) }),
    ).into(noop),
  },
  {
    // The same with a timeout instead of the rate limit, to show what a timeout costs.
    name: "server+timeout: log catchError loadShed concurrencyLimit timeout",
    svc: stack(
      log({ logger }),
      catchError(() => ({ status: 500 })),
      loadShed(),
      concurrencyLimit(1024),
      timeout(5_000),
    ).into(noop),
  },
  {
    // A client call: breaker outside, retry, per-attempt timeout, output mapping, metrics tap.
    name: "client: circuitBreaker retry timeout mapOutput inspect",
    svc: stack(
      circuitBreaker(),
      retry({ budget: false }),
      timeout(5_000),
      mapOutput((res) => res.status),
      inspect({ error: () => {} }),
    ).into(noop),
  },
  {
    // Reference, not a layer: the no-op plus one fresh AbortSignal per call, i.e. what timeout cannot avoid
    // (a narrower signal for the inner service). On Node 20 this alone is several microseconds.
    name: "reference: direct + new AbortController().signal",
    svc: {
      serve(input) {
        input.signal = new AbortController().signal;
        return Promise.resolve(result);
      },
    },
  },
];

async function run(svc, calls) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await svc.serve(makeInput(i));
  return Number(process.hrtime.bigint() - start) / calls;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

// Warm up every path (JIT, inline caches) before measuring anything.
for (const s of subjects) await run(s.svc, CALLS);

const samples = subjects.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round so drift on a shared machine does not favour one subject.
  for (let k = 0; k < subjects.length; k++) {
    const i = (k + round) % subjects.length;
    samples[i].push(await run(subjects[i].svc, CALLS));
  }
}

const base = median(samples[0]);
console.log(
  `node ${process.version}, ${CALLS} sequential awaited calls per round, ${ROUNDS} rounds, medians`,
);
console.log(`${"".padEnd(68)} ${"ns/call".padStart(8)} ${"overhead".padStart(9)} ${"ratio".padStart(6)}`);
for (let i = 0; i < subjects.length; i++) {
  const ns = median(samples[i]);
  const spread = `${Math.min(...samples[i]).toFixed(0)}-${Math.max(...samples[i]).toFixed(0)}`;
  console.log(
    `${subjects[i].name.padEnd(68)} ${ns.toFixed(0).padStart(8)} ${(ns - base).toFixed(0).padStart(9)} ${(
      ns / base
    )
      .toFixed(2)
      .padStart(5)}x   (rounds ${spread} ns)`,
  );
}
