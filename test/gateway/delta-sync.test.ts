import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';

const ADMIN = 'admin-token-0123456789abcdefghij';
let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [{ id: 'springfield', sandbox: oauth1Sandbox() }],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['springfield'], scopes: ALL_SCOPES }],
    // A long interval: the test drives each poll through the admin API.
    cache: { ttlSeconds: 3600, deltaSync: { enabled: true, intervalSeconds: 3600, overlapSeconds: 60 } },
    admin: { token: ADMIN },
  });
  token = await stack.token('app', 'app-secret-value');
  await syncNow(); // the start-up poll: sets the watermarks
});
afterAll(() => stack?.close());

const sandbox = () => stack.sandboxes.springfield!;
const get = (path: string) => stack.http.get(`/ims/oneroster/v1p1${path}`).set('authorization', `Bearer ${token}`);
async function syncNow() {
  const res = await stack.http.post('/admin/districts/springfield/sync').set('authorization', `Bearer ${ADMIN}`);
  expect(res.status).toBe(200);
  return res.body.sync as { ran: boolean; collections: Array<{ collection: string; outcome: string; changes: number }> };
}
const changesOf = (report: Awaited<ReturnType<typeof syncNow>>, c: string) => report.collections.find((r) => r.collection === c)!;

describe('delta sync', () => {
  it('invalidates exactly the pages a changed enrollment affects', async () => {
    const enrollments = sandbox().store.list('enrollments').filter((e) => e.status === 'active');
    const target = enrollments[0]!;
    const otherClass = enrollments.find((e) => e.classId !== target.classId)!.classId;
    const otherUser = enrollments.find((e) => e.userId !== target.userId && e.classId !== target.classId)!.userId;
    const pages = [
      `/classes/${target.classId}/students`,
      `/users/${target.userId}/classes`,
      `/schools/${target.schoolId}/enrollments?limit=5`,
      '/enrollments?limit=5',
      `/classes/${otherClass}/students`,
      `/users/${otherUser}/classes`,
      '/courses?limit=5',
      '/users?limit=5',
    ];
    for (const p of pages) expect((await get(p)).headers['x-cache'], p).toBe('MISS');
    for (const p of pages) expect((await get(p)).headers['x-cache'], p).toBe('HIT');

    sandbox().store.update('enrollments', target.sourcedId, { primary: target.primary === 'true' ? 'false' : 'true' });
    const report = await syncNow();
    expect(report.ran).toBe(true);
    expect(changesOf(report, 'enrollments')).toMatchObject({ outcome: 'synced', changes: 1 });
    expect(changesOf(report, 'users')).toMatchObject({ outcome: 'synced', changes: 0 });

    const after = await Promise.all(pages.map(async (p) => [p, (await get(p)).headers['x-cache']]));
    expect(Object.fromEntries(after)).toEqual({
      [pages[0]!]: 'MISS',
      [pages[1]!]: 'MISS',
      [pages[2]!]: 'MISS',
      [pages[3]!]: 'MISS',
      [pages[4]!]: 'HIT',
      [pages[5]!]: 'HIT',
      [pages[6]!]: 'HIT',
      [pages[7]!]: 'HIT',
    });
  });

  it('reports a change once even though polls overlap', async () => {
    const report = await syncNow();
    expect(report.collections.every((c) => c.changes === 0)).toBe(true);
  });

  it('shows a record that turned tobedeleted', async () => {
    const user = sandbox().store.list('users').find((u) => u.status === 'active')!;
    const single = await get(`/users/${user.sourcedId}`);
    expect(single.body.user.status).toBe('active');
    expect((await get(`/users/${user.sourcedId}`)).headers['x-cache']).toBe('HIT');
    const courses = await get('/courses?limit=5');
    expect(courses.headers['x-cache']).toBe('HIT');

    sandbox().store.markToBeDeleted('users', user.sourcedId);
    expect(changesOf(await syncNow(), 'users').changes).toBe(1);
    const after = await get(`/users/${user.sourcedId}`);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(after.body.user.status).toBe('tobedeleted');
    expect((await get('/courses?limit=5')).headers['x-cache']).toBe('HIT');
  });

  it('detects a district that rejects the filter, logs it once and stops asking', async () => {
    sandbox().injectFault({ kind: 'status', status: 400, body: '{"imsx_codeMajor":"failure","imsx_codeMinor":"invalid_filter_field"}' }, { match: '/categories' });
    expect(changesOf(await syncNow(), 'categories').outcome).toBe('unsupported');
    sandbox().resetHits();
    expect(changesOf(await syncNow(), 'categories').outcome).toBe('unsupported');
    expect(sandbox().hitCount('/ims/oneroster/v1p1/categories')).toBe(0);
    expect(stack.logs.filter((l) => l.includes('rejects dateLastModified filter'))).toHaveLength(1);
  });

  it('shows each district its last sync and watermark in GET /districts', async () => {
    const user = sandbox().store.list('users').find((u) => u.status === 'active')!;
    sandbox().store.update('users', user.sourcedId, { givenName: 'Watermarked' });
    const changedAt = sandbox().store.get('users', user.sourcedId)!.dateLastModified as string;
    const startedAt = Date.now();
    await syncNow();
    const [listed] = (await stack.http.get('/districts').set('authorization', `Bearer ${token}`)).body.districts;
    expect(listed.id).toBe('springfield');
    expect(Date.parse(listed.deltaSync.lastRunAt)).toBeGreaterThanOrEqual(startedAt - 1000);
    expect(listed.deltaSync.collections.users).toEqual({ outcome: 'synced', watermark: changedAt });
    expect(listed.deltaSync.collections.categories).toEqual({ outcome: 'unsupported' });
    // The district's watermark: the oldest of its collections' (all changes before it are known).
    const marks = Object.values(listed.deltaSync.collections as Record<string, { watermark?: string }>).flatMap((c) => (c.watermark ? [c.watermark] : []));
    expect(listed.deltaSync.watermark).toBe(marks.sort()[0]);
    expect(Date.parse(listed.deltaSync.watermark)).toBeLessThanOrEqual(Date.parse(changedAt));
  });
});
