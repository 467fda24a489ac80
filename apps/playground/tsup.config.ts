import { defineConfig } from "tsup";
import { baseOptions } from "../../tsup.base.js";

export default defineConfig({ ...baseOptions, entry: ["src/cli.ts"], banner: { js: "#!/usr/bin/env node" } });
