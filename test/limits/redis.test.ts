// The limits on the shared test Redis: the contract (two instances from `make` are two
// replicas of one gateway), then what only Redis has: its key layout, its own clock, expiry
// of idle state, script reloads, renewals and the release wake-ups.
import { createClient } from '@keyv/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLimits, limitKeys, type Limits, type LimitsOptions } from '../../src/limits/index.js';
import { freePort, redisUrl, uniquePrefix } from '../cache/redis-env.js';
import { crowd, limitsContract, sleep } from './contract.js';

const url = redisUrl();
const quiet = { warn() {}, info() {} };

function recordingLogger() {
  const lines: Array<{ level: string } & Record<string, unknown>> = [];
  const at = (level: string) => (obj: object) => void lines.push({ level, ...obj });
  return { lines, logger: { warn: at('warn'), info: at('info') } };
}

describe.runIf(url)('redis', () => {
  const keyPrefix = uniquePrefix('limits');
  // A warning would mean the local fallback answered: the contract must hold on Redis itself.
  const { lines, logger } = recordingLogger();
  afterAll(() => {
    expect(lines).toEqual([]);
  });
  // A generous timeout: a loaded CI machine must not turn a slow reply into a fallback here.
  limitsContract('redis', (extra) => createLimits({ store: url!, keyPrefix, logger, commandTimeoutMs: 2_000, ...extra }), { shared: true });
});

