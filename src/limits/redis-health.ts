// Fail-open bookkeeping for the limits' Redis, the same breaker as the cache's
// (src/cache/store-health.ts) with lines of its own: one warning when Redis goes away, one
// line when it is back; meanwhile commands are skipped but for one probe every PROBE_MS, so
// a dead or hung Redis costs a take nothing.
import type { RedisClient } from '../cache/redis-connection.js';
import { describeError, type StoreHealth } from '../cache/store-health.js';
import type { limitKeys } from './redis-scripts.js';
import type { LimitsLogger } from './types.js';

const PROBE_MS = 250;

export function createLimitsHealth(logger: LimitsLogger): StoreHealth {
  let down = false;
  let silent = false;
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
      logger.warn({ msg: 'rate-limit store unavailable: limiting per replica', store: 'redis', op, err: describeError(err) });
    },
    ok() {
      if (!down) return;
      down = false;
      if (!silent) logger.info({ msg: 'rate-limit store recovered', store: 'redis' });
    },
    silence() {
      silent = true;
    },
  };
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
