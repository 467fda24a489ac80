import { readFileSync } from "node:fs";
import { defineConfig, type Options } from "tsup";

type ExportEntry = { "@tessera/source"?: string; import?: string };

/**
 * The build of a library package: one entry per subpath export, read from package.json (each export's
 * "@tessera/source" file builds to its "import" file), so exports and entries cannot drift apart.
 */
export function libraryConfig(packageJsonUrl: URL, extra: Options = {}) {
  const pkg = JSON.parse(readFileSync(packageJsonUrl, "utf8")) as {
    exports: Record<string, ExportEntry | string>;
  };
  const entry: Record<string, string> = {};
  for (const target of Object.values(pkg.exports)) {
    if (typeof target === "string") continue;
    const source = target["@tessera/source"];
    const out = target.import;
    if (source === undefined || out === undefined) continue;
    entry[out.replace(/^\.\/dist\//, "").replace(/\.js$/, "")] = source;
  }
  return defineConfig({ ...baseOptions, dts: true, entry, ...extra });
}

export const baseOptions = {
  format: ["esm"],
  target: "node20",
  clean: true,
  sourcemap: true,
  // Error classes take their `name` from the class; esbuild would otherwise rename some (`_Foo`).
  keepNames: true,
} satisfies Options;
