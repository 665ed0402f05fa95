// Validation: a nonsense rate or limit is a bug in the caller's configuration, so it throws
// (at start-up via resolveRate, or at the first call) instead of silently limiting nothing.
import type { AcquireOptions, LimitsLogger, LimitsOptions, Rate } from './types.js';

/** A bad option or argument: `option` names it; the message never repeats a store URL. */
export class LimitOptionError extends RangeError {
  readonly code = 'limit_option_invalid';
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`limits: "${option}" ${detail}`);
    this.name = 'LimitOptionError';
  }
}

export interface ResolvedRate {
  readonly requestsPerSecond: number;
  readonly burst: number;
}

const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** Checks a rate and fills in its burst; call it when reading configuration to fail early. */
export function resolveRate(rate: Rate): ResolvedRate {
  if (!rate || typeof rate !== 'object') throw new LimitOptionError('rate', 'must be an object');
  const { requestsPerSecond: rps, burst } = rate;
  if (!positive(rps)) throw new LimitOptionError('requestsPerSecond', `must be a finite number > 0, got ${String(rps)}`);
  if (burst !== undefined && !positive(burst)) throw new LimitOptionError('burst', `must be a finite number > 0, got ${String(burst)}`);
  return { requestsPerSecond: rps, burst: burst ?? Math.max(1, Math.ceil(rps)) };
}

export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw new LimitOptionError('key', 'must be a non-empty string');
}

export function checkCost(cost: unknown, burst: number): asserts cost is number {
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0 || cost > burst) {
    throw new LimitOptionError('cost', `must be a number from 0 to the burst (${burst}), got ${String(cost)}`);
  }
}

/** Shortest lease: renewals run every leaseMs / 3. */
export const MIN_LEASE_MS = 30;

export function checkAcquire(key: unknown, limit: unknown, opts: AcquireOptions): void {
  checkKey(key);
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new LimitOptionError('limit', `must be an integer >= 1, got ${String(limit)}`);
  }
  if (!opts || typeof opts !== 'object') throw new LimitOptionError('opts', 'must be an object');
  const { timeoutMs, leaseMs, signal } = opts;
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || timeoutMs > 2 ** 31 - 1) {
    throw new LimitOptionError('timeoutMs', `must be a number of ms from 0 to 2^31-1, got ${String(timeoutMs)}`);
  }
  if (typeof leaseMs !== 'number' || !Number.isSafeInteger(leaseMs) || leaseMs < MIN_LEASE_MS) {
    throw new LimitOptionError('leaseMs', `must be an integer >= ${MIN_LEASE_MS} (ms), got ${String(leaseMs)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new LimitOptionError('signal', 'must be an AbortSignal');
}

export interface ResolvedLimitsOptions {
  kind: 'memory' | 'redis';
  /** Only for the client; never logged. */
  url: string | undefined;
  keyPrefix: string;
  logger: LimitsLogger;
  now: () => number;
  commandTimeoutMs: number;
}

function storeKind(store: unknown): 'memory' | 'redis' {
  if (store === 'memory') return 'memory';
  if (typeof store !== 'string') throw new LimitOptionError('store', `must be 'memory' or a redis:// URL, got ${typeof store}`);
  let url: URL;
  try {
    url = new URL(store);
  } catch {
    throw new LimitOptionError('store', "must be 'memory' or a redis:// or rediss:// URL (it is not a URL)");
  }
  // Only the scheme is echoed: the rest may hold a password.
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new LimitOptionError('store', `must be 'memory' or a redis:// or rediss:// URL, got scheme '${url.protocol}'`);
  }
  if (!url.hostname) throw new LimitOptionError('store', 'has no host');
  return 'redis';
}

export function resolveLimitsOptions(options: LimitsOptions): Readonly<ResolvedLimitsOptions> {
  if (!options || typeof options !== 'object') throw new LimitOptionError('options', 'must be an object');
  const kind = storeKind(options.store);
  const { keyPrefix, logger } = options;
  if (typeof keyPrefix !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(keyPrefix)) {
    throw new LimitOptionError('keyPrefix', 'must be 1-64 printable ASCII characters without spaces');
  }
  if (!logger || typeof logger.warn !== 'function' || typeof logger.info !== 'function') {
    throw new LimitOptionError('logger', 'must have warn and info functions');
  }
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new LimitOptionError('now', 'must be a function returning ms');
  const commandTimeoutMs = options.commandTimeoutMs ?? 250;
  if (!Number.isSafeInteger(commandTimeoutMs) || commandTimeoutMs < 1) {
    throw new LimitOptionError('commandTimeoutMs', `must be an integer >= 1 (ms), got ${String(commandTimeoutMs)}`);
  }
  return Object.freeze({ kind, url: kind === 'redis' ? options.store : undefined, keyPrefix, logger, now, commandTimeoutMs });
}
