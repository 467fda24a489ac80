// The `tessera` binary: run a command; a server command runs until SIGINT/SIGTERM has closed it.
import { errorCode } from "@tessera/core";
import { UsageError } from "./args.js";
import { main, usage } from "./main.js";

// `tessera http URL | head` closes our stdout early: that is the reader's choice, not a failure.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

main(process.argv.slice(2)).then(
  async (running) => {
    if (running) await running.closed;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`tessera: ${error.message}\n\n${usage}\n`);
      process.exitCode = 2;
      return;
    }
    // A user sees the message and the stable code; TESSERA_DEBUG=1 shows the stack and causes.
    const code = errorCode(error);
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`tessera: ${message}${code ? ` (${code})` : ""}\n`);
    if (process.env.TESSERA_DEBUG) process.stderr.write(`${(error as Error).stack ?? ""}\n`);
    process.exitCode = 1;
  },
);
