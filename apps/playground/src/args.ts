import { readFileSync } from "node:fs";
/** A tiny, strict argument parser: `--name value`, `--name=value`, boolean flags, repeatable options. */

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly repeat?: boolean;
  readonly short?: string;
}

export type Parsed<S extends Record<string, OptionSpec>> = {
  -readonly [K in keyof S]?: S[K]["type"] extends "boolean"
    ? boolean
    : S[K]["repeat"] extends true
      ? string[]
      : string;
} & { readonly _: string[] };

export class UsageError extends Error {
  readonly code = "ERR_USAGE";
}

export function parseArgs<S extends Record<string, OptionSpec>>(argv: readonly string[], spec: S): Parsed<S> {
  const out: Record<string, unknown> = { _: [] as string[] };
  const shorts = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.short) shorts.set(s.short, name);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else if (arg.length === 2 && arg[0] === "-" && shorts.has(arg[1]!)) {
      name = shorts.get(arg[1]!);
    } else if (arg.startsWith("-") && arg !== "-") {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      (out._ as string[]).push(arg);
      continue;
    }
    const s = name === undefined ? undefined : spec[name];
    if (name === undefined || s === undefined) throw new UsageError(`unknown option ${arg}`);
    if (s.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      out[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (s.repeat) out[name] = [...((out[name] as string[] | undefined) ?? []), value];
    else if (name in out) throw new UsageError(`--${name} given twice`);
    else out[name] = value;
  }
  return out as Parsed<S>;
}

/** Parse a whole number option within bounds. */
export function intOption(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || !Number.isSafeInteger(n)) throw new UsageError(`--${name} must be at least ${min}`);
  return n;
}

/** The contents of the file an option names (`--name FILE`); a file that cannot be read is a usage error. */
export function fileOption(path: string, name: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`--${name}: cannot read ${path}: ${(error as Error).message}`);
  }
}
