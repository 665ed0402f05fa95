// Correct deltas for every app (issue 16), through the gateway against sandbox districts: a
// district that purges records outright, one that changes records without moving their
// dateLastModified, a client paging while the district changes under it, and the change feed
// that, from a pinned pull's X-Change-Cursor, brings a copy of the district to its current state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';
import { until } from '../helpers/until.js';

const ADMIN = 'changes-admin-token-0123456789abcdef';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any


function harness(stack: () => Stack, token: () => string) {
  const get = (path: string) => stack().http.get(path).set('authorization', `Bearer ${token()}`);
  const mirrorOf = async (id: string): Promise<Json> => (await get('/districts')).body.districts.find((d: Json) => d.id === id).mirror;
  const ready = (id: string, after?: string) => until(async () => ((m) => (m.state === 'ready' && m.version !== after && !m.pulling ? m : undefined))(await mirrorOf(id)), `${id} ready`);
  /** A full pull now; resolves with the copy it published. */
  const refresh = async (id: string): Promise<Json> => {
    const before = await mirrorOf(id);
    const res = await stack().http.post(`/admin/districts/${id}/mirror/refresh`).set('authorization', `Bearer ${ADMIN}`);
    expect(res.status).toBe(202);
    return ready(id, before.version);
  };
  /** Follows `Link rel="next"` from `first`, every page through the gateway; `between` runs after each page. */
  const follow = async (first: string, between?: (page: number) => Promise<void>) => {
    const pages: Array<{ version: string; cursor: string; records: Json[] }> = [];
    let url: string | undefined = first as string | undefined;
    while (url) {
      const res = await get(url);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.headers['x-cache']).toBe('MIRROR');
      const wrapper = Object.keys(res.body)[0]!;
      pages.push({ version: String(res.headers['x-mirror-version']), cursor: String(res.headers['x-change-cursor']), records: res.body[wrapper] });
      const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.link ?? '')?.[1];
      url = next ? new URL(next).pathname + new URL(next).search : undefined;
      if (url !== undefined && between) await between(pages.length);
    }
    return pages;
  };
  /** The feed from `since` to its end, every page. */
  const feed = async (id: string, since: string, extra = '') => {
    const changes: Json[] = [];
    let url: string | undefined = `/districts/${id}/changes?since=${encodeURIComponent(since)}&limit=7${extra}`;
    let cursor = since;
    while (url) {
      const res = await get(url);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      changes.push(...res.body.changes);
      cursor = res.body.cursor;
      expect(res.headers['x-change-cursor']).toBe(cursor);
      const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.link ?? '')?.[1];
      url = next ? new URL(next).pathname + new URL(next).search : undefined;
    }
    return { changes, cursor };
  };
  return { get, mirrorOf, ready, refresh, follow, feed };
}

