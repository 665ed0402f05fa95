// The cache fails open: with its Redis gone, requests go on (L1, or a miss) without waiting,
// one line is logged for the outage and one for the recovery, and the bumps made meanwhile
// reach the other replicas once Redis is back. Each test kills a redis-server of its own.
import { createClient } from '@keyv/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { createCacheBackend, type ProcessCacheBackend } from '../../src/cache/index.js';
import { canRunOwnRedis, freePort, ownRedis, uniquePrefix } from './redis-env.js';
import type { RedisServer } from './redis-server.js';
import { response } from './store-contract.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const times = () => ({ freshUntil: Date.now() + 60_000, staleUntil: Date.now() + 60_000 });

function recordingLogger() {
  const lines: Array<{ level: string } & Record<string, unknown>> = [];
  const at = (level: string) => (obj: object) => void lines.push({ level, ...obj });
  return { lines, logger: { warn: at('warn'), info: at('info'), error: at('error') } };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

if (!canRunOwnRedis) console.warn('Redis-down suite skipped: no redis-server on PATH to kill');

describe.runIf(canRunOwnRedis || process.env.CI === 'true')('redis: down', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('fails open while Redis is down and recovers when it is back', async () => {
    const server: RedisServer = await ownRedis();
    cleanup.push(() => server.dispose());
    const { lines, logger } = recordingLogger();
    const keyPrefix = uniquePrefix('down');
    const b: ProcessCacheBackend = await createCacheBackend({ store: server.url, maxMemoryBytes: 4 << 20, keyPrefix, logger });
    cleanup.push(() => b.close());
    await b.cache.set('d1', 'cached', response('[1]'), times(), ['list:users']);

    await server.stop();
    const [miss, missMs] = await timed(() => b.cache.get('d1', 'not-cached'));
    expect(miss).toBeUndefined();
    expect(missMs).toBeLessThan(500);
    // L1 still serves what it holds.
    expect(await b.cache.get('d1', 'cached')).toMatchObject({ tier: 'l1', valid: true });
    await b.cache.set('d1', 'new', response('[2]'), times(), ['list:users']);
    expect(await b.cache.get('d1', 'new')).toMatchObject({ tier: 'l1', valid: true });
    // The bump stays local for now, and this replica honours it at once.
    await b.cache.bump('d1', ['list:users']);
    expect((await b.cache.get('d1', 'cached'))?.valid).toBe(false);
    expect(await b.cache.generations('d1', ['list:users'])).toEqual([1]);
    await b.cache.delete('d1', 'new');
    expect(await b.leases.acquire('lease', 5_000)).toBe(true);
    await b.leases.release('lease');
    expect(await b.state.get('watermark')).toBeUndefined();
    await b.state.set('watermark', 'x');
    const [, allMs] = await timed(async () => {
      for (let i = 0; i < 20; i++) await b.cache.get('d1', `miss-${i}`);
    });
    expect(allMs).toBeLessThan(500);

    const warns = lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ msg: 'cache store unavailable', store: 'redis' });

    await server.start();
    await expect.poll(() => lines.filter((l) => l.msg === 'cache store recovered').length, { timeout: 5_000, interval: 50 }).toBe(1);
    // The bump made during the outage reached Redis (so the other replicas see it too).
    const raw = createClient({ url: server.url });
    await raw.connect();
    cleanup.push(() => raw.close());
    await expect.poll(() => raw.hGet(`${keyPrefix}g:d1`, 'list:users'), { timeout: 2_000, interval: 20 }).toBe('1');
    await b.cache.set('d1', 'after', response('[3]'), times(), ['list:users']);
    b.cache.clearL1();
    expect(await b.cache.get('d1', 'after')).toMatchObject({ tier: 'l2', valid: true });
    expect(await b.leases.acquire('lease', 5_000)).toBe(true);
    expect(await b.leases.acquire('lease', 5_000)).toBe(false);

    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'cache store recovered')).toHaveLength(1);
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain('redis://');
  });

  it('gives up on a Redis that hangs after commandTimeoutMs', async () => {
    const server = await ownRedis();
    cleanup.push(() => server.dispose());
    const { lines, logger } = recordingLogger();
    const b = await createCacheBackend({ store: server.url, maxMemoryBytes: 1 << 20, keyPrefix: uniquePrefix('hang'), commandTimeoutMs: 200, logger });
    cleanup.push(() => b.close());
    await b.cache.set('d1', 'cached', response('[1]'), times(), ['all']);
    server.pause();
    const [miss, missMs] = await timed(() => b.cache.get('d1', 'not-cached'));
    expect(miss).toBeUndefined();
    expect(missMs).toBeLessThan(450);
    expect(await b.cache.get('d1', 'cached')).toMatchObject({ tier: 'l1', valid: true });
    const [, bumpMs] = await timed(() => b.cache.bump('d1', ['all']));
    expect(bumpMs).toBeLessThan(450);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    server.resume();
    await expect.poll(async () => (await b.cache.generations('d1', ['all']))[0], { timeout: 3_000, interval: 50 }).toBeGreaterThanOrEqual(1);
  });
});

describe('redis: unreachable at start', () => {
  it('resolves at once and serves from L1, then logs one warning', async () => {
    const port = await freePort(); // nothing listens there
    const { lines, logger } = recordingLogger();
    const [b, startMs] = await timed(() => createCacheBackend({ store: `redis://127.0.0.1:${port}`, maxMemoryBytes: 1 << 20, logger }));
    try {
      expect(startMs).toBeLessThan(1_000);
      expect(b.kind).toBe('redis');
      const [miss, missMs] = await timed(() => b.cache.get('d1', 'k'));
      expect(miss).toBeUndefined();
      expect(missMs).toBeLessThan(100);
      await b.cache.set('d1', 'k', response('[1]'), times(), ['all']);
      expect(await b.cache.get('d1', 'k')).toMatchObject({ tier: 'l1', valid: true });
      expect(await b.leases.acquire('x', 1_000)).toBe(true);
      await sleep(300); // a few reconnect attempts: still one line
      expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    } finally {
      const [, closeMs] = await timed(() => b.close());
      expect(closeMs).toBeLessThan(500);
    }
  });

  it('never logs the store URL, whose password it may hold', async () => {
    const port = await freePort();
    const { lines, logger } = recordingLogger();
    const b = await createCacheBackend({ store: `redis://user:s3cret@127.0.0.1:${port}/0`, maxMemoryBytes: 1 << 20, logger });
    try {
      await b.cache.get('d', 'k');
      expect(lines.length).toBeGreaterThan(0);
      expect(JSON.stringify(lines)).not.toMatch(/s3cret|redis:\/\//);
    } finally {
      await b.close();
    }
  });
});
