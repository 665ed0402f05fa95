// What a district's delta sync tells the metrics: the last *successful* run, shared by the
// replicas through the store, so the lag of a quiet district that syncs fine stays low on every
// replica, and one that fails keeps its last success.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CacheBackend } from '../../src/cache/types.js';
import type { District, DistrictRegistry } from '../../src/districts/districts.js';
import { createDeltaSync } from '../../src/sync/delta-sync.js';

/** Two replicas' delta syncs over one shared state and lease store; the district answers `status` (empty pages when 200). */
function replicas(opts: { versionProbe?: unknown } = {}) {
  let now = 1_800_000_000_000;
  let status = 200;
  let listed = true;
  const state = new Map<string, string>();
  const held = new Set<string>();
  const district = {
    id: 'd1',
    version: 'v1p1',
    ...(opts.versionProbe ? { versionProbe: opts.versionProbe } : {}),
    upstream: {
      districtId: 'd1',
      request: async () => ({ status, headers: { 'x-total-count': '0' }, body: Buffer.from(status === 200 ? '{"users":[]}' : '{}'), elapsedMs: 1 }),
      close: async () => {},
    },
  } as unknown as District;
  const districts: DistrictRegistry = { get: (id) => (id === 'd1' && listed ? district : undefined), list: () => (listed ? [district] : []), close: async () => {} };
  const backend = {
    kind: 'redis',
    cache: { bump: async () => {} },
    leases: {
      acquire: async (k: string) => (held.has(k) ? false : (held.add(k), true)),
      renew: async () => true,
      release: async (k: string) => void held.delete(k),
    },
    state: { get: async (k: string) => state.get(k), set: async (k: string, v: string) => void state.set(k, v) },
  } as unknown as CacheBackend;
  const make = () =>
    createDeltaSync({ districts, backend, logger: { info: () => {}, warn: () => {} }, intervalMs: 300_000, overlapMs: 60_000, pageSize: 100, collections: ['users'], now: () => now });
  return {
    a: make(),
    b: make(),
    held,
    tick: (ms: number) => (now += ms),
    now: () => now,
    fail: (s: number) => (status = s),
    /** A config reload that removes (false) or adds back (true) the district. */
    list: (on: boolean) => (listed = on),
  };
}

const seen = (sync: ReturnType<typeof createDeltaSync>) => [...sync.seen()][0];

describe('delta sync success, for the metrics', () => {
  it('is learned by the replica that did not run it', async () => {
    const r = replicas();
    const startedAt = r.now();
    expect((await r.a.syncDistrict('d1')).ran).toBe(true);
    const succeededAt = r.now();
    expect(seen(r.a)).toMatchObject({ lastSuccessMs: succeededAt });
    r.tick(300_000);
    // Replica a holds the lease: b does not poll, but takes a's last success.
    r.held.add('sync|d1');
    expect((await r.b.syncDistrict('d1')).ran).toBe(false);
    // Its own lag, had nobody succeeded, would count from when it first knew the district.
    expect(seen(r.b)).toMatchObject({ district: 'd1', lastSuccessMs: succeededAt, sinceMs: startedAt });
    // b never ran it: no last run of its own to report.
    expect(seen(r.b)!.lastRunMs).toBeUndefined();
  });

  it('stays where it was when a run fails, and moves at the next good one', async () => {
    const r = replicas();
    await r.a.syncDistrict('d1');
    const good = r.now();
    r.tick(300_000);
    r.fail(503);
    await r.a.syncDistrict('d1');
    expect(seen(r.a)).toMatchObject({ lastSuccessMs: good, lastRunMs: r.now() });
    // A replica started now, failing too, reports the success another replica shared.
    r.tick(1_000);
    await r.b.syncDistrict('d1');
    expect(seen(r.b)).toMatchObject({ lastSuccessMs: good });
    r.fail(200);
    r.tick(300_000);
    await r.a.syncDistrict('d1');
    expect(seen(r.a)!.lastSuccessMs).toBe(r.now());
    // GET /districts shows it too (deltaSync.lastSuccessAt).
    expect((await r.a.status('d1'))?.lastSuccessAt).toBe(new Date(r.now()).toISOString());
  });

  it('keeps the newer shared success when a replica with an older one of its own fails', async () => {
    const r = replicas();
    await r.a.syncDistrict('d1');
    const older = r.now();
    r.tick(300_000);
    await r.b.syncDistrict('d1');
    const newer = r.now();
    r.tick(300_000);
    r.fail(503);
    await r.a.syncDistrict('d1');
    expect((await r.a.status('d1'))?.lastSuccessAt).toBe(new Date(newer).toISOString());
    expect(seen(r.a)!.lastSuccessMs).toBe(newer);
    expect(newer).toBeGreaterThan(older);
  });

  it('counts the lag of a district whose version probe never answers from when the replica first knew it', async () => {
    const settle = async () => {
      throw Object.assign(new Error('probe timed out'), { code: 'timeout' });
    };
    const r = replicas({ versionProbe: { settle, current: () => undefined, state: () => ({}) } });
    const startedAt = r.now();
    r.tick(60_000);
    expect((await r.a.syncDistrict('d1')).ran).toBe(false);
    // DistrictSyncNeverSucceeded needs the delta_sync_lag_seconds series to exist.
    expect(seen(r.a)).toEqual({ district: 'd1', sinceMs: startedAt });
  });

  it('forgets a district removed by a reload: added back, its lag counts from then', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const r = replicas();
    r.fail(503);
    await r.a.syncDistrict('d1');
    expect(seen(r.a)).toMatchObject({ sinceMs: r.now() });
    r.list(false);
    r.a.start(); // the tick that sees it gone
    r.tick(3_600_000);
    const readdedAt = r.now();
    r.list(true);
    vi.advanceTimersByTime(1_000); // the tick that sees it back
    await r.a.syncDistrict('d1');
    expect(seen(r.a)).toMatchObject({ district: 'd1', sinceMs: readdedAt });
    await r.a.stop();
  });
});

afterEach(() => {
  vi.useRealTimers();
});
