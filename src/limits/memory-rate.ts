// A token bucket per key in this process: the 'memory' store, and the fallback of the Redis
// one while Redis is away. Same arithmetic as the TAKE script in redis-scripts.ts.
import { checkCost, checkKey, resolveRate } from './options.js';
import type { RateLimiter, TakeResult } from './types.js';

/** Float slack: five takes of 0.2 must empty a bucket of 1, not refuse the fifth. */
export const EPSILON = 1e-9;

interface Bucket {
  tokens: number;
  at: number;
  /** When the bucket is full again: from then on it is the same as no bucket. */
  fullAt: number;
}

export interface MemoryRateLimiter extends RateLimiter {
  /** Buckets held (not yet swept); for tests. */
  size(): number;
}

export function createMemoryRateLimiter(now: () => number): MemoryRateLimiter {
  const buckets = new Map<string, Bucket>();
  let ops = 0;
  // Amortised O(1): a sweep visits every bucket, and runs once per that many takes.
  const sweep = (t: number) => {
    for (const [key, b] of buckets) if (b.fullAt <= t) buckets.delete(key);
  };

  return {
    size: () => buckets.size,
    async take(key, cost, rate): Promise<TakeResult> {
      checkKey(key);
      const { requestsPerSecond, burst } = resolveRate(rate);
      checkCost(cost, burst);
      if (cost === 0) return { ok: true, retryAfterMs: 0, remaining: burst };
      const t = now();
      const perMs = requestsPerSecond / 1000;
      const b = buckets.get(key);
      // A clock that steps back refills nothing (and keeps the later time).
      let tokens = b ? Math.min(burst, b.tokens + Math.max(0, t - b.at) * perMs) : burst;
      const at = b ? Math.max(b.at, t) : t;
      let result: TakeResult;
      if (tokens + EPSILON >= cost) {
        tokens = Math.max(0, tokens - cost);
        result = { ok: true, retryAfterMs: 0, remaining: tokens };
      } else {
        result = { ok: false, retryAfterMs: Math.max(1, Math.ceil((cost - tokens) / perMs)), remaining: tokens };
      }
      buckets.set(key, { tokens, at, fullAt: at + (burst - tokens) / perMs });
      if (++ops >= Math.max(1024, buckets.size)) {
        ops = 0;
        sweep(t);
      }
      return result;
    },
  };
}
