import { defineConfig } from "tsup";

// One entry per layer, so `@tessera/layers/<name>` loads only that layer (and the small chunks it shares).
// Keep in step with "exports" in package.json.
export default defineConfig({
  entry: {
    index: "src/index.ts",
    "errors/index": "src/errors/index.ts",
    "timeout/index": "src/timeout/index.ts",
    "retry/index": "src/retry/index.ts",
    "concurrency-limit/index": "src/concurrency-limit/index.ts",
    "rate-limit/index": "src/rate-limit/index.ts",
    "load-shed/index": "src/load-shed/index.ts",
    "circuit-breaker/index": "src/circuit-breaker/index.ts",
    "hedge/index": "src/hedge/index.ts",
    "map/index": "src/map/index.ts",
    "catch-error/index": "src/catch-error/index.ts",
    "consume-errors/index": "src/consume-errors/index.ts",
    "add-extension/index": "src/add-extension/index.ts",
    "inspect/index": "src/inspect/index.ts",
    "route/index": "src/route/index.ts",
    "hijack/index": "src/hijack/index.ts",
    "matcher/index": "src/matcher/index.ts",
    "log/index": "src/log/index.ts",
  },
  format: ["esm"],
  target: "node20",
  dts: true,
  clean: true,
  sourcemap: true,
  // Error classes take their `name` from the class; esbuild would otherwise rename some (`_Foo`).
  keepNames: true,
});
