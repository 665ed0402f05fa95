// Fail-open bookkeeping for the limits' Redis: the cache's breaker
// (src/cache/store-health.ts) with log lines of its own: one warning when Redis goes away, one
// line when it is back; meanwhile commands are skipped but for one probe every PROBE_MS, so
// a dead or hung Redis costs a take nothing.
import type { RedisClient } from '../cache/redis-connection.js';
import { createStoreHealth, type StoreHealth } from '../cache/store-health.js';
import type { limitKeys } from './redis-scripts.js';
import type { LimitsLogger } from './types.js';

export function createLimitsHealth(logger: LimitsLogger): StoreHealth {
  return createStoreHealth({
    store: 'redis',
    logger,
    messages: { down: 'rate-limit store unavailable: limiting per replica', recovered: 'rate-limit store recovered' },
  });
}

export class LimitsStoreSkipped extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'LimitsStoreSkipped';
  }
}

export class LimitsStoreTimeout extends Error {
  readonly code = 'limits_store_timeout';
  constructor(ms: number) {
    super(`no reply from the rate-limit store within ${ms} ms`);
    this.name = 'LimitsStoreTimeout';
  }
}

export type BoundedCall = <T>(op: () => Promise<T>) => Promise<T>;

/**
 * Runs `op` unless the client is closed or the breaker is open, and gives up on it after
 * `ms`: node-redis stops counting its own timeout once a command is written, so a Redis that
 * hangs with its socket open would otherwise hold the caller.
 */
export function boundedCall(client: RedisClient, health: StoreHealth, ms: number): BoundedCall {
  return <T>(op: () => Promise<T>) => {
    if (!client.isOpen) return Promise.reject(new LimitsStoreSkipped('rate-limit store is closed'));
    if (!health.allow()) return Promise.reject(new LimitsStoreSkipped('rate-limit store is down'));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LimitsStoreTimeout(ms)), ms);
    });
    return Promise.race([op(), deadline]).finally(() => clearTimeout(timer));
  };
}

/** What the Redis rate limiter and semaphore share: one connection, one breaker, one deadline. */
export interface RedisLimitsDeps {
  client: RedisClient;
  health: StoreHealth;
  call: BoundedCall;
  keys: ReturnType<typeof limitKeys>;
}
