import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/cli.ts"],
  format: ["esm"],
  target: "node20",
  clean: true,
  sourcemap: true,
  // Error classes take their `name` from the class; esbuild would otherwise rename some (`_Foo`).
  keepNames: true,
  banner: { js: "#!/usr/bin/env node" },
});