describe('correct deltas from a mirrored district', () => {
  let stack: Stack;
  let token: string;
  const h = harness(() => stack, () => token);
  const v11 = (id: string) => `/districts/${id}/ims/oneroster/v1p1`;
  const v12 = (id: string) => `/districts/${id}/ims/oneroster/rostering/v1p2`;

  beforeAll(async () => {
    stack = await startStack({
      districts: [
        { id: 'purges', sandbox: oauth1Sandbox({ users: 40 }), extra: { mirror: true } },
        { id: 'quiet', sandbox: oauth1Sandbox({ users: 40 }), extra: { mirror: true } },
        { id: 'busy', sandbox: oauth1Sandbox({ users: 120 }), extra: { mirror: true } },
      ],
      clients: [
        { clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES },
        { clientId: 'core', clientSecret: 'core-secret-value', districts: ['*'], scopes: ['roster-core.readonly'] },
      ],
      admin: { token: ADMIN },
    });
    token = await stack.token('app', 'app-secret-value');
    await Promise.all(['purges', 'quiet', 'busy'].map((id) => h.ready(id)));
  });
  afterAll(() => stack?.close());

  it('serves a purged user as a tombstone in dateLastModified> reads of both versions, and as deleted in the feed', async () => {
    const start = await h.get(`${v11('purges')}/users?limit=1`);
    const cursor = String(start.headers['x-change-cursor']);
    expect(cursor).toBe(start.headers['x-mirror-version']);
    const sandbox = stack.sandboxes.purges!;
    const victim = sandbox.store.list('users')[7]!;
    await new Promise((r) => setTimeout(r, 5));
    const since = new Date().toISOString();
    sandbox.store.remove('users', victim.sourcedId);
    const copy = await h.refresh('purges');
    const filter = encodeURIComponent(`dateLastModified>'${since}'`);
    for (const path of [`${v11('purges')}/users?filter=${filter}`, `${v12('purges')}/users?filter=${filter}`]) {
      const res = await h.get(path);
      expect(res.status).toBe(200);
      expect(res.headers['x-mirror-version']).toBe(copy.version);
      const tombstone = res.body.users.find((u: Json) => u.sourcedId === victim.sourcedId);
      expect(tombstone, path).toMatchObject({ sourcedId: victim.sourcedId, status: 'tobedeleted', givenName: victim.givenName });
      expect(Date.parse(tombstone.dateLastModified)).toBeGreaterThanOrEqual(Date.parse(since));
      expect(res.body.users).toHaveLength(1);
      expect(res.headers['x-total-count']).toBe('1');
    }
    // Without a dateLastModified> clause: the district's answer, no tombstone.
    const plain = await h.get(`${v11('purges')}/users?limit=100`);
    expect(plain.body.users.map((u: Json) => u.sourcedId)).not.toContain(victim.sourcedId);
    const { changes } = await h.feed('purges', cursor);
    expect(changes.map((c) => [c.collection, c.sourcedId, c.op])).toContainEqual(['users', victim.sourcedId, 'deleted']);
    // Hrefs point at the gateway, never at the district's own address.
    const text = JSON.stringify(changes);
    expect(text).toContain('/districts/purges/ims/oneroster/');
    expect(text).not.toContain(new URL(sandbox.baseUrl).host);
    const deleted = changes.find((c) => c.sourcedId === victim.sourcedId)!;
    expect(deleted.record).toMatchObject({ sourcedId: victim.sourcedId, status: 'tobedeleted' });
    expect(deleted.at).toBe(deleted.record.dateLastModified);
  });

  it('serves a change the district did not timestamp, with the time the gateway observed it, in both reads and the feed', async () => {
    const start = await h.get(`${v12('quiet')}/users?limit=1`);
    const cursor = String(start.headers['x-change-cursor']);
    const sandbox = stack.sandboxes.quiet!;
    const user = sandbox.store.list('users')[3]!;
    const since = new Date(Date.now() - 1).toISOString();
    sandbox.store.update('users', user.sourcedId, { givenName: 'Renamed-Quietly' }, { timestamp: false });
    // And one the district did timestamp: it comes once, with its own dateLastModified.
    const loud = sandbox.store.update('users', sandbox.store.list('users')[9]!.sourcedId, { givenName: 'Renamed-Loudly' });
    // The district's own delta misses it: its dateLastModified did not move.
    expect(sandbox.store.list('users')[3]!.dateLastModified).toBe(user.dateLastModified);
    await h.refresh('quiet');
    for (const path of [`${v11('quiet')}/users`, `${v12('quiet')}/users`]) {
      const res = await h.get(`${path}?filter=${encodeURIComponent(`dateLastModified>'${since}' AND status='active'`)}`);
      expect(res.status).toBe(200);
      const got = Object.fromEntries(res.body.users.map((u: Json) => [u.sourcedId, u]));
      expect(Object.keys(got).sort()).toEqual([user.sourcedId, loud.sourcedId].sort());
      expect(res.headers['x-total-count']).toBe('2');
      expect(got[user.sourcedId].givenName).toBe('Renamed-Quietly');
      expect(Date.parse(got[user.sourcedId].dateLastModified)).toBeGreaterThan(Date.parse(user.dateLastModified));
      expect(got[loud.sourcedId]).toMatchObject({ givenName: 'Renamed-Loudly', dateLastModified: loud.dateLastModified });
    }
    // The same record outside a delta read keeps the district's dateLastModified.
    const single = await h.get(`${v11('quiet')}/users/${user.sourcedId}`);
    expect(single.body.user).toMatchObject({ givenName: 'Renamed-Quietly', dateLastModified: user.dateLastModified });
    const { changes } = await h.feed('quiet', cursor, '&version=v1p1');
    expect(changes.map((c) => [c.sourcedId, c.op, c.record.givenName]).sort()).toEqual([[user.sourcedId, 'updated', 'Renamed-Quietly'], [loud.sourcedId, 'updated', 'Renamed-Loudly']].sort());
  });

  it('pins a pull to the copy it started on: 20 pages while the district changes and the mirror refreshes between them', async () => {
    const sandbox = stack.sandboxes.busy!;
    const first = await h.refresh('busy');
    const expected = sandbox.store.list('users').map((u) => u.sourcedId).sort();
    let n = 0;
    const pages = await h.follow(`${v11('busy')}/users?limit=6`, async () => {
      // Between pages: a record created, one changed, one purged, and a new copy published.
      const users = sandbox.store.list('users');
      sandbox.store.put('users', { ...users[0]!, sourcedId: `new-${n++}`, givenName: 'Created' });
      sandbox.store.update('users', users[users.length - 1]!.sourcedId, { givenName: `Changed ${n}` });
      sandbox.store.remove('users', users[Math.floor(users.length / 2)]!.sourcedId);
      if (n % 4 === 1) await h.refresh('busy');
    });
    expect(pages).toHaveLength(20);
    expect(new Set(pages.map((p) => p.version))).toEqual(new Set([first.version]));
    expect(new Set(pages.map((p) => p.cursor))).toEqual(new Set([first.version]));
    const got = pages.flatMap((p) => p.records.map((u) => u.sourcedId as string));
    expect(got.length).toBe(new Set(got).size);
    expect([...got].sort()).toEqual(expected);
    // The district did change meanwhile: an unpinned read sees the latest copy.
    const latest = await h.get(`${v11('busy')}/users?limit=1`);
    expect(latest.headers['x-mirror-version']).not.toBe(first.version);
  });

  it('rebuilds the current district from a pinned pull and the feed from its X-Change-Cursor', async () => {
    const sandbox = stack.sandboxes.busy!;
    await h.refresh('busy');
    // The app's copy: users and enrollments pulled in full, each pinned to the copy of its first page.
    const pulled = new Map<string, Json>();
    const cursors: string[] = [];
    for (const collection of ['users', 'enrollments']) {
      const pages = await h.follow(`${v11('busy')}/${collection}?limit=50`, async (page) => {
        if (page === 1 && collection === 'users') {
          // Mid-pull: a quiet change, and a purge of a record already pulled (every later offset shifts by one).
          sandbox.store.update('users', sandbox.store.list('users')[2]!.sourcedId, { givenName: 'Mid-Pull' }, { timestamp: false });
          sandbox.store.remove('users', sandbox.store.list('users').map((u) => u.sourcedId).sort()[0]!);
          await h.refresh('busy');
        }
      });
      for (const p of pages) for (const r of p.records) pulled.set(`${collection}/${r.sourcedId}`, r);
      cursors.push(pages[0]!.cursor);
    }
    // Then the district changes: creations, quiet and timestamped updates, purges, an enrollment gone.
    const users = sandbox.store.list('users');
    sandbox.store.put('users', { ...users[1]!, sourcedId: 'late-arrival', givenName: 'Late' });
    sandbox.store.update('users', users[4]!.sourcedId, { familyName: 'Quiet' }, { timestamp: false });
    sandbox.store.update('users', users[5]!.sourcedId, { familyName: 'Loud' });
    sandbox.store.remove('users', users[6]!.sourcedId);
    sandbox.store.remove('enrollments', sandbox.store.list('enrollments')[0]!.sourcedId);
    const now = await h.refresh('busy');
    // The feed from the earliest of the pull's cursors (each collection's pinned copy is at or after it).
    const from = [...cursors].sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))[0] as string;
    const { changes, cursor } = await h.feed('busy', from, '&version=v1p1');
    expect(cursor).toBe(now.version);
    const key = (c: Json) => `${c.collection}/${c.sourcedId}`;
    for (const c of changes) {
      if (c.collection !== 'users' && c.collection !== 'enrollments') continue;
      if (c.op === 'deleted') pulled.delete(key(c));
      else pulled.set(key(c), c.record);
    }
    // What the district is now, read from the latest copy.
    const current = new Map<string, Json>();
    for (const collection of ['users', 'enrollments']) {
      for (const p of await h.follow(`${v11('busy')}/${collection}?limit=100`)) for (const r of p.records) current.set(`${collection}/${r.sourcedId}`, r);
    }
    expect([...pulled.keys()].sort()).toEqual([...current.keys()].sort());
    const differing = [...current].filter(([k, r]) => JSON.stringify(pulled.get(k)) !== JSON.stringify(r)).map(([k]) => k);
    expect(differing).toEqual([]);
    expect(current.get('users/late-arrival')).toMatchObject({ givenName: 'Late' });
    expect(current.get(`users/${users[4]!.sourcedId}`)).toMatchObject({ familyName: 'Quiet' });
  });

  it('gives only the collections the client may read, and answers bad cursors and limits in the OneRoster error shape', async () => {
    const start = await h.get(`${v11('purges')}/users?limit=1`);
    const base = start.headers['x-change-cursor'] as string;
    const epoch = base.split('.')[0];
    const core = await stack.token('core', 'core-secret-value');
    const asCore = (path: string) => stack.http.get(path).set('authorization', `Bearer ${core}`);
    const sandbox = stack.sandboxes.purges!;
    sandbox.store.update('users', sandbox.store.list('users')[0]!.sourcedId, { givenName: 'Seen by core' });
    await h.refresh('purges');
    const mine = await asCore(`/districts/purges/changes?since=${base}`);
    expect(mine.status).toBe(200);
    expect(mine.body.changes.every((c: Json) => c.collection !== 'demographics')).toBe(true);
    expect(mine.body.changes.length).toBeGreaterThan(0);
    const noCursor = await h.get('/districts/purges/changes');
    expect(noCursor.body).toEqual({ changes: [], cursor: (await h.mirrorOf('purges')).version });
    const cases: Array<[string, number]> = [
      ['/districts/purges/changes?since=not-a-cursor', 400],
      [`/districts/purges/changes?since=${base}&limit=0`, 400],
      [`/districts/purges/changes?since=${base}&limit=10001`, 400],
      [`/districts/purges/changes?since=${base}&version=v2`, 400],
      [`/districts/purges/changes?since=${base}&since=${base}`, 400],
      // Another store's cursor, and one from before the district's first copy: start over.
      [`/districts/purges/changes?since=ffffffff.1`, 410],
      [`/districts/purges/changes?since=${epoch}.99999`, 410],
      ['/districts/nowhere/changes', 404],
    ];
    for (const [path, status] of cases) {
      const res = await h.get(path);
      expect([path, res.status]).toEqual([path, status]);
      expect(res.body.imsx_codeMajor ?? res.body.codeMajor, path).toBe('failure');
    }
    expect((await stack.http.get(`/districts/purges/changes?since=${base}`)).status).toBe(401);
  });

  it('shows what the changes hold in GET /districts and /metrics', async () => {
    const sandbox = stack.sandboxes.purges!;
    sandbox.store.remove('users', sandbox.store.list('users')[1]!.sourcedId);
    sandbox.store.update('users', sandbox.store.list('users')[2]!.sourcedId, { givenName: 'Counted' });
    const copy = await h.refresh('purges');
    const changes = (await h.mirrorOf('purges')).changes;
    expect(changes).toMatchObject({
      retentionDays: 30,
      held: expect.any(Number),
      tombstones: expect.any(Number),
      oldestAt: expect.stringMatching(/^\d{4}-/),
      earliestCursor: expect.stringMatching(/^[0-9a-f]+\.1$/),
      last: { version: copy.version, changed: { users: { created: 0, updated: 1, deleted: 1 } } },
    });
    expect(changes.tombstones).toBeGreaterThanOrEqual(2);
    expect(changes.held).toBeGreaterThanOrEqual(changes.tombstones + 1);
    // The feed from the earliest cursor answers; it holds exactly `held` changes.
    const all = await h.feed('purges', changes.earliestCursor);
    expect(all.changes).toHaveLength(changes.held);
    expect(all.changes.filter((c) => c.op === 'deleted')).toHaveLength(changes.tombstones);
    const text = (await stack.http.get('/metrics')).text;
    expect(text).toMatch(new RegExp(`oneroster_gateway_mirror_changes_held\\{district="purges"\\} ${changes.held}\\b`));
    expect(text).toMatch(new RegExp(`oneroster_gateway_mirror_tombstones\\{district="purges"\\} ${changes.tombstones}\\b`));
    expect(text).toMatch(/oneroster_gateway_mirror_feed_retention_seconds\{district="purges"\} [\d.e-]+/);
    // By district and operation (by collection too only with metrics.perDistrictHistograms).
    const deleted = Number(/oneroster_gateway_mirror_changes_recorded_total\{district="purges",op="deleted"\} (\d+)/.exec(text)?.[1]);
    expect(deleted).toBe(changes.tombstones);
    expect((await h.mirrorOf('quiet')).changes.held).toBe(2);
    expect(text).not.toMatch(/mirror_changes_held\{district="nowhere"/);
  });
});

