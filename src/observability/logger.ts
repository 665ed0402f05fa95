import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

// Paths that may hold secrets if anything ever logs a config or a request object.
const REDACT = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'clientSecret',
  '*.clientSecret',
  'consumerSecret',
  '*.consumerSecret',
  'token',
  '*.token',
  'tokenSecret',
  '*.tokenSecret',
  'access_token',
  '*.access_token',
];

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
}

// Past this much unwritten log (stdout's reader stalled), new lines are dropped rather than
// held: a stuck log collector must not grow the heap without bound.
const MAX_BUFFERED_LOG_BYTES = 16 * 1024 * 1024;

/**
 * Structured JSON logs (pino): one object per line, secrets redacted by path. Without a
 * destination they go to fd 1 asynchronously: a synchronous write per access line halved the
 * cache-hit throughput at the default level (BENCHMARKS.md); lines written while a write is
 * under way are batched into the next one. `closeLogger` at shutdown, and pino's own exit hook,
 * write what is left.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const opts = {
    level: options.level ?? 'info',
    base: { service: 'oneroster-gateway' },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (options.destination) return pino(opts, options.destination);
  const stdout = pino.destination({ dest: 1, sync: false, maxLength: MAX_BUFFERED_LOG_BYTES });
  const logger = pino(opts, stdout);
  buffered.set(logger, stdout);
  return logger;
}

type AsyncDestination = ReturnType<typeof pino.destination>;
const buffered = new WeakMap<Logger, AsyncDestination>();

/**
 * Writes every line logged so far, then lets nothing more be logged: the last step of a
 * shutdown. Bounded by `timeoutMs` (a log reader that never reads again must not hold the
 * exit; pino's exit hook then tries once more). A logger given its own destination is left alone.
 */
export function closeLogger(logger: Logger, timeoutMs = 5_000): Promise<void> {
  const stdout = buffered.get(logger);
  if (!stdout) return Promise.resolve();
  buffered.delete(logger);
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    // sonic-boom's flush() answers at once when no minimum length is set; end() waits for the
    // write under way and everything queued behind it (and never closes fd 1).
    stdout.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    stdout.end();
  });
}

/** Error fields safe for a log line: name and code, never a message that may quote a URL, never a stack. */
export function safeErrorFields(err: unknown): Record<string, unknown> {
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; code?: unknown };
    return { errorName: typeof e.name === 'string' ? e.name : 'Error', errorCode: typeof e.code === 'string' ? e.code : undefined };
  }
  return { errorName: typeof err };
}
