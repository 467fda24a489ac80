#!/usr/bin/env node
// The README's commands on a fresh machine with only Node and npm: bootstrap pnpm into a git-ignored folder
// (corepack does not work with this registry), install, build, then run the task.
//
//   node scripts/task.mjs start   build and run the playground's main demo
//   node scripts/task.mjs test    build, type-check, lint, test everything; print "N passed, M failed"
//   node scripts/task.mjs bench   build and run the side-by-side benchmarks
//   node scripts/task.mjs build   install and build
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PNPM_VERSION = "12.21.0";
const tools = join(root, ".ci", ".tools");
const pnpm = join(tools, "node_modules", ".bin", "pnpm");
const ci = process.env.CI === "true" || process.env.CI === "1";

const env = {
  ...process.env,
  PATH: [join(tools, "node_modules", ".bin"), join(root, "node_modules", ".bin"), process.env.PATH].join(
    delimiter,
  ),
  TURBO_TELEMETRY_DISABLED: "1",
  DO_NOT_TRACK: "1",
  // pnpm 12 with a packageManager pin would otherwise try to switch versions.
  npm_config_manage_package_manager_versions: "false",
};

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: root, env, stdio: "inherit", ...options });
  if (result.error) {
    console.error(`task: could not run ${cmd}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

function must(cmd, args, what) {
  const status = run(cmd, args);
  if (status !== 0) {
    console.error(`task: ${what} failed (exit ${status})`);
    process.exit(status);
  }
}

function bootstrap() {
  if (!existsSync(pnpm)) {
    console.log(`task: installing pnpm ${PNPM_VERSION} into .ci/.tools`);
    must(
      "npm",
      ["install", "--prefix", tools, `pnpm@${PNPM_VERSION}`, "--no-audit", "--no-fund", "--loglevel=error"],
      "installing pnpm",
    );
  }
  must(pnpm, ["install", ...(ci ? ["--frozen-lockfile"] : [])], "pnpm install");
}

function workspaceDirs() {
  const dirs = [];
  for (const parent of ["packages", "apps"]) {
    const base = join(root, parent);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) {
      if (existsSync(join(base, name, "package.json"))) dirs.push(join(base, name));
    }
  }
  return dirs;
}

function testedDirs() {
  return workspaceDirs().filter((dir) => {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    return typeof pkg.scripts?.test === "string";
  });
}

// CI reads a plain closing line; vitest's own summary is per package and turbo prefixes every line.
function summarize() {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const missing = [];
  for (const dir of testedDirs()) {
    const file = join(dir, ".vitest", "result.json");
    if (!existsSync(file)) {
      missing.push(dir.slice(root.length + 1));
      continue;
    }
    const result = JSON.parse(readFileSync(file, "utf8"));
    passed += result.numPassedTests ?? 0;
    failed += result.numFailedTests ?? 0;
    skipped += (result.numPendingTests ?? 0) + (result.numTodoTests ?? 0);
    // A file that failed to load (syntax error, failed import) has no tests but must still fail the run.
    let loadFailures = 0;
    for (const suite of result.testResults ?? []) {
      if (suite.status === "failed" && (suite.assertionResults ?? []).length === 0) loadFailures += 1;
    }
    failed += loadFailures;
    // vitest also reports failure with no failing test: no test files, an unhandled error between tests.
    if (result.success === false && result.numFailedTests === 0 && loadFailures === 0) {
      console.error(`task: ${dir.slice(root.length + 1)} reported failure (no tests, or an unhandled error)`);
      failed += 1;
    }
  }
  return { passed, failed, skipped, missing };
}

const task = process.argv[2];
switch (task) {
  case "build": {
    bootstrap();
    must(pnpm, ["exec", "turbo", "run", "build"], "build");
    break;
  }
  case "start": {
    bootstrap();
    must(
      pnpm,
      ["exec", "turbo", "run", "build", "--filter=@tessera/playground...", "--output-logs=errors-only"],
      "build",
    );
    process.exitCode = run(process.execPath, [
      join(root, "apps/playground/dist/cli.js"),
      "demo",
      ...process.argv.slice(3),
    ]);
    break;
  }
  case "bench": {
    bootstrap();
    must(pnpm, ["exec", "turbo", "run", "build", "--output-logs=errors-only"], "build");
    process.exitCode = run(process.execPath, [join(root, "bench/run.mjs"), ...process.argv.slice(3)]);
    break;
  }
  case "test": {
    bootstrap();
    for (const dir of testedDirs()) rmSync(join(dir, ".vitest"), { recursive: true, force: true });
    const lint = run(pnpm, ["exec", "biome", "ci", "."]);
    const turbo = run(pnpm, ["exec", "turbo", "run", "build", "typecheck", "test", "--continue"]);
    const { passed, failed, skipped, missing } = summarize();
    if (lint !== 0) console.error("task: lint/format check failed (biome ci)");
    if (turbo !== 0) console.error("task: build, type-check or tests failed (see above)");
    for (const m of missing) console.error(`task: ${m} produced no test results`);
    const bad = lint !== 0 || turbo !== 0 || missing.length > 0 || failed > 0 || passed === 0;
    if (passed === 0) console.error("task: no test ran");
    console.log(
      `\n${passed} passed, ${failed + missing.length} failed${skipped ? `, ${skipped} skipped` : ""}`,
    );
    process.exitCode = bad ? 1 : 0;
    break;
  }
  default:
    console.error("usage: node scripts/task.mjs start|test|bench|build");
    process.exitCode = 2;
}
