/** Where a command writes and which process signals it listens to; tests pass their own. */
export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Emits "SIGINT"/"SIGTERM" (the process in the CLI, an EventEmitter in tests). */
  readonly signals: NodeJS.EventEmitter;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  signals: process,
};
