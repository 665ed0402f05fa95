import { describe, expect, it } from 'vitest';
import { fullPull, type PullOptions } from '../../src/mirror/full-pull.js';
import { createMemoryMirrorStore } from '../../src/mirror/memory-store.js';
import { MIRROR_ROOT } from '../../src/mirror/pull-page.js';
import { district, records, SECRET } from './fake-district.js';

const COLLECTIONS = ['orgs', 'users', 'enrollments'] as const;
let clock = Date.parse('2026-06-01T00:00:00Z');

function pullOf(d: ReturnType<typeof district>, store = createMemoryMirrorStore(), extra: Partial<PullOptions> = {}) {
  const options: PullOptions = { district: d.district, store, collections: COLLECTIONS, pageSize: 40, shrinkGuardPercent: 20, now: () => clock, ...extra };
  return { store, run: (more: Partial<PullOptions> = {}) => fullPull({ ...options, ...more }) };
}

const data = () => ({ orgs: records('orgs', 3), users: records('users', 130), enrollments: records('enrollments', 95) });

describe('fullPull', () => {
  it('reads every collection in dependency order to its end and publishes them at once', async () => {
    const d = district(data());
    const { store, run } = pullOf(d);
    const report = await run();
    expect(report).toMatchObject({ outcome: 'published', counts: { orgs: 3, users: 130, enrollments: 95 } });
    // Pages of 40 until the total: 1 + 4 + 3, then one catch-up read per collection.
    expect(report.upstreamRequests).toBe(8 + 3);
    const order = [...new Set(d.state.requests.filter((r) => !r.query.some(([k]) => k === 'filter')).map((r) => r.path.split('/').pop()))];
    expect(order).toEqual(['orgs', 'users', 'enrollments']);
    // Stable offsets: sorted by sourcedId, at background priority.
    expect(d.state.requests[0]!.query).toEqual(expect.arrayContaining([['sort', 'sourcedId'], ['orderBy', 'asc']]));
    expect(d.state.requests.every((r) => r.priority === 'background')).toBe(true);
    const copy = (await store.current('d1'))!;
    expect(copy.counts).toEqual({ orgs: 3, users: 130, enrollments: 95 });
    expect((await store.query(copy, { collection: 'users', offset: 0, limit: 1000 })).total).toBe(130);
  });

  it("keeps hrefs re-rooted at the mirror's root and the district's secrets and address out", async () => {
    const users = records('users', 5, (i) => (i === 0 ? { metadata: { note: `call https://sis.example.test:8443/vendor/x with ${SECRET}` } } : {}));
    const d = district({ orgs: records('orgs', 1), users, enrollments: records('enrollments', 1) });
    const { store, run } = pullOf(d);
    await run();
    const copy = (await store.current('d1'))!;
    const text = JSON.stringify((await store.query(copy, { collection: 'users', offset: 0, limit: 10 })).records);
    expect(text).toContain(`"href":"${MIRROR_ROOT}/v1p1/orgs/org-1"`);
    expect(text).not.toContain('sis.example.test');
    expect(text).not.toContain(SECRET);
  });

  it('reads a district that clamps the page size to its end', async () => {
    const d = district(data(), { maxPage: 7 });
    const { run } = pullOf(d);
    expect(await run()).toMatchObject({ outcome: 'published', counts: { users: 130 } });
  });

  it("asks again at half the page size when a page passes the district's maxBodyBytes", async () => {
    const d = district({ orgs: records('orgs', 3), users: records('users', 1300), enrollments: records('enrollments', 95) }, { tooLargeAbove: 300 });
    const { run } = pullOf(d, createMemoryMirrorStore(), { pageSize: 1000 });
    expect(await run()).toMatchObject({ outcome: 'published', counts: { users: 1300 } });
    const limits = d.state.requests.filter((r) => r.path.endsWith('/users')).map((r) => Number(r.query.find(([k]) => k === 'limit')![1]));
    // 1000 and 500 refused, then 250 a page for the rest of the collection.
    expect(limits.slice(0, 4)).toEqual([1000, 500, 250, 250]);
    // Never below 100: a district whose every record is too large fails the pull.
    const huge = district({ orgs: records('orgs', 3), users: records('users', 10), enrollments: [] }, { tooLargeAbove: 0 });
    expect(await pullOf(huge).run()).toMatchObject({ outcome: 'failed', reason: 'the district could not be read (UPSTREAM_TOO_LARGE)' });
  });

  it('publishes nothing when a page fails, and the copy before keeps serving', async () => {
    const d = district(data());
    const { store, run } = pullOf(d);
    const first = (await run()).copy!;
    d.state.data.users = records('users', 131);
    d.state.fail = (collection, offset) => (collection === 'users' && offset === 80 ? 500 : undefined);
    const report = await run();
    expect(report).toMatchObject({ outcome: 'failed', reason: 'the district answered HTTP 500' });
    expect((await store.current('d1'))!.version).toBe(first.version);
    expect((await store.query(first, { collection: 'users', offset: 0, limit: 1000 })).total).toBe(130);
  });

  it("refuses a pull whose count disagrees with the district's total", async () => {
    const d = district(data(), { total: (c, n) => (c === 'enrollments' ? n + 2 : undefined) });
    const { store, run } = pullOf(d);
    expect(await run()).toMatchObject({ outcome: 'refused', reason: 'enrollments: 95 records read, the district counts 97' });
    expect(await store.current('d1')).toBeUndefined();
  });

  it('refuses a pull that shrinks a collection past the guard, and publishes it when forced', async () => {
    const d = district(data());
    const { store, run } = pullOf(d);
    const first = (await run()).copy!;
    d.state.data.users = records('users', 90);
    expect(await run()).toMatchObject({ outcome: 'refused', reason: expect.stringContaining('users would shrink from 130 to 90') });
    expect((await store.current('d1'))!.version).toBe(first.version);
    expect(await run({ force: true })).toMatchObject({ outcome: 'published', counts: { users: 90 } });
  });

  it('reads again what changed while it ran, so a change made mid-pull is in the copy', async () => {
    const d = district(data());
    let changed = false;
    d.state.fail = (collection, offset, req) => {
      // Once enrollments are being read, a user read earlier changes at the district.
      if (collection === 'enrollments' && offset === 0 && !changed && !req.query.some(([k]) => k === 'filter')) {
        changed = true;
        d.state.data.users![0] = { ...d.state.data.users![0]!, givenName: 'Changed', dateLastModified: new Date(clock).toISOString() };
      }
      return undefined;
    };
    const { store, run } = pullOf(d);
    await run();
    const copy = (await store.current('d1'))!;
    expect((await store.get(copy, 'users', 'use-0000'))?.givenName).toBe('Changed');
  });

  it('refuses a district that repeats its first page whatever the offset', async () => {
    // Ignores offset and sends no total: the same first 40 users forever.
    const d = district(data(), { total: () => undefined });
    const { run } = pullOf(d);
    const original = d.district.upstream.request;
    (d.district.upstream as { request: typeof original }).request = (req) => original({ ...req, query: req.query.map(([k, v]) => [k, k === 'offset' ? '0' : v] as const) });
    expect(await run()).toMatchObject({ outcome: 'refused', reason: 'users was not read to its end' });
    // The repeat is seen on the second page: two requests, not thousands.
    expect(d.state.requests.filter((r) => r.path.endsWith('/users')).length).toBe(2);
  });

  it('refuses a pull that passes the memory store bound, keeping the copy before', async () => {
    const d = district(data());
    const store = createMemoryMirrorStore({ maxBytes: 20_000 });
    const { run } = pullOf(d, store);
    const report = await run();
    expect(report).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('mirror.maxMemoryBytes') });
    expect(await store.current('d1')).toBeUndefined();
    expect(store.bytes()).toBe(0);
  });
});
