import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";

export const run = promisify(execFile);

const started: ChildProcess[] = [];

/**
 * Start a peer and wait (bounded) until its stdout or stderr matches `ready`. Stop it with {@link stopPeers}.
 */
export function startPeer(
  command: string,
  args: readonly string[],
  ready: RegExp,
  timeoutMs = 10_000,
): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string }> {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  started.push(child);
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${command} not ready in ${timeoutMs} ms: ${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString("latin1");
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, output: () => output });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}: ${output}`));
    });
  });
}

/** Stop every peer started by this file (by PID), and wait for them to exit. */
export async function stopPeers(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  await Promise.all(
    started.splice(0).map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill(signal);
        }),
    ),
  );
}
