import { readFileSync } from "node:fs";
import { format } from "node:util";
import * as core from "@tessera/core";
import { expect, it } from "vitest";
import * as net from "../src/index.js";

// The README's PROXY protocol examples must run and print exactly what the README shows after them.
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const section = readme.slice(readme.indexOf("## HAProxy PROXY protocol"));
const examples = [...section.matchAll(/```js\n([\s\S]*?)```\s*prints\s*```text\n([\s\S]*?)```/g)].map(
  (m) => ({
    code: m[1]!,
    printed: m[2]!,
  }),
);

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...values: unknown[]) => Promise<void>;

it("the README's PROXY protocol section has its two examples", () => {
  expect(examples.length).toBe(2);
});

it.each(examples.map((e, i) => [i + 1, e] as const))(
  "PROXY protocol README example %i runs and prints what it shows",
  async (_i, e) => {
    const lines: string[] = [];
    // `import { a, b } from "@tessera/net";` becomes `const { a, b } = net;` (and the same for core).
    const body = e.code
      .replace(/^import \{([^}]*)\} from "@tessera\/net";$/m, "const {$1} = net;")
      .replace(/^import \{([^}]*)\} from "@tessera\/core";$/m, "const {$1} = core;");
    expect(body).not.toMatch(/^import /m);
    const run = new AsyncFunction("net", "core", "console", body);
    await run(net, core, { log: (...args: unknown[]) => lines.push(format(...args)) });
    expect(`${lines.join("\n")}\n`).toBe(e.printed);
  },
);
