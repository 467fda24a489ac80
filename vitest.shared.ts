import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources in tests (the "@tessera/source" export condition),
// so a test never runs against a stale dist/. The packaging test covers the built output.
const conditions = ["@tessera/source", "import", "module", "node", "default"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    typecheck: { enabled: false },
  },
});
