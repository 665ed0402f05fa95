// A district's budgets shared by every replica: its `maxConcurrency` counted across replicas
// (a semaphore in Redis) and its request rate (`upstream.rateLimit`, a token bucket). Both are
// waited for within queueTimeoutMs, after this replica's own limiter let the request through.
import { performance } from 'node:perf_hooks';
import type { UpstreamOptions } from '../config/schema.js';
import type { Interceptor } from './dispatch.js';
import { UpstreamError } from './types.js';

/**
 * The slice of src/limits the chain needs; the composition root passes its `Limits` as it is.
 * With `kind: 'memory'` the store is this process only: the local limiter is then the whole
 * story for concurrency, and only the rate is asked of it.
 */
export interface SharedBudgets {
  readonly kind: 'memory' | 'redis';
  readonly rate: {
    take(key: string, cost: number, rate: { requestsPerSecond: number; burst?: number }): Promise<{ ok: boolean; retryAfterMs: number }>;
  };
  readonly semaphore: {
    acquire(key: string, limit: number, opts: { timeoutMs: number; leaseMs: number; signal?: AbortSignal }): Promise<(() => void) | undefined>;
  };
}

type BudgetOptions = Pick<UpstreamOptions, 'maxConcurrency' | 'queueTimeoutMs' | 'timeoutMs' | 'rateLimit'>;

/** The district's shared slot and request token, waited for within queueTimeoutMs. */
export function sharedBudget(districtId: string, opts: BudgetOptions, shared: SharedBudgets): Interceptor {
  const busy = (why: string) => new UpstreamError('UPSTREAM_BUSY', `district "${districtId}" is busy: ${why}`, districtId);
  const aborted = () => new UpstreamError('UPSTREAM_ABORTED', 'aborted', districtId);
  const key = `upstream:${districtId}`;

  async function slot(signal: AbortSignal | undefined): Promise<(() => void) | undefined> {
    if (shared.kind !== 'redis') return () => undefined;
    return shared.semaphore
      .acquire(key, opts.maxConcurrency, { timeoutMs: opts.queueTimeoutMs, leaseMs: opts.timeoutMs + 5_000, ...(signal ? { signal } : {}) })
      .catch((err: unknown) => {
        if (signal?.aborted) throw aborted();
        throw err;
      });
  }

  async function token(deadline: number, signal: AbortSignal | undefined): Promise<void> {
    if (!opts.rateLimit) return;
    for (;;) {
      const taken = await shared.rate.take(key, 1, opts.rateLimit);
      if (taken.ok) return;
      if (performance.now() + taken.retryAfterMs > deadline) throw busy('its request rate budget is spent');
      await new Promise((r) => setTimeout(r, taken.retryAfterMs));
      if (signal?.aborted) throw aborted();
    }
  }

  return (next) =>
    async function budgeted(req) {
      const deadline = performance.now() + opts.queueTimeoutMs;
      const release = await slot(req.signal);
      if (!release) throw busy('every replica-wide slot is taken');
      try {
        await token(deadline, req.signal);
        return await next(req);
      } finally {
        release();
      }
    };
}
