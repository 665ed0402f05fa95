// Gradebook writes in both versions: PUT create/replace, DELETE, 1.2 POST, bad bodies.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSandbox } from '../../src/sandbox/testing.js';
import { call, root, startBearer } from './helpers.js';

let clock = Date.UTC(2026, 1, 3, 4, 5, 6);
let v11: TestSandbox;
let v12: TestSandbox;

beforeAll(async () => {
  [v11, v12] = await Promise.all([
    startBearer({ version: 'v1p1', users: 80, now: () => clock }),
    startBearer({ version: 'v1p2', users: 80, now: () => clock }),
  ]);
});
afterAll(() => Promise.all([v11.close(), v12.close()]));

const json = (method: string, body: unknown): RequestInit => ({
  method, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body),
});
const ref = (sourcedId: string, type: string) => ({ href: 'ignored', sourcedId, type });

describe('1.1 writes', () => {
  const url = (): string => `${root(v11)}/lineItems/li-new-1`;
  const lineItem = (title: string) => ({
    lineItem: {
      sourcedId: 'li-new-1', status: 'active', title, description: 'Written by a test',
      assignDate: '2026-02-01T00:00:00Z', dueDate: '2026-02-08T00:00:00Z',
      class: ref('cls-002', 'class'), category: ref('cat-02', 'category'), gradingPeriod: ref('as-2025-gp3', 'gradingPeriod'),
      resultValueMin: 0, resultValueMax: 20,
    },
  });

  it('PUT creates (201), replaces (200), GET returns it, DELETE removes it (204)', async () => {
    const created = await call(url(), json('PUT', lineItem('Lab report')));
    expect(created.status).toBe(201);
    expect(created.body.lineItem).toMatchObject({ sourcedId: 'li-new-1', title: 'Lab report', dateLastModified: '2026-02-03T04:05:06.000Z' });

    clock += 60_000;
    const replaced = await call(url(), json('PUT', lineItem('Lab report v2')));
    expect(replaced.status).toBe(200);
    const got = await call(url());
    expect(got.body.lineItem).toMatchObject({
      title: 'Lab report v2', resultValueMax: 20, dateLastModified: '2026-02-03T04:06:06.000Z',
      class: { sourcedId: 'cls-002', type: 'class' }, gradingPeriod: { sourcedId: 'as-2025-gp3', type: 'gradingPeriod' },
    });
    expect((await call(`${root(v11)}/classes/cls-002/lineItems?limit=100`)).body.lineItems.map((l: { sourcedId: string }) => l.sourcedId)).toContain('li-new-1');

    expect((await call(url(), { method: 'DELETE' })).status).toBe(204);
    expect((await call(url())).status).toBe(404);
    expect((await call(url(), { method: 'DELETE' })).status).toBe(404);
  });

  it('round-trips results and categories', async () => {
    const student = v11.store.list('users').find((u) => u.role === 'student');
    const put = await call(`${root(v11)}/results/res-new-1`, json('PUT', {
      result: { lineItem: ref('li-0001', 'lineItem'), student: ref(student?.sourcedId ?? '', 'student'), scoreStatus: 'partially graded', score: '7.5', scoreDate: '2026-02-03' },
    }));
    expect(put.status).toBe(201);
    expect((await call(`${root(v11)}/results/res-new-1`)).body.result).toMatchObject({ score: 7.5, scoreStatus: 'partially graded' });
    expect((await call(`${root(v11)}/categories/cat-new`, json('PUT', { category: { title: 'Labs' } }))).status).toBe(201);
    expect((await call(`${root(v11)}/categories/cat-new`)).body.category.title).toBe('Labs');
  });

  it.each([
    ['invalid JSON', '{"lineItem": {'],
    ['missing wrapper', { item: {} }],
    ['missing title', { lineItem: { class: ref('cls-001', 'class'), category: ref('cat-01', 'category') } }],
    ['bad ref', { lineItem: { title: 'x', class: 42, category: ref('cat-01', 'category') } }],
  ])('rejects %s with 400 invalid data', async (_name, body) => {
    const got = await call(`${root(v11)}/lineItems/li-bad`, json('PUT', body));
    expect(got.status).toBe(400);
    expect(got.body.statusInfoSet[0].imsx_codeMinor).toBe('invalid data');
    expect(v11.store.get('lineItems', 'li-bad')).toBeUndefined();
  });

  it('has no 1.2-only write routes', async () => {
    expect((await call(`${root(v11)}/scoreScales/ss-x`, json('PUT', { scoreScale: {} }))).status).toBe(404);
    expect((await call(`${root(v11)}/classes/cls-001/lineItems`, json('POST', { lineItems: [] }))).status).toBe(405);
  });
});

