// Shared by interop tests that drive curl (imported by relative path; test code, never shipped). Check
// `peer("curl")` (peers.ts) first.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** What a curl run printed and its exit code (0 on success; curl's code, e.g. 97 for a SOCKS failure, otherwise). */
export interface CurlResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Run `curl -sS --max-time 10 ...args`; a failing curl resolves with its exit code instead of rejecting. */
export async function curl(...args: string[]): Promise<CurlResult> {
  try {
    const { stdout, stderr } = await run("curl", ["-sS", "--max-time", "10", ...args]);
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}
