import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";

// Every README section points at a runnable example in examples/ (`node examples/<name>.mjs` after a build).
// Here each one runs against the sources, with real timers (each takes well under 100 ms), so they stay
// correct as the code changes.
const expected: Record<string, unknown> = {
  "add-extension": "hello acme",
  "catch-error": { ok: 200, slow: 504, bug: 500 },
  "circuit-breaker": {
    outcomes: [
      "503 from upstream",
      "503 from upstream",
      "503 from upstream",
      "ERR_CIRCUIT_OPEN",
      "ERR_CIRCUIT_OPEN",
      "ok",
    ],
    states: ["closed->open", "open->half-open", "half-open->closed"],
    backendCalls: 4,
  },
  "concurrency-limit": { peak: 3, done: 8, refused: ["ERR_OVERLOADED", "ERR_OVERLOADED"] },
  "consume-errors": { result: undefined, logged: ["40 call failed: ERR_BAD_HANDSHAKE"] },
  hedge: { answer: "answer from attempt 2", cancelled: [1] },
  hijack: ["mocked api.example.com", "relayed to example.org"],
  inspect: { calls: 2, ok: 1, failed: 1 },
  "load-shed": ["done", "done", expect.stringMatching(/^ERR_OVERLOADED after 1?\d ms$/)],
  log: {
    idOnExtensions: "req-1",
    lines: [
      "20 req-1 /users/ada call started",
      "30 req-1 /users/ada looking up user",
      "30 req-1 /users/ada call finished status=200",
      "20 req-2 /fail call started",
      "30 req-2 /fail looking up user",
      "50 req-2 /fail call failed",
    ],
  },
  map: { root: 200, missing: 404, boom: "ERR_UPSTREAM: upstream failed: kaboom", described: "/x -> 404" },
  "rate-limit": {
    "10.0.0.1": ["ok", "ok", "ok", expect.stringMatching(/^ERR_RATE_LIMITED \(retry in (4\d\d|500) ms\)$/)],
    "10.0.0.2": "ok",
  },
  retry: "ok after 3 attempts, breadcrumbs seen: 3",
  route: ["probe: ok", "admin POST /users", "app POST /users", "welcome back", "please log in"],
  timeout: "ERR_TIMEOUT: timed out after 50 ms",
};

describe("examples", () => {
  it("has an expectation for every example file", () => {
    const files = readdirSync(new URL("../examples/", import.meta.url)).filter((f) => f.endsWith(".mjs"));
    expect(files.map((f) => f.slice(0, -4)).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [name, result] of Object.entries(expected)) {
    it(`examples/${name}.mjs`, async () => {
      const example = (await import(`../examples/${name}.mjs`)) as { main(): Promise<unknown> };
      expect(await example.main()).toEqual(result);
    });
  }
});
