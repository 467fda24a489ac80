// Shared by the packages' README tests (imported by relative path; test code, never shipped): every ```js example
// followed by "prints" and a ```text block must run and print exactly that text.
import { readFileSync } from "node:fs";
import { format } from "node:util";

export interface ReadmeExample {
  readonly code: string;
  readonly printed: string;
}

/** The README's runnable examples, from the heading `from` on when given. */
export function readmeExamples(readme: URL, from?: string): ReadmeExample[] {
  let text = readFileSync(readme, "utf8");
  if (from !== undefined) {
    const at = text.indexOf(from);
    if (at < 0) throw new Error(`the README has no "${from}"`);
    text = text.slice(at);
  }
  return [...text.matchAll(/```js\n([\s\S]*?)```\s*prints\s*```text\n([\s\S]*?)```/g)].map((m) => ({
    code: m[1]!,
    printed: m[2]!,
  }));
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...values: unknown[]) => Promise<void>;

/**
 * Runs an example and returns what it printed with console.log. Its `import { a, b } from "<module>";` lines take
 * the names from `modules[<module>]`; any other import (or a module not given) throws, so an example cannot
 * silently skip one.
 */
export async function runExample(code: string, modules: Record<string, object>): Promise<string> {
  const values: unknown[] = [];
  const body = code.replace(
    /^import \{([^}]*)\} from "([^"]+)";$/gm,
    (_line, names: string, from: string) => {
      const module = modules[from];
      if (module === undefined)
        throw new Error(`the example imports ${from}, which the test did not provide`);
      values.push(module);
      return `const {${names}} = $modules[${values.length - 1}];`;
    },
  );
  if (/^import /m.test(body)) throw new Error("the example has an import the test cannot run");
  const lines: string[] = [];
  const console = { log: (...args: unknown[]) => lines.push(format(...args)) };
  await new AsyncFunction("$modules", "console", body)(values, console);
  return `${lines.join("\n")}\n`;
}
