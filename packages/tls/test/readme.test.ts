import { readFileSync } from "node:fs";
import { format } from "node:util";
import * as net from "@tessera/net";
import { expect, it } from "vitest";
import * as tls from "../src/index.js";

// Every js example in the README must run and print exactly what the README shows after it.
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const examples = [...readme.matchAll(/```js\n([\s\S]*?)```\s*prints\s*```text\n([\s\S]*?)```/g)].map((m) => ({
  code: m[1]!,
  printed: m[2]!,
}));

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...values: unknown[]) => Promise<void>;

it("the README has its two examples", () => {
  expect(examples.length).toBe(2);
});

it.each(examples.map((e, i) => [i + 1, e] as const))(
  "README example %i runs and prints what it shows",
  async (_i, e) => {
    const lines: string[] = [];
    // `import { a, b } from "@tessera/tls";` becomes `const { a, b } = tls;` (and the same for net).
    const body = e.code
      .replace(/^import \{([^}]*)\} from "@tessera\/tls";$/m, "const {$1} = tls;")
      .replace(/^import \{([^}]*)\} from "@tessera\/net";$/m, "const {$1} = net;");
    expect(body).not.toMatch(/^import /m);
    const run = new AsyncFunction("tls", "net", "console", body);
    await run(tls, net, { log: (...args: unknown[]) => lines.push(format(...args)) });
    expect(`${lines.join("\n")}\n`).toBe(e.printed);
  },
);
