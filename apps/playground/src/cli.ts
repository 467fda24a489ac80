// The `tessera` binary: run a command; a server command runs until SIGINT/SIGTERM has closed it.
import { UsageError } from "./args.js";
import { main, usage } from "./main.js";

main(process.argv.slice(2)).then(
  async (running) => {
    if (running) await running.closed;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`tessera: ${error.message}\n\n${usage}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`tessera: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
