// Fail-open bookkeeping and a circuit breaker for the shared store. While the store is down
// every request would pay for a failed (or, if Redis hangs, a timed-out) command, so:
// - the first failure is logged once and the recovery once, never one line per request;
// - while down, callers skip the store except for one probe command every PROBE_MS, so a
//   dead or hung Redis costs a request nothing and piles up no commands.
import type { CacheLogger } from './options.js';

export interface StoreHealth {
  readonly down: boolean;
  /** False while down, except for the occasional probe. */
  allow(): boolean;
  fail(op: string, err: unknown): void;
  ok(): void;
  /** After close(): failures are expected and not worth a line. */
  silence(): void;
}

const PROBE_MS = 250;

// Error texts may quote a connection string; keep the scheme and drop the rest.
const URLS = /\b([a-z][a-z0-9+.-]*:)\/\/\S+/gi;

export function describeError(err: unknown): { name: string; code?: string; message: string } {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err).replace(URLS, '$1//[redacted]') };
  const code = (err as { code?: unknown }).code;
  return {
    name: err.name,
    ...(typeof code === 'string' ? { code } : {}),
    message: err.message.replace(URLS, '$1//[redacted]'),
  };
}

export interface StoreHealthOptions {
  store: 'memory' | 'redis';
  logger: Pick<CacheLogger, 'warn' | 'info'>;
  /** Called when the store works again (replay what it missed). */
  onRecovered?: () => void;
  /** The log lines' `msg`s, for another user of a store (the rate limits). */
  messages?: { down: string; recovered: string };
}

export function createStoreHealth({ store, logger, onRecovered, messages }: StoreHealthOptions): StoreHealth {
  const say = messages ?? { down: 'cache store unavailable', recovered: 'cache store recovered' };
  let down = false;
  let silent = false;
  // Real time on purpose: the injectable clock of entries may stand still in tests.
  let nextProbe = 0;
  return {
    get down() {
      return down;
    },
    allow() {
      if (!down) return true;
      const t = Date.now();
      if (t < nextProbe) return false;
      nextProbe = t + PROBE_MS;
      return true;
    },
    fail(op, err) {
      if (down || silent) return;
      down = true;
      nextProbe = Date.now() + PROBE_MS;
      logger.warn({ msg: say.down, store, op, err: describeError(err) });
    },
    ok() {
      if (!down) return;
      down = false;
      if (silent) return;
      logger.info({ msg: say.recovered, store });
      onRecovered?.();
    },
    silence() {
      silent = true;
    },
  };
}
