// The limits fail open: with their Redis gone (killed, or hung with its sockets open), take and
// acquire still answer at once from local state, one line is logged for the outage and one for
// the recovery, and Redis is used again once it is back. Each test kills a redis-server of its own.
import { createClient } from '@keyv/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { createLimits, limitKeys } from '../../src/limits/index.js';
import { canRunOwnRedis, ownRedis, uniquePrefix } from '../cache/redis-env.js';
import type { RedisServer } from '../cache/redis-server.js';

function recordingLogger() {
  const lines: Array<{ level: string } & Record<string, unknown>> = [];
  const at = (level: string) => (obj: object) => void lines.push({ level, ...obj });
  return { lines, logger: { warn: at('warn'), info: at('info') } };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

const slow = { requestsPerSecond: 0.001, burst: 3 };
const lease = { timeoutMs: 0, leaseMs: 5_000 };

if (!canRunOwnRedis) console.warn('Limits redis-down suite skipped: no redis-server on PATH to kill');

describe.runIf(canRunOwnRedis || process.env.CI === 'true')('limits: redis down', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function setup(commandTimeoutMs?: number) {
    const server: RedisServer = await ownRedis();
    cleanup.push(() => server.dispose());
    const { lines, logger } = recordingLogger();
    const keyPrefix = uniquePrefix('limits-down');
    const limits = await createLimits({ store: server.url, keyPrefix, logger, ...(commandTimeoutMs ? { commandTimeoutMs } : {}) });
    cleanup.push(() => limits.close());
    const keys = limitKeys(keyPrefix);
    /** A raw client of its own each time: the server may have restarted. */
    const inRedis = async (key: string) => {
      const raw = createClient({ url: server.url });
      await raw.connect();
      try {
        return (await raw.exists(key)) === 1;
      } finally {
        await raw.close();
      }
    };
    return { server, lines, limits, keys, inRedis };
  }

  it('answers from local state while Redis is killed, and goes back to Redis when it restarts', async () => {
    const { server, lines, limits, keys, inRedis } = await setup();
    expect((await limits.rate.take('k', 2, slow)).ok).toBe(true);
    expect(await inRedis(keys.bucket('k'))).toBe(true);
    const remote = await limits.semaphore.acquire('s', 1, lease);
    expect(await inRedis(keys.semaphore('s'))).toBe(true);

    await server.stop();
    // Degraded: this replica's own bucket, full, with the whole budget.
    const [first, firstMs] = await timed(() => limits.rate.take('k', 1, slow));
    expect(first.ok).toBe(true);
    expect(firstMs).toBeLessThan(1_000);
    const [rest, restMs] = await timed(async () => [await limits.rate.take('k', 1, slow), await limits.rate.take('k', 1, slow), await limits.rate.take('k', 1, slow)]);
    expect(rest.map((t) => t.ok)).toEqual([true, true, false]);
    expect(restMs).toBeLessThan(300);
    // A local semaphore with the same limit: the Redis holder is not counted here.
    const [local, acquireMs] = await timed(() => limits.semaphore.acquire('s', 1, lease));
    expect(local).toBeTypeOf('function');
    expect(acquireMs).toBeLessThan(1_000);
    const [none, noneMs] = await timed(() => limits.semaphore.acquire('s', 1, { ...lease, timeoutMs: 200 }));
    expect(none).toBeUndefined();
    expect(noneMs).toBeLessThan(1_000);
    local!();
    remote!(); // cannot reach Redis: its lease runs out there by itself

    const warns = lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ msg: expect.stringContaining('rate-limit store unavailable'), store: 'redis' });

    await server.start();
    await expect.poll(() => lines.filter((l) => l.msg === 'rate-limit store recovered').length, { timeout: 5_000, interval: 50 }).toBe(1);
    // Back on Redis (a new, empty one): the bucket and the slots live there again.
    await expect
      .poll(
        async () => {
          await limits.rate.take('after', 1, slow);
          return inRedis(keys.bucket('after'));
        },
        { timeout: 3_000, interval: 50 },
      )
      .toBe(true);
    const back = await limits.semaphore.acquire('s2', 1, lease);
    expect(back).toBeTypeOf('function');
    expect(await inRedis(keys.semaphore('s2'))).toBe(true);
    back!();
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain('redis://');
  });

  it('gives up on a Redis that hangs after commandTimeoutMs, then skips it until it answers again', async () => {
    const { server, lines, limits, keys, inRedis } = await setup(100);
    expect((await limits.rate.take('k', 1, slow)).ok).toBe(true);
    server.pause();
    const [first, firstMs] = await timed(() => limits.rate.take('k', 1, slow));
    expect(first.ok).toBe(true);
    expect(firstMs).toBeLessThan(600);
    const [, tenMs] = await timed(async () => {
      for (let i = 0; i < 10; i++) await limits.rate.take(`k${i}`, 1, slow);
    });
    expect(tenMs).toBeLessThan(600);
    const [slot, slotMs] = await timed(() => limits.semaphore.acquire('s', 1, lease));
    expect(slot).toBeTypeOf('function');
    expect(slotMs).toBeLessThan(600);
    slot!();
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);

    server.resume();
    await expect
      .poll(
        async () => {
          await limits.rate.take('resumed', 1, slow);
          return inRedis(keys.bucket('resumed'));
        },
        { timeout: 3_000, interval: 50 },
      )
      .toBe(true);
    expect(lines.filter((l) => l.msg === 'rate-limit store recovered')).toHaveLength(1);
  });

  it('moves a waiter to the local semaphore when Redis dies during its wait', async () => {
    const { server, limits } = await setup();
    const holder = await limits.semaphore.acquire('s', 1, lease);
    expect(holder).toBeTypeOf('function');
    const start = performance.now();
    const waiting = limits.semaphore.acquire('s', 1, { ...lease, timeoutMs: 5_000 });
    await new Promise((r) => setTimeout(r, 100));
    await server.stop();
    const got = await waiting;
    expect(got).toBeTypeOf('function');
    expect(performance.now() - start).toBeLessThan(1_500);
    got!();
    holder!();
  });
});
