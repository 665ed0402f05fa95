// The bounds of one delta poll, against a fake district in memory: a poll keeps ids, not
// records; past DELTA_LIMITS it invalidates the whole collection instead of record by record.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { CacheBackend } from '../../src/cache/types.js';
import type { District, DistrictRegistry } from '../../src/districts/districts.js';
import { createDeltaSync, type DeltaLimits } from '../../src/sync/delta-sync.js';
import type { UpstreamRequest } from '../../src/upstream/types.js';

type Page = { records: Array<Record<string, unknown>>; total?: number; status?: number };

/** A district whose list answers `page(offset, limit, path)` builds; it counts the requests. */
function fakeSync(page: (offset: number, limit: number, path: string) => Page, opts: { limits?: Partial<DeltaLimits>; pageSize?: number; collection?: string } = {}) {
  const requests: string[] = [];
  const bumps: string[][] = [];
  const warnings: Array<Record<string, unknown>> = [];
  const state = new Map<string, string>();
  const district = {
    id: 'd1',
    version: 'v1p1',
    upstream: {
      districtId: 'd1',
      async request(req: UpstreamRequest) {
        const q = new Map(req.query);
        requests.push(req.path);
        const { records, total, status } = page(Number(q.get('offset')), Number(q.get('limit')), req.path);
        const key = req.path.slice(req.path.lastIndexOf('/') + 1);
        return {
          status: status ?? 200,
          headers: total === undefined ? {} : { 'x-total-count': String(total) },
          body: Buffer.from(JSON.stringify({ [key]: records })),
          elapsedMs: 1,
        };
      },
      close: async () => {},
    },
  } as unknown as District;
  const districts: DistrictRegistry = { get: (id) => (id === 'd1' ? district : undefined), list: () => [district], close: async () => {} };
  const backend = {
    kind: 'memory',
    cache: { bump: async (_scope: string, tags: readonly string[]) => void bumps.push([...tags]) },
    leases: { acquire: async () => true, renew: async () => true, release: async () => {} },
    state: { get: async (k: string) => state.get(k), set: async (k: string, v: string) => void state.set(k, v) },
  } as unknown as CacheBackend;
  const sync = createDeltaSync({
    districts,
    backend,
    logger: { info: () => {}, warn: (o) => void warnings.push(o as Record<string, unknown>) },
    intervalMs: 3600_000,
    overlapMs: 60_000,
    pageSize: opts.pageSize ?? 100,
    collections: [(opts.collection ?? 'users') as 'users'],
    ...(opts.limits ? { limits: opts.limits } : {}),
  });
  const run = async () => (await sync.syncDistrict('d1')).collections[0]!;
  return { run, requests, bumps, warnings, state };
}

const stamp = () => new Date(Date.now() - 1000).toISOString();
let counter = 0;
/** `n` records never sent before, each `filler` characters heavier than its id. */
const freshRecords = (n: number, filler = 0) =>
  Array.from({ length: n }, () => ({ sourcedId: `fresh-${++counter}`, dateLastModified: stamp(), ...(filler ? { filler: 'x'.repeat(filler) } : {}) }));

