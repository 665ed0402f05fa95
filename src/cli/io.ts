// Everything a command touches outside itself, so tests run commands in-process with
// in-memory streams, their own environment and a real or fake fetch.

export interface Output {
  write(chunk: string): unknown;
  /** Set on a terminal: progress bars instead of progress lines. */
  isTTY?: boolean;
}

export interface Input extends AsyncIterable<string | Buffer> {
  isTTY?: boolean;
}

export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
  env: Readonly<Record<string, string | undefined>>;
  /** Where relative paths (--config) are resolved; the process's working directory by default. */
  cwd?: string;
  stdin?: Input;
  fetch?: typeof fetch;
  /** Milliseconds, for durations and progress throttling. */
  now?: () => number;
  /** SIGHUP/SIGTERM/SIGINT for `serve`; the process by default. */
  signals?: SignalSource;
}

export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    fetch: globalThis.fetch,
    now: () => performance.now(),
    signals: process,
  };
}

/** A failure the command reports as one line on stderr, exit status 1. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
}

/** A command line the program cannot read: usage on stderr, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