describe('a pinned copy past its retention', () => {
  let stack: Stack;
  let token: string;
  const h = harness(() => stack, () => token);

  beforeAll(async () => {
    stack = await startStack({
      districts: [{ id: 'short', sandbox: oauth1Sandbox({ users: 30 }), extra: { mirror: true } }],
      clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
      admin: { token: ADMIN },
      extra: { mirror: { snapshotRetentionSeconds: 1 } },
    });
    token = await stack.token('app', 'app-secret-value');
    await h.ready('short');
  });
  afterAll(() => stack?.close());

  it('answers 410 in the path version\u2019s status-info shape, telling the client to restart', async () => {
    const first = await h.get('/districts/short/ims/oneroster/v1p1/users?limit=5');
    const next = /<([^>]+)>;\s*rel="next"/.exec(String(first.headers.link))![1]!;
    const url = new URL(next);
    expect(url.searchParams.get('snapshot')).toBe(first.headers['x-mirror-version']);
    // Still current: the pin answers whatever the time.
    expect((await h.get(url.pathname + url.search)).status).toBe(200);
    await h.refresh('short');
    expect((await h.get(url.pathname + url.search)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1200));
    const expired = await h.get(url.pathname + url.search);
    expect(expired.status).toBe(410);
    expect(expired.body.statusInfoSet[0]).toMatchObject({ imsx_codeMajor: 'failure', imsx_description: expect.stringMatching(/no longer kept.*Restart the pull/) });
    const v12 = await h.get(`/districts/short/ims/oneroster/rostering/v1p2/users?limit=5&snapshot=${first.headers['x-mirror-version']}`);
    expect(v12.status).toBe(410);
    expect(v12.body.imsx_codeMajor).toBe('failure');
    expect((await h.get('/districts/short/ims/oneroster/v1p1/users?limit=5&snapshot=nonsense')).status).toBe(400);
  });
});
