import { writeSync } from 'node:fs';
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

/** pino's levels, the values LOG_LEVEL may take. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * LOG_LEVEL as a level (`info` when unset or empty), or a message naming the variable, what it
 * was given and what it takes: pino's own error for an unknown level is a bare Error with a
 * stack, which the start-up could only report as `failed ({"errorName":"Error"})`.
 */
export function parseLogLevel(value: string | undefined): { level: LogLevel } | { error: string } {
  if (value === undefined || value.trim() === '') return { level: 'info' };
  const level = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return { level: level as LogLevel };
  // Quoted as JSON and cut: the value is the operator's own, but may hold anything.
  return { error: `LOG_LEVEL: ${JSON.stringify(value.slice(0, 40))} is not a log level; use one of ${LOG_LEVELS.join(', ')}` };
}

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
}

// Past this much unwritten log (stdout's reader stalled), new lines are dropped rather than
// held: a stuck log collector must not grow the heap without bound.
// Every line names the service it came from (pino's base, and the hand-written access line).
const SERVICE = 'oneroster-gateway';

const MAX_BUFFERED_LOG_BYTES = 16 * 1024 * 1024;

// Lines are written in batches of this many bytes, and at least this often: one write per
// access line cost the cache-hit path measurably (BENCHMARKS.md, issue 17), and an operator
// with curl still sees a quiet gateway's line within a quarter second. Not larger: sonic-boom
// measures its pending batch (up to its 16 KiB maxWrite) on every line it is given, and with a
// 256 KiB batch that cost 10 µs per access line.
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
    base: { service: SERVICE },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
}

const destinations = new WeakMap<Logger, DestinationStream>();
// Strings that stand in JSON as they are (request ids, route templates, most ids): no
// JSON.stringify for them.
const PLAIN = /^[\w .:/@+-]*$/;

/** The fields of a line written by `lineWriter`: strings, finite numbers, or undefined (left out). */
export type LineFields = Record<string, string | number | undefined>;

/**
 * A writer of info lines in the very shape pino writes them (level, time, service, then the
 * fields in order), serialized by hand: the access line is written once per request, and pino's
 * generic serializer and ISO clock cost a cache hit more than the rest of its logging
 * (BENCHMARKS.md, issue 17). Only for lines of the gateway's own fields: nothing is redacted.
 * Callers check that info is enabled.
 */
export function lineWriter(logger: Logger): (fields: LineFields) => void {
  const destination = destinations.get(logger);
  if (!destination) return (fields) => logger.info(fields);
  const write = tickBatched(logger, destination);
  const head = `{"level":"info","time":"`;
  const tail = `","service":${JSON.stringify(SERVICE)}`;
  let second = -1;
  let secondIso = '';
  return (fields) => {
    // The ISO time, its seconds part rebuilt once a second.
    const now = Date.now();
    const s = Math.floor(now / 1000);
    if (s !== second) [second, secondIso] = [s, new Date(s * 1000).toISOString().slice(0, 20)];
    let line = `${head}${secondIso}${String(now % 1000).padStart(3, '0')}Z${tail}`;
    for (const k in fields) {
      const v = fields[k];
      if (v === undefined) continue;
      line += `,"${k}":${typeof v === 'number' ? (Number.isFinite(v) ? String(v) : 'null') : PLAIN.test(v) ? `"${v}"` : JSON.stringify(v)}`;
    }
    write(`${line}}\n`);
  };
}

/**
 * To stdout (the default destination), the lines of one turn of the event loop in one write:
 * sonic-boom measures its pending batch and appends to it on every write, about 2.4 µs of a
 * cache hit's CPU per line that one write per turn shares out (BENCHMARKS.md, issue 17). A
 * line waits at most for the end of the turn it was written in, so a turn's access lines come
 * after the other lines of that turn (their times say when each was written); `closeLogger`
 * and the process's exit write what waits. Any other destination gets each line at once.
 */
function tickBatched(logger: Logger, destination: DestinationStream): (line: string) => void {
  const stdout = buffered.get(logger);
  if (!stdout) return (line) => destination.write(line);
  let lines: string[] = [];
  const flush = (atExit = false) => {
    waiting.delete(flush);
    if (lines.length === 0) return;
    const text = lines.length === 1 ? lines[0]! : lines.join('');
    lines = [];
    if (atExit) return writeAtExit(stdout, text);
    // A line of a request answered after the shutdown's closeLogger: stdout is closed to it.
    if (!(stdout as { destroyed?: boolean }).destroyed) stdout.write(text);
  };
  hookExit();
  return (line) => {
    if (lines.push(line) !== 1) return;
    waiting.add(flush);
    setImmediate(flush);
  };
}

/** The writers whose lines wait for the end of a turn: written by closeLogger, or at exit. */
const waiting = new Set<(atExit?: boolean) => void>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const flush of [...waiting]) flush(true);
  });
}

/**
 * At exit nothing asynchronous runs again: sonic-boom's queue, then these lines, written
 * synchronously to its fd (a write given to sonic-boom now could start an asynchronous write
 * that never ends). A pipe that stays full for a second loses them: nothing else can be done.
 */
function writeAtExit(stdout: AsyncDestination, text: string): void {
  try {
    stdout.flushSync();
  } catch {
    // A write under way or stdout gone: its own lines are beyond reach here.
  }
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let bytes = Buffer.from(text, 'utf8');
  for (let tries = 0; bytes.length > 0 && tries < 100; ) {
    try {
      // fd 1: the one destination createLogger batches.
      bytes = bytes.subarray(writeSync(1, bytes));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      tries++;
      Atomics.wait(pause, 0, 0, 10);
    }
  }
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
  for (const flush of [...waiting]) flush();
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
