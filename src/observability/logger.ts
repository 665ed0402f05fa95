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

/** Structured JSON logs (pino): one object per line, secrets redacted by path. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const opts = {
    level: options.level ?? 'info',
    base: { service: 'oneroster-gateway' },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** Error fields safe for a log line: name and code, never a message that may quote a URL, never a stack. */
export function safeErrorFields(err: unknown): Record<string, unknown> {
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; code?: unknown };
    return { errorName: typeof e.name === 'string' ? e.name : 'Error', errorCode: typeof e.code === 'string' ? e.code : undefined };
  }
  return { errorName: typeof err };
}
