// Shared by every package's interop tests (imported by relative path; test code, never shipped).
// Interop tests use real peers (nc, curl, ...). A missing peer skips the test loudly on a developer's machine
// and fails it under CI=true, where .ci/run installs every peer.
import { execFileSync } from "node:child_process";

const ci = process.env.CI === "true" || process.env.CI === "1";

export function hasCommand(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the peer is here. When it is not: under CI this throws (the test fails); otherwise it warns on
 * stderr and returns false so the caller can skip.
 */
export function peer(name: string): boolean {
  if (hasCommand(name)) return true;
  const message = `interop peer "${name}" is missing (apt-get install it; .ci/run does)`;
  if (ci) throw new Error(`${message}; CI=true, so this fails`);
  process.stderr.write(`\n!!! SKIPPING: ${message}\n`);
  return false;
}
