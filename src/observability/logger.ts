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

// Lines are written in batches of this many bytes, and at least this often: one write per
// access line cost the cache-hit path measurably (BENCHMARKS.md, issue 17), and an operator
// with curl still sees a quiet gateway's line within a quarter second.
const BATCH_BYTES = 8192;
const FLUSH_EVERY_MS = 250;

/**
 * Structured JSON logs (pino): one object per line, secrets redacted by path. Without a
 * destination they go to fd 1 asynchronously, batched. `closeLogger` at shutdown, and pino's
 * own exit hook, write what is left.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false, minLength: BATCH_BYTES, periodicFlush: FLUSH_EVERY_MS, maxLength: MAX_BUFFERED_LOG_BYTES });
  const logger = pino({ ...loggerOptions(options.level ?? 'info'), redact: { paths: REDACT, censor: '[redacted]' } }, destination);
  if (!options.destination) buffered.set(logger, destination as AsyncDestination);
  destinations.set(logger, destination);
  return logger;
}

function loggerOptions(level: string) {
  return {
    level,
    base: { service: 'oneroster-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
}

const destinations = new WeakMap<Logger, DestinationStream>();
const plain = new WeakMap<Logger, Logger>();

/**
 * The same log without path redaction, for lines built only of fields the gateway vouches for
 * (the access line: request id, route template, client and district ids, status, times).
 * Redacting by wildcard paths cost more than the rest of a cache hit (BENCHMARKS.md, issue 17).
 */
export function unredacted(logger: Logger): Logger {
  let p = plain.get(logger);
  if (p) return p;
  const destination = destinations.get(logger);
  if (!destination) return logger;
  p = pino(loggerOptions(logger.level), destination);
  plain.set(logger, p);
  return p;
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
