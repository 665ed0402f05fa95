import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCacheBackend, type ProcessCacheBackend } from '../../src/cache/index.js';
import { createReadThrough, type Clock, type Loaded, type ReadRequest, type ReadThroughEvents, type ReadThroughOptions } from '../../src/cache/read-through.js';

// The read-through over the real memory backend, driven by a fake loader and a fake clock:
// no sleeps, and every load counted.

const flush = async () => {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

function fakeClock(start = 1_000_000) {
  let t = start;
  const sleepers: Array<{ at: number; resolve: () => void }> = [];
  const tickers = new Set<{ every: number; next: number; tick: () => void }>();
  const clock: Clock & { advance(ms: number): Promise<void> } = {
    now: () => t,
    sleep: (ms) => new Promise<void>((resolve) => sleepers.push({ at: t + ms, resolve })),
    every(ms, tick) {
      const item = { every: ms, next: t + ms, tick };
      tickers.add(item);
      return () => void tickers.delete(item);
    },
    /** Moves time on to each due timer in turn, letting the promises it releases run. */
    async advance(ms) {
      const end = t + ms;
      await flush();
      for (;;) {
        const due = Math.min(...sleepers.map((s) => s.at), ...[...tickers].map((k) => k.next));
        if (!(due <= end)) break;
        t = Math.max(t, due);
        for (const s of sleepers.filter((x) => x.at <= t)) {
          sleepers.splice(sleepers.indexOf(s), 1);
          s.resolve();
        }
        for (const k of tickers) if (k.next <= t) (k.next += k.every), k.tick();
        await flush();
      }
      t = end;
      await flush();
    },
  };
  return clock;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** A loader whose loads the test settles one by one. */
function fakeLoader() {
  const pending: Array<Deferred<Loaded<string>>> = [];
  return {
    pending,
    get calls() {
      return pending.length;
    },
    load: () => {
      const d = deferred<Loaded<string>>();
      pending.push(d);
      return d.promise;
    },
  };
}

const page = (body: string, ttl = { freshMs: 1_000, staleMs: 5_000 }): Loaded<string> => ({
  response: { status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from(body) },
  ttl,
  meta: `cost of ${body}`,
});

class Outage extends Error {}

function recorder() {
  const seen: string[] = [];
  const events: ReadThroughEvents = {
    lookup: (tier, result) => void seen.push(`${tier}:${result}`),
    staleServed: (scope, reason) => void seen.push(`stale:${scope}:${reason}`),
  };
  return { seen, events };
}

let clock: ReturnType<typeof fakeClock>;
let backend: ProcessCacheBackend;

beforeEach(async () => {
  clock = fakeClock();
  backend = await createCacheBackend({ store: 'memory', maxMemoryBytes: 1 << 20, now: clock.now });
});
afterEach(async () => {
  await backend.close();
});

function readThrough(extra: Partial<ReadThroughOptions> = {}) {
  return createReadThrough<string>({ cache: backend.cache, leases: backend.leases, coalesceWaitMs: 1_000, leaseTtlMs: 300, clock, ...extra });
}

function request(loader: ReturnType<typeof fakeLoader>, extra: Partial<ReadRequest<string>> = {}): ReadRequest<string> {
  return { scope: 'd1', key: 'k', tags: ['all', 'list:users'], load: loader.load, isOutage: (err) => err instanceof Outage, ...extra };
}

/** Reads once through a load the test settles with `body`. */
async function prime(rt: ReturnType<typeof readThrough>, body: string, ttl?: Loaded<string>['ttl']) {
  const loader = fakeLoader();
  const read = rt.read(request(loader));
  await flush();
  loader.pending[0]!.resolve(page(body, ttl));
  return read;
}

describe('read-through', () => {
  it('loads a miss once, then answers fresh hits from the cache until freshUntil', async () => {
    const { seen, events } = recorder();
    const rt = readThrough({ events });
    const first = await prime(rt, 'v1');
    expect(first).toMatchObject({ status: 'miss', meta: 'cost of v1' });
    expect(first.entry.body.toString()).toBe('v1');

    const loader = fakeLoader();
    const hit = await rt.read(request(loader));
    expect(hit.status).toBe('hit');
    expect(hit.meta).toBeUndefined();
    expect(hit.entry.body.toString()).toBe('v1');
    expect(rt.fresh('d1', 'k')?.body.toString()).toBe('v1');
    expect(loader.calls).toBe(0);
    expect(seen).toEqual(['none:miss', 'l1:hit', 'l1:hit']);

    await clock.advance(1_000);
    expect(rt.fresh('d1', 'k')).toBeUndefined();
  });

  it('hands back an answer the loader does not want stored, and loads again next time', async () => {
    const rt = readThrough();
    const loader = fakeLoader();
    const read = rt.read(request(loader));
    await flush();
    loader.pending[0]!.resolve({ response: { status: 503, headers: {}, body: Buffer.from('busy') }, meta: 'm' });
    expect(await read).toMatchObject({ status: 'miss', meta: 'm' });
    expect(await backend.cache.get('d1', 'k')).toBeUndefined();
  });

  it('serves a stale entry while exactly one background load refreshes it', async () => {
    const { seen, events } = recorder();
    const rt = readThrough({ events });
    await prime(rt, 'v1');
    await clock.advance(1_500);

    const loader = fakeLoader();
    const stale = await rt.read(request(loader));
    expect(stale.status).toBe('stale');
    expect(stale.entry.body.toString()).toBe('v1');
    await flush();
    expect(loader.calls).toBe(1);
    // A second reader during the refresh gets the stale page and joins the refresh.
    const again = await rt.read(request(loader));
    expect(again.status).toBe('stale');
    await flush();
    expect(loader.calls).toBe(1);
    expect(seen).toContain('stale:d1:refreshing');
    expect(seen).toContain('l1:coalesced');

    loader.pending[0]!.resolve(page('v2'));
    await flush();
    const hit = await rt.read(request(loader));
    expect(hit.status).toBe('hit');
    expect(hit.entry.body.toString()).toBe('v2');
    expect(loader.calls).toBe(1);
  });

  it('reports a failed background refresh and keeps serving the stale entry', async () => {
    const failures: string[] = [];
    const rt = readThrough({ onRefreshError: (scope, err) => void failures.push(`${scope}:${(err as Error).message}`) });
    await prime(rt, 'v1');
    await clock.advance(1_500);
    const loader = fakeLoader();
    expect((await rt.read(request(loader))).status).toBe('stale');
    await flush();
    loader.pending[0]!.reject(new Outage('down'));
    await flush();
    expect(failures).toEqual(['d1:down']);
    expect((await rt.read(request(loader))).status).toBe('stale');
  });

  describe('stale-if-error', () => {
    async function invalidated(hard: boolean) {
      const { seen, events } = recorder();
      const rt = readThrough({ events });
      await prime(rt, 'v1');
      await backend.cache.bump('d1', ['list:users'], { hard });
      return { rt, seen };
    }

    it('answers an outage from an entry a soft bump invalidated', async () => {
      const { rt, seen } = await invalidated(false);
      const loader = fakeLoader();
      const read = rt.read(request(loader));
      await flush();
      loader.pending[0]!.reject(new Outage('district down'));
      const res = await read;
      expect(res.status).toBe('stale');
      expect(res.entry.body.toString()).toBe('v1');
      expect(seen).toContain('stale:d1:upstream_failed');
    });

    it('passes on an error the caller does not call an outage', async () => {
      const { rt } = await invalidated(false);
      const loader = fakeLoader();
      const read = rt.read(request(loader));
      await flush();
      loader.pending[0]!.reject(new Error('bad request'));
      await expect(read).rejects.toThrow('bad request');
    });

    it('never answers from an entry a hard bump replaced', async () => {
      const { rt } = await invalidated(true);
      const loader = fakeLoader();
      const read = rt.read(request(loader));
      await flush();
      loader.pending[0]!.reject(new Outage('district down'));
      await expect(read).rejects.toThrow('district down');
    });

    it('never answers from an entry past its stale window', async () => {
      const { rt } = await invalidated(false);
      await clock.advance(6_000);
      const loader = fakeLoader();
      const read = rt.read(request(loader));
      await flush();
      loader.pending[0]!.reject(new Outage('district down'));
      await expect(read).rejects.toThrow('district down');
    });
  });

  it('loads once for many concurrent reads of one key (single flight)', async () => {
    const { seen, events } = recorder();
    const rt = readThrough({ events });
    const loader = fakeLoader();
    const reads = Array.from({ length: 10 }, () => rt.read(request(loader)));
    await flush();
    expect(loader.calls).toBe(1);
    loader.pending[0]!.resolve(page('v1'));
    const results = await Promise.all(reads);
    expect(results.every((r) => r.status === 'miss' && r.meta === 'cost of v1' && r.entry.body.toString() === 'v1')).toBe(true);
    expect(seen.filter((s) => s === 'l1:coalesced')).toHaveLength(9);
    expect(seen.filter((s) => s === 'none:miss')).toHaveLength(10);
  });

  it('never lets a read that starts after a bump join a load that began before it, nor stores that load as valid', async () => {
    const rt = readThrough();
    const loader = fakeLoader();
    const before = rt.read(request(loader));
    await flush();
    expect(loader.calls).toBe(1);

    await backend.cache.bump('d1', ['list:users'], { hard: true });
    const after = rt.read(request(loader));
    await flush();
    expect(loader.calls).toBe(2);

    loader.pending[0]!.resolve(page('before the write'));
    expect((await before).entry.body.toString()).toBe('before the write');
    // Stored on the generations read before the bump: not an answer for anyone now.
    expect((await backend.cache.get('d1', 'k'))?.valid).toBe(false);

    loader.pending[1]!.resolve(page('after the write'));
    expect((await after).entry.body.toString()).toBe('after the write');
    const hit = await rt.read(request(loader));
    expect(hit).toMatchObject({ status: 'hit' });
    expect(hit.entry.body.toString()).toBe('after the write');
    expect(loader.calls).toBe(2);
  });

  it('bypass loads even over a fresh entry, admitted as a miss', async () => {
    const rt = readThrough();
    await prime(rt, 'v1');
    const loader = fakeLoader();
    const admitted: string[] = [];
    const read = rt.read(request(loader, { bypass: true, admit: async (kind) => void admitted.push(kind) }));
    await flush();
    expect(loader.calls).toBe(1);
    loader.pending[0]!.resolve(page('v2'));
    expect(await read).toMatchObject({ status: 'bypass', meta: 'cost of v2' });
    expect(admitted).toEqual(['miss']);
    expect((await rt.read(request(loader))).entry.body.toString()).toBe('v2');
  });

  it('admits a stale answer as a hit and a cold one as a miss, and a refusal stops the load', async () => {
    const rt = readThrough();
    const admitted: string[] = [];
    const refuse = async (kind: 'hit' | 'miss') => {
      admitted.push(kind);
      throw new Error('over the limit');
    };
    const loader = fakeLoader();
    await expect(rt.read(request(loader, { admit: refuse }))).rejects.toThrow('over the limit');
    expect(loader.calls).toBe(0);
    await prime(rt, 'v1');
    await clock.advance(1_500);
    await expect(rt.read(request(loader, { admit: refuse }))).rejects.toThrow('over the limit');
    expect(admitted).toEqual(['miss', 'hit']);
    expect(loader.calls).toBe(0);
  });

  describe('across replicas (one shared tier and lease store)', () => {
    it('waits for the lease holder and takes its entry instead of loading', async () => {
      const { seen, events } = recorder();
      const a = readThrough();
      const b = readThrough({ events });
      const la = fakeLoader();
      const lb = fakeLoader();
      const readA = a.read(request(la));
      await flush();
      const readB = b.read(request(lb));
      await flush();
      expect(seen).toContain('l2:coalesced');

      la.pending[0]!.resolve(page('from a'));
      await readA;
      await clock.advance(20);
      const res = await readB;
      expect(res.status).toBe('miss');
      expect(res.meta).toBeUndefined();
      expect(res.entry.body.toString()).toBe('from a');
      expect(lb.calls).toBe(0);
    });

    it('renews the lease while loading, and a waiter loads itself once coalesceWaitMs is up', async () => {
      const a = readThrough();
      const b = readThrough({ coalesceWaitMs: 1_000 });
      const la = fakeLoader();
      const lb = fakeLoader();
      void a.read(request(la));
      await flush();
      const readB = b.read(request(lb));
      // Well past the lease's 300 ms: the holder's renewals keep it.
      await clock.advance(900);
      expect(lb.calls).toBe(0);
      await clock.advance(400);
      expect(lb.calls).toBe(1);
      lb.pending[0]!.resolve(page('from b'));
      expect((await readB).entry.body.toString()).toBe('from b');
      la.pending[0]!.resolve(page('from a'));
    });

    it('takes the lease over from a holder that died, after the lease ttl rather than coalesceWaitMs', async () => {
      let aAlive = true;
      const aClock: Clock = { ...clock, every: (ms, tick) => clock.every(ms, () => aAlive && tick()) };
      const a = readThrough({ clock: aClock });
      const b = readThrough({ coalesceWaitMs: 10_000 });
      const la = fakeLoader();
      const lb = fakeLoader();
      void a.read(request(la));
      await flush();
      aAlive = false; // the replica dies mid-load: no more renewals
      const readB = b.read(request(lb));
      await clock.advance(200);
      expect(lb.calls).toBe(0);
      await clock.advance(400);
      expect(lb.calls).toBe(1);
      lb.pending[0]!.resolve(page('from b'));
      expect((await readB).entry.body.toString()).toBe('from b');
      // B held the lease and stored its entry: a third read is a hit.
      expect((await b.read(request(lb))).status).toBe('hit');
    });
  });

  it('refuses a lease ttl it cannot renew in thirds', () => {
    expect(() => readThrough({ leaseTtlMs: 2 })).toThrow(RangeError);
  });
});
