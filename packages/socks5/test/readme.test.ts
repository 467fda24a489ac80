import { readFileSync } from "node:fs";
import { format } from "node:util";
import * as core from "@tessera/core";
import * as net from "@tessera/net";
import { expect, it } from "vitest";
import * as socks5 from "../src/index.js";

// The README's example must run and print exactly what the README shows after it.
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const example = /```js\n([\s\S]*?)```\s*prints\s*```text\n([\s\S]*?)```/.exec(readme);

it("README example runs and prints what it shows", async () => {
  expect(example).not.toBeNull();
  const modules: Record<string, string> = {
    "@tessera/core": "core",
    "@tessera/net": "net",
    "@tessera/socks5": "socks5",
  };
  // `import { a, b } from "@tessera/x";` becomes `const { a, b } = x;`.
  const body = example![1]!.replace(
    /^import \{([^}]*)\} from "(@tessera\/[a-z0-9]+)";$/gm,
    (_all, names: string, from: string) => `const {${names}} = ${modules[from]};`,
  );
  expect(body).not.toMatch(/^import /m);
  const lines: string[] = [];
  const AsyncFunction = (async () => {}).constructor as new (
    ...args: string[]
  ) => (...a: unknown[]) => Promise<void>;
  const run = new AsyncFunction("core", "net", "socks5", "console", body);
  await run(core, net, socks5, { log: (...args: unknown[]) => lines.push(format(...args)) });
  expect(`${lines.join("\n")}\n`).toBe(example![2]);
});