describe('delta sync bounds', () => {
  it('holds ids, not records: 40 pages of 2 MB add a few MB to the heap, not 80', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    let base = 0;
    let peak = 0;
    const { run, requests, bumps } = fakeSync((offset) => {
      // Measured before the page is built: what the poll still holds of the pages before.
      if (offset === 0) base = heap();
      else peak = Math.max(peak, heap() - base);
      return offset >= 40 * 500 ? { records: [] } : { records: freshRecords(500, 4000) };
    });
    const report = await run();
    expect(report).toMatchObject({ outcome: 'synced', changes: 20_000, pages: 41 });
    expect(report.collectionWide).toBeUndefined();
    expect(requests).toHaveLength(41);
    // Record-level invalidation still: every id, once.
    expect(bumps).toHaveLength(1);
    expect(bumps[0]).toHaveLength(20_001);
    expect(peak).toBeLessThan(16 * 1024 * 1024);
  });

  it('stops a district inventing changes at maxChanges and invalidates the whole collection, logging once', async () => {
    const { run, requests, bumps, warnings, state } = fakeSync(() => ({ records: freshRecords(100) }), { limits: { maxChanges: 300 } });
    const first = await run();
    expect(first).toMatchObject({ outcome: 'synced', changes: 300, pages: 3, collectionWide: true });
    expect(requests).toHaveLength(3);
    expect(bumps).toEqual([['list:users', 'c:users']]);
    // The watermark moved on, to at least where a first run would start.
    const wm = JSON.parse(state.get('wm|d1|users')!) as { max: string };
    expect(Date.parse(wm.max)).toBeGreaterThan(Date.now() - 60_000 - 5000);
    expect(first.watermark).toBe(wm.max);

    await run();
    expect(requests).toHaveLength(6);
    expect(bumps).toEqual([['list:users', 'c:users'], ['list:users', 'c:users']]);
    expect(warnings.filter((w) => String(w.msg).includes('whole collection'))).toEqual([
      expect.objectContaining({ district: 'd1', collection: 'users', records: 300, pages: 3 }),
    ]);
  });

  it('stops within a page that holds more records than the bound', async () => {
    const { run, requests, bumps } = fakeSync(() => ({ records: freshRecords(1000) }), { limits: { maxChanges: 250 } });
    expect(await run()).toMatchObject({ changes: 250, pages: 1, collectionWide: true });
    expect(requests).toHaveLength(1);
    expect(bumps).toEqual([['list:users', 'c:users']]);
  });

  it('stops at maxPages instead of advancing the watermark past pages it never read', async () => {
    const { run, requests, bumps } = fakeSync(() => ({ records: freshRecords(2) }), { limits: { maxPages: 5 } });
    expect(await run()).toMatchObject({ changes: 10, pages: 5, collectionWide: true });
    expect(requests).toHaveLength(5);
    expect(bumps).toEqual([['list:users', 'c:users']]);
  });

  it('stops sourcedIds of megabytes at maxHeldChars, which a count alone would not', async () => {
    const huge = () => [{ sourcedId: `${++counter}-${'i'.repeat(200_000)}`, dateLastModified: stamp() }];
    const { run, requests } = fakeSync(() => ({ records: huge() }), { limits: { maxHeldChars: 1_000_000 } });
    const report = await run();
    expect(report).toMatchObject({ collectionWide: true });
    // Each id is held three times (seen, watermark pair, tag): past the bound after two.
    expect(requests.length).toBeLessThanOrEqual(3);
  });

  it('an enrollment past the bound takes every membership list with it (ids unknown)', async () => {
    const enrollments = () =>
      Array.from({ length: 10 }, () => ({ sourcedId: `e-${++counter}`, dateLastModified: stamp(), class: { sourcedId: 'c1' }, user: { sourcedId: 'u1' }, school: { sourcedId: 's1' } }));
    const { run, bumps } = fakeSync(() => ({ records: enrollments() }), { collection: 'enrollments', limits: { maxChanges: 20 } });
    expect(await run()).toMatchObject({ collectionWide: true });
    // /classes/{id}/students (list:users), /users/{id}/classes (list:classes), /schools/{id}/enrollments (c:enrollments).
    expect(bumps[0]).toEqual(expect.arrayContaining(['list:enrollments', 'c:enrollments', 'list:users', 'list:classes']));
    expect(bumps[0]!.every((t) => !t.includes('c1') && !t.includes('u1') && !t.startsWith('rel:') && !t.startsWith('id:'))).toBe(true);
  });

  it('under the bound, invalidates exactly the changes, page after page', async () => {
    const { run, bumps } = fakeSync((offset) => ({ records: offset < 200 ? freshRecords(100) : [], total: 200 }));
    const before = counter;
    expect(await run()).toMatchObject({ changes: 200, pages: 2 });
    expect(bumps[0]).toEqual(['list:users', ...Array.from({ length: 200 }, (_, i) => `id:users:fresh-${before + i + 1}`)]);
  });
});

describe('delta sync paging (the page walker)', () => {
  const repeatedMsg = 'district repeats the same page whatever the offset; delta sync reads its first page only';

  it.each([
    ['with sourcedIds', true],
    ['without sourcedIds', false],
  ])('a district that ignores offset and sends no total, %s: two requests a poll, not maxPages, warned once', async (_name, ids) => {
    const same = Array.from({ length: 100 }, (_, i) => ({ ...(ids ? { sourcedId: `same-${i}` } : { username: `u${i}` }), dateLastModified: stamp() }));
    const { run, requests, warnings, bumps } = fakeSync(() => ({ records: structuredClone(same) }));
    expect(await run()).toMatchObject({ outcome: 'synced', pages: 2, changes: 100 });
    expect(requests).toHaveLength(2);
    expect(bumps).toHaveLength(1);
    await run();
    expect(requests).toHaveLength(4);
    expect(warnings.filter((w) => w.msg === repeatedMsg)).toEqual([expect.objectContaining({ district: 'd1', collection: 'users' })]);
  });

  it('a short page is not the end: reads on to the empty page, then stops', async () => {
    // A district clamping pages to 30 without a total.
    const all = freshRecords(70);
    const { run, requests } = fakeSync((offset) => ({ records: all.slice(offset, offset + 30) }));
    expect(await run()).toMatchObject({ outcome: 'synced', changes: 70, pages: 4 });
    expect(requests).toHaveLength(4);
  });

  it('a full last page is not an overflow when the total says the collection ended there', async () => {
    const { run } = fakeSync((offset) => ({ records: offset === 0 ? freshRecords(100) : [], total: 100 }), { limits: { maxChanges: 100 } });
    const report = await run();
    expect(report).toMatchObject({ outcome: 'synced', changes: 100, pages: 1 });
    expect(report.collectionWide).toBeUndefined();
  });

  it('a district rejecting the filter on a later page: unsupported, that page counted; a failing one: failed, not counted', async () => {
    const rejecting = fakeSync((offset) => (offset === 0 ? { records: freshRecords(100) } : { records: [], status: 400 }));
    expect(await rejecting.run()).toMatchObject({ outcome: 'unsupported', pages: 2, changes: 0 });
    expect(rejecting.state.get('nodelta|d1|users')).toBe('400');
    const failing = fakeSync((offset) => (offset === 0 ? { records: freshRecords(100) } : { records: [], status: 500 }));
    expect(await failing.run()).toMatchObject({ outcome: 'failed', pages: 1, changes: 0 });
    expect(failing.warnings).toEqual([expect.objectContaining({ msg: 'delta sync failed', district: 'd1', cause: 'upstream_http_500', collections: ['users'] })]);
    expect(failing.state.has('wm|d1|users')).toBe(false);
  });
});
