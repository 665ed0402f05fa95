// Two backends on one Redis are two replicas of the gateway: what one stores or
// invalidates, the other sees (through L2, and through pub/sub for its L1 copies).
import { createClient } from '@keyv/redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCacheBackend, type CacheBackendOptions, type ProcessCacheBackend } from '../../src/cache/index.js';
import { redisUrl, uniquePrefix } from './redis-env.js';
import { response } from './store-contract.js';

const url = redisUrl();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;

/** Polls until `check` holds (pub/sub is asynchronous), failing after `ms`. */
async function eventually(check: () => Promise<boolean>, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe.runIf(url)('redis: replicas', () => {
  const raw = createClient({ url: url! });
  const open: ProcessCacheBackend[] = [];
  let keyPrefix = '';
  const replica = async (extra?: Partial<CacheBackendOptions>) => {
    const b = await createCacheBackend({ store: url!, maxMemoryBytes: 16 * MB, keyPrefix, l1MaxAgeMs: 60_000, ...extra });
    open.push(b);
    return b;
  };
  const times = () => ({ freshUntil: Date.now() + 60_000, staleUntil: Date.now() + 60_000 });

  beforeAll(async () => {
    await raw.connect();
  });
  afterAll(async () => {
    await raw.close();
  });
  beforeEach(() => {
    keyPrefix = uniquePrefix('replicas');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
  });

  it('serves what A stored from L2 on B, then from B\'s L1', async () => {
    const [a, b] = [await replica(), await replica()];
    await a.cache.set('d1', 'users', response('{"users":[]}'), times(), ['all']);
    const first = await b.cache.get('d1', 'users');
    expect(first).toMatchObject({ tier: 'l2', valid: true });
    expect(first?.entry.body.toString()).toBe('{"users":[]}');
    expect(await b.cache.get('d1', 'users')).toMatchObject({ tier: 'l1', valid: true });
  });

  it('lays keys out as {prefix}c:{scope}:{key}, {prefix}g:{scope}, {prefix}l:, {prefix}s:', async () => {
    const a = await replica();
    await a.cache.set('d1', 'users?limit=5', response('{}'), times(), ['all']);
    await a.cache.bump('d1', ['list:users']);
    await a.leases.acquire('sync', 5_000);
    await a.state.set('watermark', '2024');
    expect(await raw.exists(`${keyPrefix}c:d1:users?limit=5`)).toBe(1);
    expect(await raw.hGet(`${keyPrefix}g:d1`, 'list:users')).toBe('1');
    expect(await raw.exists(`${keyPrefix}l:sync`)).toBe(1);
    expect(await raw.get(`${keyPrefix}s:watermark`)).toBe('2024');
    const ttl = await raw.pTTL(`${keyPrefix}c:d1:users?limit=5`);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('stores a UTF-8 body as itself: the serialized form is the body plus one header line', async () => {
    const a = await replica();
    const body = Buffer.from(JSON.stringify({ users: Array.from({ length: 2000 }, (_, i) => ({ sourcedId: `u${i}`, givenName: 'Zoë' })) }));
    await a.cache.set('d1', 'big', response(body, { 'content-type': 'application/json', 'x-total-count': '2000' }), times(), ['all', 'c:users', 'list:users']);
    const stored = await raw.strLen(`${keyPrefix}c:d1:big`);
    const overhead = stored - body.byteLength;
    expect(overhead).toBeGreaterThan(0);
    expect(overhead).toBeLessThan(250);
  });

  it('drops B\'s L1 copy as soon as A bumps one of its tags (pub/sub)', async () => {
    const [a, b] = [await replica(), await replica()];
    await a.cache.set('d1', 'users', response('[]'), times(), ['all', 'list:users']);
    await b.cache.get('d1', 'users');
    expect(await b.cache.get('d1', 'users')).toMatchObject({ tier: 'l1', valid: true });
    expect(b.cache.peek('d1', 'users')).toBeDefined();
    await a.cache.bump('d1', ['list:users']);
    // l1MaxAgeMs is a minute: only the message can make B re-check.
    await eventually(async () => b.cache.peek('d1', 'users') === undefined);
    expect((await b.cache.get('d1', 'users'))?.valid).toBe(false);
    expect(await b.cache.generations('d1', ['list:users'])).toEqual([1]);
  });

  it('drops B\'s L1 copy when A deletes the entry', async () => {
    const [a, b] = [await replica(), await replica()];
    await a.cache.set('d1', 'users', response('[]'), times(), []);
    await b.cache.get('d1', 'users');
    await a.cache.delete('d1', 'users');
    await eventually(async () => (await b.cache.get('d1', 'users')) === undefined);
  });

  it('re-validates an L1 copy after l1MaxAgeMs when the message was lost', async () => {
    const b = await replica({ l1MaxAgeMs: 300 });
    await b.cache.set('d1', 'users', response('[]'), times(), ['list:users']);
    // A bump that never reached pub/sub (as if the message were lost).
    await raw.hIncrBy(`${keyPrefix}g:d1`, 'list:users', 1);
    expect(await b.cache.get('d1', 'users')).toMatchObject({ tier: 'l1', valid: true });
    await sleep(350);
    expect(b.cache.peek('d1', 'users')).toBeUndefined(); // too old to vouch for
    expect(await b.cache.get('d1', 'users')).toMatchObject({ tier: 'l2', valid: false });
    // The re-read refreshed the mirror: the back-filled copy is now invalid in L1 too.
    const again = await b.cache.get('d1', 'users');
    expect(again?.valid).toBe(false);
  });

  it('re-validates every L1 copy when its subscriber reconnects (messages may be lost meanwhile)', async () => {
    const b = await replica();
    await b.cache.set('d1', 'users', response('[]'), times(), ['list:users']);
    await raw.hIncrBy(`${keyPrefix}g:d1`, 'list:users', 1);
    expect((await b.cache.get('d1', 'users'))?.valid).toBe(true);
    // Only this replica's subscriber: other test files share this Redis.
    const line = (await raw.clientList()).find((c) => c.name === `${keyPrefix}cache-sub`);
    expect(line).toBeDefined();
    await raw.clientKill({ filter: 'ID', id: line!.id });
    await eventually(async () => (await b.cache.get('d1', 'users'))?.valid === false, 3_000);
  });

  it('bounds L1 in bytes while L2 keeps what L1 evicted', async () => {
    const max = 200_000;
    const b = await replica({ maxMemoryBytes: max });
    for (let i = 0; i < 50; i++) await b.cache.set('d1', `k${i}`, response('y'.repeat(10_000)), times(), []);
    const { l1Bytes, l1Entries } = b.cache.stats();
    expect(l1Bytes).toBeLessThanOrEqual(max);
    expect(l1Entries).toBeLessThan(50);
    expect(await b.cache.get('d1', 'k0')).toMatchObject({ tier: 'l2', valid: true });
  });

  it('keeps key prefixes apart', async () => {
    const a = await replica();
    keyPrefix = uniquePrefix('other');
    const other = await replica();
    await a.cache.set('d1', 'users', response('[]'), times(), ['all']);
    await a.cache.bump('d1', ['all']);
    await a.state.set('w', '1');
    expect(await a.leases.acquire('sync', 5_000)).toBe(true);
    expect(await other.cache.get('d1', 'users')).toBeUndefined();
    expect(await other.cache.generations('d1', ['all'])).toEqual([0]);
    expect(await other.state.get('w')).toBeUndefined();
    expect(await other.leases.acquire('sync', 5_000)).toBe(true);
  });
});
