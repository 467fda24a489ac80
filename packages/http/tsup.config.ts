import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  target: "node20",
  dts: true,
  clean: true,
  sourcemap: true,
  // Error classes take their `name` from the class; esbuild would otherwise rename some (`_Foo`).
  keepNames: true,
});
