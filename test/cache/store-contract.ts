// One contract for every store the cache backend can run on (memory, Redis), like keyv's
// shared adapter suite: whatever the store, the service layer sees the same behaviour.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { CacheBackendOptions, ProcessCacheBackend } from '../../src/cache/index.js';
import type { CachedResponse } from '../../src/cache/types.js';

export type MakeBackend = (extra?: Partial<CacheBackendOptions>) => Promise<ProcessCacheBackend>;

export interface ContractOptions {
  /** Two backends from `make` share their store (Redis): enables the cross-instance cases. */
  shared: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uid = () => randomUUID().slice(0, 8);

export function response(body: Buffer | string, headers: Record<string, string> = { 'content-type': 'application/json' }): CachedResponse {
  return { status: 200, headers, body: typeof body === 'string' ? Buffer.from(body) : body };
}

export function storeContract(name: string, make: MakeBackend, { shared }: ContractOptions): void {
  describe(`store contract: ${name}`, () => {
    const open: ProcessCacheBackend[] = [];
    const backend = async (extra?: Partial<CacheBackendOptions>) => {
      const b = await make(extra);
      open.push(b);
      return b;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close()));
    });

    const bodies: Array<[string, Buffer]> = [
      ['ASCII JSON', Buffer.from(JSON.stringify({ users: [{ sourcedId: 'u1', givenName: 'Ann "quoted"\n' }] }))],
      ['non-ASCII UTF-8', Buffer.from('{"name":"Zoë Ñúñez 日本語 😀"}')],
      ['1 MB', Buffer.from(JSON.stringify({ data: 'x'.repeat(1024 * 1024) }))],
      ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x0a, 0xc3])],
      ['empty', Buffer.alloc(0)],
    ];

    it('keeps the page of a fetch begun after a bump when a fetch begun before it is stored later', async () => {
      const b = await backend();
      const scope = `d-${uid()}`;
      const t = Date.now();
      const times = { freshUntil: t + 60_000, staleUntil: t + 120_000 };
      const page = (text: string): CachedResponse => ({ status: 200, headers: {}, body: Buffer.from(text) });
      const before = await b.cache.generations(scope, ['all', 'c:lineItems']);
      await b.cache.bump(scope, ['c:lineItems'], { hard: true });
      const after = await b.cache.generations(scope, ['all', 'c:lineItems']);
      await b.cache.set(scope, 'k', page('after the write'), times, ['all', 'c:lineItems'], after);
      // The fetch begun before the write finishes last.
      await b.cache.set(scope, 'k', page('before the write'), times, ['all', 'c:lineItems'], before);
      const got = await b.cache.get(scope, 'k');
      expect(got?.entry.body.toString()).toBe('after the write');
      expect(got?.valid).toBe(true);
      // In the opposite order, the later one replaces the earlier one as always.
      await b.cache.set(scope, 'j', page('before the write'), times, ['all', 'c:lineItems'], before);
      await b.cache.set(scope, 'j', page('after the write'), times, ['all', 'c:lineItems'], after);
      expect((await b.cache.get(scope, 'j'))?.entry.body.toString()).toBe('after the write');
    });

    it.each(bodies)('round-trips %s exactly, with status, headers and times, from L1 and from L2', async (_label, body) => {
      const b = await backend();
      const scope = `d-${uid()}`;
      const t = Date.now();
      const res: CachedResponse = { status: 203, headers: { 'content-type': 'application/json; charset=utf-8', 'x-total-count': '42' }, body };
      await b.cache.set(scope, 'k', res, { freshUntil: t + 60_000, staleUntil: t + 120_000 }, ['all', 'c:users']);

      const l1 = await b.cache.get(scope, 'k');
      expect(l1?.tier).toBe('l1');
      b.cache.clearL1();
      const l2 = await b.cache.get(scope, 'k');
      expect(l2?.tier).toBe('l2');
      for (const hit of [l1!, l2!]) {
        expect(hit.valid).toBe(true);
        expect(hit.entry.body.equals(body)).toBe(true);
        expect(hit.entry.status).toBe(203);
        expect(hit.entry.headers).toEqual(res.headers);
        expect(hit.entry.freshUntil).toBe(t + 60_000);
        expect(hit.entry.staleUntil).toBe(t + 120_000);
        expect(hit.entry.storedAt).toBeGreaterThanOrEqual(t);
        expect(hit.entry.tags).toEqual([['all', 0], ['c:users', 0]]);
      }
      // The L2 hit back-filled L1.
      expect((await b.cache.get(scope, 'k'))?.tier).toBe('l1');
    });

    it('misses an unknown key, and keys of other scopes', async () => {
      const b = await backend();
      const t = Date.now();
      await b.cache.set('d1', `k-${uid()}`, response('{}'), { freshUntil: t + 1000, staleUntil: t + 1000 }, []);
      expect(await b.cache.get('d1', `other-${uid()}`)).toBeUndefined();
      expect(await b.cache.get('d2', 'k')).toBeUndefined();
    });

    it('forgets an entry once its staleUntil has passed (clock option)', async () => {
      let clock = Date.now();
      const b = await backend({ now: () => clock });
      const scope = `d-${uid()}`;
      await b.cache.set(scope, 'k', response('{}'), { freshUntil: clock + 1_000, staleUntil: clock + 5_000 }, ['all']);
      clock += 4_999;
      expect((await b.cache.get(scope, 'k'))?.valid).toBe(true);
      clock += 1;
      expect(await b.cache.get(scope, 'k')).toBeUndefined();
      b.cache.clearL1();
      expect(await b.cache.get(scope, 'k')).toBeUndefined();
    });

    it('lets L2 expire entries by itself (real TTL)', async () => {
      const b = await backend();
      const scope = `d-${uid()}`;
      const t = Date.now();
      await b.cache.set(scope, 'k', response('{}'), { freshUntil: t + 60, staleUntil: t + 60 }, []);
      b.cache.clearL1();
      expect((await b.cache.get(scope, 'k'))?.tier).toBe('l2');
      await sleep(120);
      b.cache.clearL1();
      expect(await b.cache.get(scope, 'k')).toBeUndefined();
    });

    it('does not store an entry already past its stale window', async () => {
      const b = await backend();
      const t = Date.now();
      await b.cache.set('d', 'past', response('{}'), { freshUntil: t - 10, staleUntil: t - 1 }, []);
      expect(await b.cache.get('d', 'past')).toBeUndefined();
    });

    it('counts generations from 0; bump increments only the tags it names', async () => {
      const b = await backend();
      const scope = `d-${uid()}`;
      expect(await b.cache.generations(scope, ['a', 'b', 'c'])).toEqual([0, 0, 0]);
      await b.cache.bump(scope, ['a']);
      await b.cache.bump(scope, ['a', 'b', 'a']);
      expect(await b.cache.generations(scope, ['a', 'b', 'c'])).toEqual([2, 1, 0]);
      expect(await b.cache.generations(scope, [])).toEqual([]);
      await b.cache.bump(scope, []);
    });

    it('makes an entry invalid when a tag it recorded moves on; other entries stay valid', async () => {
      const b = await backend();
      const scope = `d-${uid()}`;
      const t = Date.now();
      const times = { freshUntil: t + 60_000, staleUntil: t + 60_000 };
      await b.cache.bump(scope, ['list:users']);
      await b.cache.set(scope, 'users', response('[1]'), times, ['all', 'list:users']);
      await b.cache.set(scope, 'classes', response('[2]'), times, ['all', 'list:classes']);
      expect((await b.cache.get(scope, 'users'))?.entry.tags).toEqual([['all', 0], ['list:users', 1]]);

      await b.cache.bump(scope, ['list:users']);
      const users = await b.cache.get(scope, 'users');
      expect(users?.valid).toBe(false);
      expect(users?.entry.body.toString()).toBe('[1]'); // still there for stale-if-error
      expect((await b.cache.get(scope, 'classes'))?.valid).toBe(true);
      b.cache.clearL1();
      expect((await b.cache.get(scope, 'users'))?.valid).toBe(false);
      expect((await b.cache.get(scope, 'classes'))?.valid).toBe(true);
    });

    it('peeks synchronously at an L1 copy only while get would vouch for it without asking L2', async () => {
      const b = await backend();
      const scope = `d-${uid()}`;
      const t = Date.now();
      expect(b.cache.peek(scope, 'users')).toBeUndefined();
      await b.cache.set(scope, 'users', response('[1]'), { freshUntil: t + 60_000, staleUntil: t + 60_000 }, ['all', 'list:users']);
      expect(b.cache.peek(scope, 'users')?.body.toString()).toBe('[1]');
      expect(b.cache.peek(`${scope}-other`, 'users')).toBeUndefined();
      b.cache.clearL1();
      expect(b.cache.peek(scope, 'users')).toBeUndefined();
      expect((await b.cache.get(scope, 'users'))?.tier).toBe('l2');
      expect(b.cache.peek(scope, 'users')?.body.toString()).toBe('[1]'); // back-filled
      await b.cache.bump(scope, ['list:users']);
      expect(b.cache.peek(scope, 'users')).toBeUndefined();
      expect((await b.cache.get(scope, 'users'))?.valid).toBe(false);
    });

    it('records the generations passed to set (read before the fetch), so a bump during the fetch wins', async () => {
      const b = await backend();
      const scope = `d-${uid()}`;
      const t = Date.now();
      const before = await b.cache.generations(scope, ['all']);
      await b.cache.bump(scope, ['all']); // a write lands while the upstream answers
      await b.cache.set(scope, 'k', response('{}'), { freshUntil: t + 60_000, staleUntil: t + 60_000 }, ['all'], before);
      expect((await b.cache.get(scope, 'k'))?.valid).toBe(false);
      await expect(b.cache.set(scope, 'k', response('{}'), { freshUntil: t + 1, staleUntil: t + 60_000 }, ['all'], [])).rejects.toThrow(RangeError);
    });

    it('keeps the generations of each scope apart', async () => {
      const b = await backend();
      const [s1, s2] = [`d-${uid()}`, `d-${uid()}`];
      const t = Date.now();
      await b.cache.set(s2, 'k', response('{}'), { freshUntil: t + 60_000, staleUntil: t + 60_000 }, ['all']);
      await b.cache.bump(s1, ['all']);
      expect(await b.cache.generations(s1, ['all'])).toEqual([1]);
      expect(await b.cache.generations(s2, ['all'])).toEqual([0]);
      expect((await b.cache.get(s2, 'k'))?.valid).toBe(true);
    });

    it('keeps scopes with a colon apart from keys with one', async () => {
      const b = await backend();
      const t = Date.now();
      const times = { freshUntil: t + 60_000, staleUntil: t + 60_000 };
      const s = uid();
      await b.cache.set(`${s}:a`, 'b', response('one'), times, []);
      await b.cache.set(s, 'a:b', response('two'), times, []);
      b.cache.clearL1();
      expect((await b.cache.get(`${s}:a`, 'b'))?.entry.body.toString()).toBe('one');
      expect((await b.cache.get(s, 'a:b'))?.entry.body.toString()).toBe('two');
    });

    it('stores very long keys (hashed in the store)', async () => {
      const b = await backend();
      const t = Date.now();
      const long = `users?filter=${'x'.repeat(5000)}`;
      await b.cache.set('d', long, response('long'), { freshUntil: t + 60_000, staleUntil: t + 60_000 }, []);
      await b.cache.set('d', `${long}y`, response('longer'), { freshUntil: t + 60_000, staleUntil: t + 60_000 }, []);
      b.cache.clearL1();
      expect((await b.cache.get('d', long))?.entry.body.toString()).toBe('long');
      expect((await b.cache.get('d', `${long}y`))?.entry.body.toString()).toBe('longer');
    });

    it('deletes from both tiers', async () => {
      const b = await backend();
      const scope = `d-${uid()}`;
      const t = Date.now();
      await b.cache.set(scope, 'k', response('{}'), { freshUntil: t + 60_000, staleUntil: t + 60_000 }, []);
      await b.cache.delete(scope, 'k');
      expect(await b.cache.get(scope, 'k')).toBeUndefined();
      b.cache.clearL1();
      expect(await b.cache.get(scope, 'k')).toBeUndefined();
      await b.cache.delete(scope, 'never-set');
    });

    it('bounds L1 by maxMemoryBytes and reports its size', async () => {
      const max = 100_000;
      const b = await backend({ maxMemoryBytes: max });
      const scope = `d-${uid()}`;
      const t = Date.now();
      expect(b.cache.stats()).toEqual({ l1Bytes: 0, l1Entries: 0 });
      await b.cache.set(scope, 'one', response('x'.repeat(1000)), { freshUntil: t + 60_000, staleUntil: t + 60_000 }, ['all']);
      expect(b.cache.stats().l1Entries).toBe(1);
      expect(b.cache.stats().l1Bytes).toBeGreaterThan(1000);
      for (let i = 0; i < 30; i++) {
        await b.cache.set(scope, `k${i}`, response('x'.repeat(10_000)), { freshUntil: t + 60_000, staleUntil: t + 60_000 }, ['all']);
      }
      const { l1Bytes, l1Entries } = b.cache.stats();
      expect(l1Bytes).toBeLessThanOrEqual(max);
      expect(l1Entries).toBeLessThan(31);
      expect(l1Entries).toBeGreaterThan(5);
      // Bigger than all of L1: kept in L2 only.
      await b.cache.set(scope, 'huge', response('x'.repeat(max + 1)), { freshUntil: t + 60_000, staleUntil: t + 60_000 }, []);
      expect(b.cache.stats().l1Bytes).toBeLessThanOrEqual(max);
    });

    it('counts L1 entries and bytes per scope through evictions, overwrites, deletes and clears', async () => {
      const max = 100_000;
      const b = await backend({ maxMemoryBytes: max });
      const [a, z] = [`d-${uid()}`, `d:${uid()}`]; // a ':' in a scope must not confuse the count
      const t = Date.now();
      const times = { freshUntil: t + 60_000, staleUntil: t + 60_000 };
      const sum = () => {
        const [x, y] = [b.cache.scopeStats(a), b.cache.scopeStats(z)];
        return { l1Entries: x.l1Entries + y.l1Entries, l1Bytes: x.l1Bytes + y.l1Bytes };
      };
      await b.cache.set(a, 'one', response('x'.repeat(1000)), times, []);
      await b.cache.set(a, 'one', response('x'.repeat(2000)), times, []); // overwrite
      await b.cache.set(z, 'one', response('y'.repeat(1000)), times, []);
      expect(b.cache.scopeStats(a).l1Entries).toBe(1);
      expect(b.cache.scopeStats(a).l1Bytes).toBeGreaterThan(2000);
      expect(b.cache.scopeStats(z).l1Entries).toBe(1);
      expect(b.cache.scopeStats('elsewhere')).toEqual({ l1Entries: 0, l1Bytes: 0 });
      // Evictions: the per-scope figures always add up to the whole.
      for (let i = 0; i < 30; i++) await b.cache.set(i % 2 ? a : z, `k${i}`, response('x'.repeat(10_000)), times, []);
      expect(sum()).toEqual(b.cache.stats());
      await b.cache.set(a, 'huge', response('x'.repeat(max + 1)), times, []); // refused by L1
      expect(sum()).toEqual(b.cache.stats());
      await b.cache.delete(a, 'k29');
      expect(sum()).toEqual(b.cache.stats());
      b.cache.clearL1();
      expect(b.cache.scopeStats(a)).toEqual({ l1Entries: 0, l1Bytes: 0 });
      expect(b.cache.scopeStats(z)).toEqual({ l1Entries: 0, l1Bytes: 0 });
    });

    it('grants a lease to one caller at a time, until release or expiry', async () => {
      const b = await backend();
      const name = `lease-${uid()}`;
      expect(await b.leases.acquire(name, 5_000)).toBe(true);
      expect(await b.leases.acquire(name, 5_000)).toBe(false);
      await b.leases.release(name);
      expect(await b.leases.acquire(name, 50)).toBe(true);
      expect(await b.leases.acquire(name, 50)).toBe(false);
      await sleep(100);
      expect(await b.leases.acquire(name, 5_000)).toBe(true);
      await b.leases.release(`never-${uid()}`);
      await expect(b.leases.acquire(name, 0)).rejects.toThrow(RangeError);
    });

    it('keeps a renewed lease past its first TTL, and renews only a lease still held', async () => {
      const b = await backend();
      const name = `lease-${uid()}`;
      expect(await b.leases.acquire(name, 150)).toBe(true);
      for (let i = 0; i < 4; i++) {
        await sleep(60);
        expect(await b.leases.renew(name, 150)).toBe(true);
      }
      // 240 ms after it was taken for 150 ms: still held.
      expect(await b.leases.acquire(name, 5_000)).toBe(false);
      await sleep(200);
      expect(await b.leases.acquire(name, 5_000)).toBe(true);
      expect(await b.leases.renew(`never-${uid()}`, 150)).toBe(false);
      await b.leases.release(name);
      expect(await b.leases.renew(name, 150)).toBe(false);
      await expect(b.leases.renew(name, 0)).rejects.toThrow(RangeError);
    });

    if (shared) it('does not let a holder whose lease expired renew the next holder\'s lease', async () => {
      const a = await backend();
      const other = await backend();
      const name = `lease-${uid()}`;
      expect(await a.leases.acquire(name, 50)).toBe(true);
      await sleep(100);
      expect(await other.leases.acquire(name, 100)).toBe(true);
      expect(await a.leases.renew(name, 5_000)).toBe(false);
      await sleep(150);
      // other's 100 ms lease was not stretched by a's renew.
      expect(await a.leases.acquire(name, 5_000)).toBe(true);
    });

    // Two instances over one store: only a shared (Redis) store can have them.
    if (shared) it('ignores a release by a caller that does not hold the lease', async () => {
      const a = await backend();
      const other = await backend();
      const name = `lease-${uid()}`;
      expect(await a.leases.acquire(name, 5_000)).toBe(true);
      await other.leases.release(name);
      expect(await other.leases.acquire(name, 5_000)).toBe(false);
      await a.leases.release(name);
      expect(await other.leases.acquire(name, 5_000)).toBe(true);
    });

    // Two instances over one store: only a shared (Redis) store can have them.
    if (shared) it('does not let a stale holder release the lease of the next one', async () => {
      const a = await backend();
      const other = await backend();
      const name = `lease-${uid()}`;
      expect(await a.leases.acquire(name, 50)).toBe(true);
      await sleep(100);
      expect(await other.leases.acquire(name, 5_000)).toBe(true);
      await a.leases.release(name); // a's lease expired: not its to release
      expect(await a.leases.acquire(name, 5_000)).toBe(false);
    });

    it('keeps shared state, with an optional TTL', async () => {
      const b = await backend();
      const name = `state-${uid()}`;
      expect(await b.state.get(name)).toBeUndefined();
      await b.state.set(name, 'v1');
      await b.state.set(name, 'v2 ünïcode');
      expect(await b.state.get(name)).toBe('v2 ünïcode');
      await b.state.set(`${name}-ttl`, 'short', 50);
      expect(await b.state.get(`${name}-ttl`)).toBe('short');
      await sleep(100);
      expect(await b.state.get(`${name}-ttl`)).toBeUndefined();
    });

    // Two instances over one store: only a shared (Redis) store can have them.
    if (shared) it('shares state between instances', async () => {
      const a = await backend();
      const other = await backend();
      const name = `state-${uid()}`;
      await a.state.set(name, 'watermark');
      expect(await other.state.get(name)).toBe('watermark');
    });

    it('closes idempotently', async () => {
      const b = await make();
      await Promise.all([b.close(), b.close()]);
      await b.cache.close();
    });
  });
}
