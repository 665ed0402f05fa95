// The token bucket every replica shares: one TAKE script per take. Fails open: while Redis is
// away (down, hung, or the breaker open) this replica limits on its own with a local bucket.
import { checkCost, checkKey, resolveRate } from './options.js';
import type { RedisLimitsDeps } from './redis-health.js';
import { runScript, TAKE } from './redis-scripts.js';
import type { RateLimiter, TakeResult } from './types.js';

export function createRedisRateLimiter(redis: RedisLimitsDeps, local: RateLimiter): RateLimiter {
  return {
    async take(key, cost, rate): Promise<TakeResult> {
      checkKey(key);
      const { requestsPerSecond, burst } = resolveRate(rate);
      checkCost(cost, burst);
      if (cost === 0) return { ok: true, retryAfterMs: 0, remaining: burst };
      let reply: unknown;
      try {
        reply = await redis.call(() =>
          runScript(redis.client, TAKE, [redis.keys.bucket(key)], [String(requestsPerSecond), String(burst), String(cost)]),
        );
      } catch (err) {
        redis.health.fail('take', err);
        return local.take(key, cost, rate);
      }
      redis.health.ok();
      const [ok, retryAfterMs, remaining] = reply as [number, number, string];
      return { ok: ok === 1, retryAfterMs: Number(retryAfterMs), remaining: Number(remaining) };
    },
  };
}
