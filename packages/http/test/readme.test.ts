import { readFileSync } from "node:fs";
import { format } from "node:util";
import * as core from "@tessera/core";
import { expect, it } from "vitest";
import * as http from "../src/index.js";

// Every ```js example of the README must run and print what the ```text block after it shows.
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const examples = [...readme.matchAll(/```js\n([\s\S]*?)```\s*\n+prints\n+```text\n([\s\S]*?)```/g)];
const scope: Record<string, unknown> = { ...core, ...http };
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...args: unknown[]) => Promise<void>;

it("the README has examples", () => {
  expect(examples.length).toBeGreaterThanOrEqual(4);
});

for (const [index, example] of examples.entries()) {
  const code = example[1]!;
  const printed = example[2]!;
  it(`README example ${index + 1} runs and prints what the README shows`, async () => {
    const names: string[] = [];
    const body = code.replace(
      /^import \{([^}]*)\} from "@tessera\/(?:core|http)";$/gm,
      (_line, list: string) => {
        names.push(...list.split(",").map((name) => name.trim()));
        return "";
      },
    );
    expect(body).not.toMatch(/^import /m);
    const lines: string[] = [];
    const run = new AsyncFunction("scope", "console", `const { ${names.join(", ")} } = scope;\n${body}`);
    await run(scope, { log: (...args: unknown[]) => lines.push(format(...args)) });
    expect(`${lines.join("\n")}\n`).toBe(printed);
  });
}
