import { describe, expect, it } from 'vitest';
import { createLimits, LimitOptionError, resolveRate, type LimitsOptions } from '../../src/limits/index.js';
import { createMemoryRateLimiter } from '../../src/limits/memory-rate.js';
import { createMemorySemaphore } from '../../src/limits/memory-semaphore.js';
import { limitsContract, sleep } from './contract.js';

const logger = { warn() {}, info() {} };

limitsContract('memory', (extra) => createLimits({ store: 'memory', keyPrefix: 'orgw:', logger, ...extra }), { shared: false });

describe('memory token bucket (fake clock)', () => {
  it('refills by elapsed time exactly', async () => {
    let clock = 1_000_000;
    const rate = createMemoryRateLimiter(() => clock);
    const r = { requestsPerSecond: 10, burst: 5 };
    expect((await rate.take('k', 5, r)).ok).toBe(true);
    expect(await rate.take('k', 1, r)).toEqual({ ok: false, retryAfterMs: 100, remaining: 0 });
    clock += 50;
    const half = await rate.take('k', 1, r);
    expect(half).toMatchObject({ ok: false, retryAfterMs: 50 });
    expect(half.remaining).toBeCloseTo(0.5, 9);
    clock += 50;
    expect(await rate.take('k', 1, r)).toMatchObject({ ok: true, retryAfterMs: 0 });
    clock += 60_000;
    expect((await rate.take('k', 5, r)).ok).toBe(true); // capped at the burst
    expect((await rate.take('k', 0.5, r)).ok).toBe(false);
  });

  it('refills nothing when the clock steps back', async () => {
    let clock = 1_000_000;
    const rate = createMemoryRateLimiter(() => clock);
    const r = { requestsPerSecond: 1, burst: 1 };
    expect((await rate.take('k', 1, r)).ok).toBe(true);
    clock -= 10_000;
    expect((await rate.take('k', 1, r)).ok).toBe(false);
    clock += 10_500;
    expect((await rate.take('k', 1, r)).retryAfterMs).toBe(500);
  });

  it('forgets buckets once they are full again', async () => {
    let clock = 0;
    const rate = createMemoryRateLimiter(() => clock);
    const r = { requestsPerSecond: 1, burst: 1 };
    for (let i = 0; i < 2_000; i++) await rate.take(`k${i}`, 1, r);
    expect(rate.size()).toBe(2_000);
    clock += 1_000;
    for (let i = 0; i < 2_000; i++) await rate.take(`other${i % 10}`, 0.01, r);
    expect(rate.size()).toBeLessThanOrEqual(10);
  });
});

describe('memory semaphore', () => {
  it('serves waiters first come, first served', async () => {
    const semaphore = createMemorySemaphore();
    const opts = { timeoutMs: 5_000, leaseMs: 1_000 };
    const first = (await semaphore.acquire('k', 1, opts))!;
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      semaphore.acquire('k', 1, opts).then((release) => {
        order.push(n);
        release!();
      }),
    );
    first();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(semaphore.held('k')).toBe(0);
  });

  it('lets a later waiter go once an earlier one times out or aborts', async () => {
    const semaphore = createMemorySemaphore();
    const release = (await semaphore.acquire('k', 1, { timeoutMs: 0, leaseMs: 1_000 }))!;
    const controller = new AbortController();
    const early = semaphore.acquire('k', 1, { timeoutMs: 5_000, leaseMs: 1_000, signal: controller.signal });
    const late = semaphore.acquire('k', 1, { timeoutMs: 5_000, leaseMs: 1_000 });
    controller.abort();
    await expect(early).rejects.toThrow(/abort/i);
    release();
    expect(await late).toBeTypeOf('function');
  });

  it("leaves the holder's slot alone when a waiter times out", async () => {
    const semaphore = createMemorySemaphore();
    expect(await semaphore.acquire('k', 1, { timeoutMs: 0, leaseMs: 1_000 })).toBeTypeOf('function');
    expect(await semaphore.acquire('k', 1, { timeoutMs: 20, leaseMs: 1_000 })).toBeUndefined();
    await sleep(1);
    expect(semaphore.held('k')).toBe(1);
  });
});

describe('createLimits options', () => {
  const base: LimitsOptions = { store: 'memory', keyPrefix: 'orgw:', logger };

  it('builds a memory store', async () => {
    const limits = await createLimits(base);
    expect(limits.kind).toBe('memory');
    expect(Object.isFrozen(limits)).toBe(true);
    await limits.close();
  });

  it.each<[string, Partial<LimitsOptions>]>([
    ['store', { store: 'ftp://example.com' }],
    ['store', { store: 'not a url' }],
    ['store', { store: 42 as unknown as string }],
    ['keyPrefix', { keyPrefix: '' }],
    ['keyPrefix', { keyPrefix: 'has space' }],
    ['logger', { logger: {} as unknown as LimitsOptions['logger'] }],
    ['now', { now: 5 as unknown as () => number }],
    ['commandTimeoutMs', { commandTimeoutMs: 0 }],
  ])('rejects a bad %s', async (option, extra) => {
    await expect(createLimits({ ...base, ...extra })).rejects.toMatchObject({ name: 'LimitOptionError', option, code: 'limit_option_invalid' });
  });

  it('never repeats a store URL, which may hold a password', async () => {
    const err = await createLimits({ ...base, store: 'http://user:s3cret@example.com' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitOptionError);
    expect(String((err as Error).message)).not.toContain('s3cret');
  });
});

describe('resolveRate', () => {
  it('fills in the burst', () => {
    expect(resolveRate({ requestsPerSecond: 0.2 })).toEqual({ requestsPerSecond: 0.2, burst: 1 });
    expect(resolveRate({ requestsPerSecond: 7.1 })).toEqual({ requestsPerSecond: 7.1, burst: 8 });
    expect(resolveRate({ requestsPerSecond: 5, burst: 20 })).toEqual({ requestsPerSecond: 5, burst: 20 });
  });

  it('throws on nonsense at once, for configuration checks', () => {
    expect(() => resolveRate({ requestsPerSecond: 0 })).toThrow(LimitOptionError);
    expect(() => resolveRate({ requestsPerSecond: 1, burst: -2 })).toThrow(/burst/);
  });
});
