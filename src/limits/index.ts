// The limits' composition root: validates the options, picks the store, and for Redis opens a
// connection of its own (commands, and a subscriber for release wake-ups). Built once at
// start-up; resolves even when Redis is unreachable (every replica then limits on its own).
import { openRedis } from '../cache/redis-connection.js';
import { createMemoryRateLimiter } from './memory-rate.js';
import { createMemorySemaphore } from './memory-semaphore.js';
import { resolveLimitsOptions } from './options.js';
import { boundedCall, createLimitsHealth } from './redis-health.js';
import { createRedisRateLimiter } from './redis-rate.js';
import { limitKeys, loadScripts } from './redis-scripts.js';
import { createRedisSemaphore, createWakeups } from './redis-semaphore.js';
import type { Limits, LimitsOptions } from './types.js';

export { LimitOptionError, resolveRate, type ResolvedRate } from './options.js';
export { limitKeys } from './redis-scripts.js';
export type * from './types.js';

export async function createLimits(options: LimitsOptions): Promise<Limits> {
  const o = resolveLimitsOptions(options);
  const localRate = createMemoryRateLimiter(o.now);
  const localSemaphore = createMemorySemaphore();
  if (o.kind === 'memory') {
    return Object.freeze({ kind: 'memory' as const, rate: localRate, semaphore: localSemaphore, close: async () => {} });
  }

  const health = createLimitsHealth(o.logger);
  const keys = limitKeys(o.keyPrefix);
  const wakeups = createWakeups();
  const connection = openRedis({
    url: o.url!,
    name: `${o.keyPrefix}limits`,
    commandTimeoutMs: o.commandTimeoutMs,
    health,
    channel: keys.released,
    onMessage: (key) => wakeups.wake(key),
    // Releases published while the subscriber was away are lost: every waiter retries now.
    onSubscribed: () => wakeups.wakeAll(),
  });
  connection.client.on('ready', () => loadScripts(connection.client));
  const redis = { client: connection.client, health, call: boundedCall(connection.client, health, o.commandTimeoutMs, 'limits'), keys };
  const semaphore = createRedisSemaphore(redis, localSemaphore, wakeups);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      health.silence();
      semaphore.stop();
      await connection.close();
    })();
    return closing;
  };
  // When Redis is unreachable this resolves at the first connection error (logged once).
  await connection.started;
  return Object.freeze({ kind: 'redis' as const, rate: createRedisRateLimiter(redis, localRate), semaphore, close });
}
