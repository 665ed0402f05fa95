// Fail-open bookkeeping for the limits' Redis: the cache's breaker
// (src/cache/store-health.ts) with log lines of its own: one warning when Redis goes away, one
// line when it is back; meanwhile commands are skipped but for one probe every PROBE_MS, so
// a dead or hung Redis costs a take nothing.
import type { BoundedCall, RedisClient } from '../cache/redis-connection.js';
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

export { boundedCall, type BoundedCall } from '../cache/redis-connection.js';

/** What the Redis rate limiter and semaphore share: one connection, one breaker, one deadline. */
export interface RedisLimitsDeps {
  client: RedisClient;
  health: StoreHealth;
  call: BoundedCall;
  keys: ReturnType<typeof limitKeys>;
}
