// Fail-open bookkeeping: while the shared store is down every request would hit an error,
// so the first failure is logged once and the recovery once, never one line per request.
import type { CacheLogger } from './options.js';

export interface StoreHealth {
  readonly down: boolean;
  fail(op: string, err: unknown): void;
  ok(): void;
  /** After close(): failures are expected and not worth a line. */
  silence(): void;
}

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

export function createStoreHealth(store: 'memory' | 'redis', logger: CacheLogger): StoreHealth {
  let down = false;
  let silent = false;
  return {
    get down() {
      return down;
    },
    fail(op, err) {
      if (down || silent) return;
      down = true;
      logger.warn({ msg: 'cache store unavailable', store, op, err: describeError(err) });
    },
    ok() {
      if (!down) return;
      down = false;
      if (!silent) logger.info({ msg: 'cache store recovered', store });
    },
    silence() {
      silent = true;
    },
  };
}