describe.runIf(url)('redis: limits', () => {
  const raw = createClient({ url: url! });
  const open: Limits[] = [];
  let keyPrefix = '';
  const limits = async (extra?: Partial<LimitsOptions>) => {
    const l = await createLimits({ store: url!, keyPrefix, logger: quiet, ...extra });
    open.push(l);
    return l;
  };
  beforeAll(async () => {
    await raw.connect();
  });
  afterAll(async () => {
    await raw.close();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
    keyPrefix = uniquePrefix('limits');
  });
  keyPrefix = uniquePrefix('limits');

  it('keeps a bucket as a hash {prefix}rl:{key} that expires once it would be full again', async () => {
    const { rate } = await limits();
    const key = limitKeys(keyPrefix).bucket('district-1');
    expect(key).toBe(`${keyPrefix}rl:district-1`);
    await rate.take('district-1', 1, { requestsPerSecond: 20, burst: 2 }); // full again in 50 ms
    expect(await raw.type(key)).toBe('hash');
    expect(Object.keys(await raw.hGetAll(key)).sort()).toEqual(['at', 'tokens']);
    const ttl = await raw.pTTL(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(51);
    await sleep(120);
    expect(await raw.exists(key)).toBe(0);
  });

  it("refills on Redis's clock, whatever the replica's clock says", async () => {
    const { rate } = await limits({ now: () => 0 }); // a stopped local clock
    const r = { requestsPerSecond: 5, burst: 1 };
    expect((await rate.take('k', 1, r)).ok).toBe(true);
    expect((await rate.take('k', 1, r)).ok).toBe(false);
    await sleep(250);
    expect((await rate.take('k', 1, r)).ok).toBe(true);
  });

  it('loads its scripts again when Redis forgot them (SCRIPT FLUSH, restart)', async () => {
    const { rate, semaphore } = await limits();
    const r = { requestsPerSecond: 0.001, burst: 2 };
    expect((await rate.take('k', 1, r)).ok).toBe(true);
    await raw.scriptFlush();
    expect((await rate.take('k', 1, r)).ok).toBe(true);
    expect((await rate.take('k', 1, r)).ok).toBe(false);
    const release = await semaphore.acquire('s', 1, { timeoutMs: 0, leaseMs: 5_000 });
    expect(release).toBeTypeOf('function');
    release!();
  });

  it('keeps holders in a sorted set {prefix}sem:{key} scored by lease expiry, and publishes releases', async () => {
    const { semaphore } = await limits();
    const keys = limitKeys(keyPrefix);
    const key = keys.semaphore('upstream-1');
    const sub = raw.duplicate();
    await sub.connect();
    const messages: string[] = [];
    await sub.subscribe(keys.released, (m) => void messages.push(m));
    try {
      const release = (await semaphore.acquire('upstream-1', 2, { timeoutMs: 0, leaseMs: 5_000 }))!;
      expect(await raw.type(key)).toBe('zset');
      const [holder] = await raw.zRangeWithScores(key, 0, -1);
      const [seconds] = await raw.time();
      expect(holder!.score).toBeGreaterThan(Number(seconds) * 1000 + 4_000);
      expect(holder!.score).toBeLessThanOrEqual(Number(seconds) * 1000 + 6_000);
      const ttl = await raw.pTTL(key);
      expect(ttl).toBeGreaterThan(4_000);
      expect(ttl).toBeLessThanOrEqual(5_000);
      release();
      await expect.poll(() => messages, { timeout: 2_000, interval: 10 }).toEqual(['upstream-1']);
      expect(await raw.exists(key)).toBe(0);
    } finally {
      await sub.close();
    }
  });

  it('renews a lease every leaseMs / 3, and puts a holder back after Redis lost it', async () => {
    const { semaphore } = await limits();
    const key = limitKeys(keyPrefix).semaphore('s');
    const release = (await semaphore.acquire('s', 1, { timeoutMs: 0, leaseMs: 90 }))!;
    const [first] = await raw.zRangeWithScores(key, 0, -1);
    await sleep(200);
    const [later] = await raw.zRangeWithScores(key, 0, -1);
    expect(later!.value).toBe(first!.value);
    expect(later!.score).toBeGreaterThan(first!.score);
    await raw.del(key); // as after a restart of Redis
    await expect.poll(() => raw.zCard(key), { timeout: 1_000, interval: 10 }).toBe(1);
    release();
    await expect.poll(() => raw.exists(key), { timeout: 1_000, interval: 10 }).toBe(0);
  });

  it('holds the limit across three replicas under contention', async () => {
    const replicas = [await limits(), await limits(), await limits()];
    const { most, granted } = await crowd(replicas, 'busy', 2, 9, 3);
    expect(most).toBe(2);
    expect(granted).toBe(27);
    expect(await raw.zCard(limitKeys(keyPrefix).semaphore('busy'))).toBe(0);
  });
});

describe('redis: unreachable at start', () => {
  it('resolves at once and limits locally, with one warning and no URL in it', async () => {
    const port = await freePort(); // nothing listens there
    const { lines, logger } = recordingLogger();
    const start = performance.now();
    const l = await createLimits({ store: `redis://user:s3cret@127.0.0.1:${port}/0`, keyPrefix: uniquePrefix('nowhere'), logger });
    try {
      expect(performance.now() - start).toBeLessThan(1_000);
      expect(l.kind).toBe('redis');
      const r = { requestsPerSecond: 0.001, burst: 2 };
      const t0 = performance.now();
      const results = [await l.rate.take('k', 1, r), await l.rate.take('k', 1, r), await l.rate.take('k', 1, r)];
      expect(results.map((x) => x.ok)).toEqual([true, true, false]);
      const release = await l.semaphore.acquire('s', 1, { timeoutMs: 0, leaseMs: 1_000 });
      expect(release).toBeTypeOf('function');
      expect(await l.semaphore.acquire('s', 1, { timeoutMs: 50, leaseMs: 1_000 })).toBeUndefined();
      release!();
      expect(await l.semaphore.acquire('s', 1, { timeoutMs: 0, leaseMs: 1_000 })).toBeTypeOf('function');
      expect(performance.now() - t0).toBeLessThan(500);
      await sleep(300); // a few reconnect attempts: still one line
      expect(lines.filter((x) => x.level === 'warn')).toHaveLength(1);
      expect(lines[0]).toMatchObject({ msg: expect.stringContaining('rate-limit store unavailable'), store: 'redis' });
      expect(JSON.stringify(lines)).not.toMatch(/s3cret|redis:\/\//);
    } finally {
      const t = performance.now();
      await l.close();
      expect(performance.now() - t).toBeLessThan(500);
    }
  });
});