describe('1.2 writes', () => {
  const gb = (): string => root(v12, 'gradebook');

  it('PUT answers 201 without a body on create and on replace', async () => {
    const body = { category: { title: 'Labs', weight: 0.25 } };
    const first = await call(`${gb()}/categories/cat-lab`, json('PUT', body));
    expect(first.status).toBe(201);
    expect(first.body).toBeUndefined();
    expect((await call(`${gb()}/categories/cat-lab`, json('PUT', { category: { title: 'Labs', weight: 0.3 } }))).status).toBe(201);
    expect((await call(`${gb()}/categories/cat-lab`)).body.category).toMatchObject({ title: 'Labs', weight: 0.3 });
  });

  it('fills lineItem.school from the class when the body omits it', async () => {
    await call(`${gb()}/lineItems/li-x`, json('PUT', { lineItem: { title: 'Essay', class: ref('cls-005', 'class'), category: ref('cat-01', 'category') } }));
    const school = v12.store.get('classes', 'cls-005')?.schoolId;
    expect((await call(`${gb()}/lineItems/li-x`)).body.lineItem.school.sourcedId).toBe(school);
  });

  it('POST /classes/{id}/lineItems allocates ids and answers sourcedIdPairs', async () => {
    const got = await call(`${gb()}/classes/cls-004/lineItems`, json('POST', {
      lineItems: [
        { sourcedId: 'client-1', title: 'Quiz A', category: ref('cat-02', 'category') },
        { title: 'Quiz B', category: ref('cat-02', 'category') },
      ],
    }));
    expect(got.status).toBe(201);
    expect(got.body.sourcedIdPairs).toHaveLength(2);
    expect(got.body.sourcedIdPairs[0].suppliedSourcedId).toBe('client-1');
    const allocated = got.body.sourcedIdPairs[1].allocatedSourcedId as string;
    const li = (await call(`${gb()}/lineItems/${allocated}`)).body.lineItem;
    expect(li).toMatchObject({ title: 'Quiz B', class: { sourcedId: 'cls-004' }, school: { sourcedId: v12.store.get('classes', 'cls-004')?.schoolId } });
  });

  it('POST /lineItems/{id}/results, then the results show under the class', async () => {
    const students = v12.store.list('enrollments').filter((e) => e.classId === 'cls-001' && e.role === 'student').slice(0, 2);
    const got = await call(`${gb()}/lineItems/li-0001/results`, json('POST', {
      results: students.map((s) => ({ student: ref(s.userId, 'user'), scoreStatus: 'fully graded', score: 9, late: true })),
    }));
    expect(got.status).toBe(201);
    const ids = got.body.sourcedIdPairs.map((p: { allocatedSourcedId: string }) => p.allocatedSourcedId);
    const listed = (await call(`${gb()}/classes/cls-001/lineItems/li-0001/results?limit=1000`)).body.results.map((r: { sourcedId: string }) => r.sourcedId);
    expect(listed).toEqual(expect.arrayContaining(ids));
    expect((await call(`${gb()}/results/${ids[0]}`)).body.result).toMatchObject({ late: 'true', score: 9, class: { sourcedId: 'cls-001' } });
  });

  it('POST to an unknown parent is 404 and stores nothing', async () => {
    const before = v12.store.count('lineItems');
    expect((await call(`${gb()}/schools/no-school/lineItems`, json('POST', { lineItems: [{ title: 'x', class: ref('cls-001', 'class'), category: ref('cat-01', 'category') }] }))).status).toBe(404);
    expect(v12.store.count('lineItems')).toBe(before);
  });

  it('PUT and DELETE score scales and assessments', async () => {
    const scale = { scoreScale: { title: 'Pass/Fail', type: 'passfail', class: ref('cls-001', 'class'), scoreScaleValue: [{ itemValueLHS: 'P', itemValueRHS: 'Pass' }] } };
    expect((await call(`${gb()}/scoreScales/ss-pf`, json('PUT', scale))).status).toBe(201);
    expect((await call(`${gb()}/classes/cls-001/scoreScales`)).body.scoreScales.map((s: { sourcedId: string }) => s.sourcedId)).toContain('ss-pf');
    expect((await call(`${gb()}/assessmentLineItems/ali-01`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`${gb()}/assessmentLineItems/ali-01`)).status).toBe(404);
    const ar = { assessmentResult: { assessmentLineItem: ref('ali-02', 'assessmentLineItem'), student: ref('usr-00001', 'user'), scoreStatus: 'exempt' } };
    expect((await call(`${gb()}/assessmentResults/ar-new`, json('PUT', ar))).status).toBe(201);
    expect((await call(`${gb()}/assessmentResults/ar-new`)).body.assessmentResult.scoreDate).toBe('2026-02-03');
  });

  it('rejects invalid JSON with a 1.2 error body', async () => {
    const got = await call(`${gb()}/results/r-bad`, json('PUT', 'not json'));
    expect(got.status).toBe(400);
    expect(got.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('invaliddata');
  });
});
