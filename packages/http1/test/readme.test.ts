import { readFileSync } from "node:fs";
import { format } from "node:util";
import { expect, it } from "vitest";
import * as http1 from "../src/index.js";

// The README's first example must run and print what the README says it prints.
it("README example runs and prints what the README shows", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const code = /```js\n([\s\S]*?)```/.exec(readme)![1]!;
  const printed = /```text\n([\s\S]*?)```/.exec(readme)![1]!;
  const lines: string[] = [];
  const body = code.replace(/^import .* from "@tessera\/http1";$/m, "");
  const run = new Function("http1", "console", `const { RequestParser } = http1;\n${body}`);
  run(http1, { log: (...args: unknown[]) => lines.push(format(...args)) });
  expect(`${lines.join("\n")}\n`).toBe(printed);
});
