import { type Logger, pino } from "pino";
import { UsageError } from "./args.js";

const levels = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** The CLI's logger: JSON lines on stderr, so stdout keeps the `listening on` contract clean. */
export function cliLogger(level = "info"): Logger {
  if (!levels.has(level)) throw new UsageError(`--log-level must be one of ${[...levels].join(", ")}`);
  return pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}
