import { readFileSync } from "node:fs";
import { format } from "node:util";
import { expect, it } from "vitest";
import * as http2 from "../src/index.js";

// Every example in the README must run and print exactly what the README shows after it.
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const examples = [...readme.matchAll(/```js\n([\s\S]*?)```\s*prints\s*```text\n([\s\S]*?)```/g)].map((m) => ({
  code: m[1]!,
  printed: m[2]!,
}));

it("the README has its three examples", () => {
  expect(examples.length).toBe(3);
});

it.each(examples.map((e, i) => [i + 1, e] as const))(
  "README example %i runs and prints what it shows",
  (_i, e) => {
    const lines: string[] = [];
    // `import { a, b } from "@tessera/http2";` becomes `const { a, b } = http2;`.
    const body = e.code.replace(/^import \{([^}]*)\} from "@tessera\/http2";$/m, "const {$1} = http2;");
    expect(body).not.toMatch(/^import /m);
    const run = new Function("http2", "console", body);
    run(http2, { log: (...args: unknown[]) => lines.push(format(...args)) });
    expect(`${lines.join("\n")}\n`).toBe(e.printed);
  },
);
