// 1.2 reads a 1.1 district has no route for, derived by the gateway from the district's 1.1
// data (service/derived-reads.ts) instead of answering 501: a class's categories and a
// user's resources. The sandbox districts count the requests that reach them, which shows
// what each derivation costs the district.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../src/core/oneroster/scopes.js';
import type { TestSandbox } from '../../src/sandbox/testing.js';
import { collectionPayload, expectValid, statusInfoSchemas } from '../support/oneroster-schemas.js';
import { oauth1Sandbox, oauth2Sandbox, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [
      { id: 'one', sandbox: oauth1Sandbox() },
      // The same generated data served as 1.2: what a 1.2 server answers natively.
      { id: 'two', sandbox: oauth2Sandbox() },
      // Pages of two records: the category collection is longer than one request.
      { id: 'clamped', sandbox: oauth1Sandbox({ maxPageSize: 2 }) },
      // At most two upstream requests behind one client answer.
      { id: 'tight', sandbox: oauth1Sandbox(), extra: { upstream: { maxStitchPages: 2 } } },
    ],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: [...SCOPES] }],
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

type Rec = Record<string, any>;
const auth = () => ({ authorization: `Bearer ${token}` });
const v11 = (district: string, rest: string) => stack.http.get(`/districts/${district}/ims/oneroster/v1p1${rest}`).set(auth());
const v12 = (district: string, service: string, rest: string) => stack.http.get(`/districts/${district}/ims/oneroster/${service}/v1p2${rest}`).set(auth());
const sandbox = (id: string): TestSandbox => stack.sandboxes[id]!;
/** Upstream paths (below the district root) requested since the last reset. */
const paths = (id: string) => sandbox(id).hits.map((h) => h.path.replace('/ims/oneroster', ''));
const ids = (list: Rec[]) => list.map((r) => r.sourcedId as string);

/** Classes of the district with their line items' category ids, read through the 1.1 path. */
async function classesWithCategories(district: string): Promise<Map<string, string[]>> {
  const items: Rec[] = (await v11(district, '/lineItems?limit=10000')).body.lineItems;
  const byClass = new Map<string, Set<string>>();
  for (const li of items) {
    const set = byClass.get(li.class.sourcedId) ?? new Set<string>();
    set.add(li.category.sourcedId);
    byClass.set(li.class.sourcedId, set);
  }
  return new Map([...byClass].map(([c, s]) => [c, [...s].sort()]));
}

describe('GET /classes/{id}/categories on a 1.1 district', () => {
  it('answers the categories of the class line items in 1.2 shape, for two upstream requests', async () => {
    const classes = await classesWithCategories('one');
    const [classId, expected] = [...classes].find(([, cats]) => cats.length >= 3)!;
    sandbox('one').resetHits();
    const res = await v12('one', 'gradebook', `/classes/${classId}/categories`);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expectValid(collectionPayload('v1p2', 'categories', 'categories'), res.body, 'derived categories');
    expect(ids(res.body.categories)).toEqual(expected);
    expect(res.headers['x-total-count']).toBe(String(expected.length));
    // The class's line items, then the category collection (one page holds all of it).
    expect(paths('one')).toEqual([`/v1p1/classes/${classId}/lineItems`, '/v1p1/categories']);
    // What a 1.2 server answers for the same data, less the 1.2-only weight.
    const native = (await v12('two', 'gradebook', `/classes/${classId}/categories`)).body.categories as Rec[];
    expect(native.length).toBeGreaterThan(0);
    expect(res.body.categories.map((c: Rec) => ({ sourcedId: c.sourcedId, title: c.title, status: c.status }))).toEqual(
      native.map((c) => ({ sourcedId: c.sourcedId, title: c.title, status: c.status })),
    );
    for (const c of res.body.categories) expect(c).not.toHaveProperty('weight');
    // The derived page is cached like any other.
    sandbox('one').resetHits();
    const again = await v12('one', 'gradebook', `/classes/${classId}/categories`);
    expect(again.headers['x-cache']).toBe('HIT');
    expect(again.body).toEqual(res.body);
    expect(sandbox('one').hitCount()).toBe(0);
  });

  it('pages, filters, sorts and selects fields at the gateway', async () => {
    const classes = await classesWithCategories('one');
    const [classId, expected] = [...classes].find(([, cats]) => cats.length >= 3)!;
    const base = `/classes/${classId}/categories`;
    const all: Rec[] = (await v12('one', 'gradebook', base)).body.categories;

    const page = await v12('one', 'gradebook', `${base}?limit=1&offset=1`);
    expect(page.status).toBe(200);
    expect(ids(page.body.categories)).toEqual([expected[1]]);
    expect(page.headers['x-total-count']).toBe(String(expected.length));
    expect(page.headers.link).toContain(`/districts/one/ims/oneroster/gradebook/v1p2${base}?limit=1&offset=2>; rel="next"`);
    expect(page.headers.link).toContain('offset=0>; rel="prev"');
    expect(page.headers.link).not.toContain(new URL(sandbox('one').baseUrl).host);

    const title = all[1]!.title as string;
    const filtered = await v12('one', 'gradebook', `${base}?filter=${encodeURIComponent(`title='${title}'`)}`);
    expect(filtered.status).toBe(200);
    expect(filtered.body.categories.map((c: Rec) => c.title)).toEqual([title]);
    expect(filtered.headers['x-total-count']).toBe('1');

    const sorted = await v12('one', 'gradebook', `${base}?sort=title&orderBy=desc`);
    expect(sorted.body.categories.map((c: Rec) => c.title)).toEqual(all.map((c) => c.title as string).sort().reverse());

    const fields = await v12('one', 'gradebook', `${base}?fields=sourcedId,title`);
    expect(fields.body.categories.map((c: Rec) => Object.keys(c).sort())).toEqual(all.map(() => ['sourcedId', 'title']));

    // Names checked in the caller's version, before any upstream request.
    sandbox('one').resetHits();
    expect((await v12('one', 'gradebook', `${base}?fields=sourcedId,nope`)).status).toBe(400);
    expect((await v12('one', 'gradebook', `${base}?sort=nope`)).status).toBe(400);
    expect((await v12('one', 'gradebook', `${base}?filter=${encodeURIComponent("nope='x'")}`)).status).toBe(400);
    expect(sandbox('one').hitCount()).toBe(0);
  });

  it('answers 404 unknownobject for an unknown class, as the district does for its line items', async () => {
    sandbox('one').resetHits();
    const res = await v12('one', 'gradebook', '/classes/no-such-class/categories');
    expect(res.status).toBe(404);
    expectValid(statusInfoSchemas.v1p2, res.body, 'error');
    expect(res.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('unknownobject');
    expect(paths('one')).toEqual(['/v1p1/classes/no-such-class/lineItems']);
  });

  it('adds categories the district ties to the class, even with no line item using them', async () => {
    const classes = await classesWithCategories('one');
    const [classId, otherId] = [...classes.keys()] as [string, string];
    const expected = classes.get(classId)!;
    const put = (id: string, owner: string) =>
      stack.http
        .put(`/districts/one/ims/oneroster/v1p1/categories/${id}`)
        .set(auth())
        .send({ category: { sourcedId: id, status: 'active', title: `Labs ${owner}`, metadata: { class: { href: `${sandbox('one').baseUrl}/v1p1/classes/${owner}`, sourcedId: owner, type: 'class' } } } });
    expect((await put('cat-tied-mine', classId)).status).toBe(201);
    expect((await put('cat-tied-other', otherId)).status).toBe(201);

    const res = await v12('one', 'gradebook', `/classes/${classId}/categories?limit=50`);
    expect(res.status).toBe(200);
    expect(ids(res.body.categories)).toEqual([...expected, 'cat-tied-mine'].sort());
    const tied = res.body.categories.find((c: Rec) => c.sourcedId === 'cat-tied-mine');
    expect(tied.metadata.class.sourcedId).toBe(classId);
    // The vendor's href is re-rooted at the gateway like every other.
    expect(res.text).not.toContain(new URL(sandbox('one').baseUrl).host);
    expect(tied.metadata.class.href).toContain('/districts/one/ims/oneroster/');
  });

  it('derives again after a line item of the class is written or deleted (cache tags)', async () => {
    const classes = await classesWithCategories('one');
    // Not one of the first two classes: the test above ties categories to those.
    const [classId, before] = [...classes].slice(2).find(([, cats]) => cats.length === 3 && !cats.includes('cat-05'))!;
    const base = `/classes/${classId}/categories?fields=sourcedId`;
    expect(ids((await v12('one', 'gradebook', base)).body.categories)).toEqual(before);
    expect((await v12('one', 'gradebook', base)).headers['x-cache']).toBe('HIT');
    const li = {
      lineItem: {
        sourcedId: 'li-derived-1', title: 'Lab report', assignDate: '2025-01-06T08:00:00.000Z', dueDate: '2025-01-10T23:59:00.000Z',
        resultValueMin: 0, resultValueMax: 10, class: { sourcedId: classId }, category: { sourcedId: 'cat-05' }, school: { sourcedId: 'unused' },
      },
    };
    const gb = `/districts/one/ims/oneroster/gradebook/v1p2`;
    expect((await stack.http.put(`${gb}/lineItems/li-derived-1`).set(auth()).send(li)).status).toBe(201);
    const after = await v12('one', 'gradebook', base);
    expect(after.headers['x-cache']).not.toBe('HIT');
    expect(ids(after.body.categories)).toEqual([...before, 'cat-05'].sort());
    expect((await stack.http.delete(`${gb}/lineItems/li-derived-1`).set(auth())).status).toBe(204);
    expect(ids((await v12('one', 'gradebook', base)).body.categories)).toEqual(before);
  });

  it('fetches missing categories one by one when that costs the district fewer requests than the rest of the collection', async () => {
    const classes = await classesWithCategories('clamped');
    // Three categories, two in the first clamped page: one missing, two pages left.
    const [classId, expected] = [...classes].find(([, cats]) => cats.length === 3)!;
    const firstPage = ['cat-01', 'cat-02'];
    const missing = expected.filter((c) => !firstPage.includes(c));
    expect(missing).toHaveLength(1);
    sandbox('clamped').resetHits();
    const res = await v12('clamped', 'gradebook', `/classes/${classId}/categories`);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(ids(res.body.categories)).toEqual(expected);
    const hits = paths('clamped');
    expect(hits.filter((p) => p === '/v1p1/categories')).toHaveLength(1);
    expect(hits.filter((p) => p.startsWith('/v1p1/categories/'))).toEqual([`/v1p1/categories/${missing[0]}`]);
    // Line items in pages of two, then one collection page, then the one missing category.
    const itemPages = hits.filter((p) => p.endsWith('/lineItems')).length;
    expect(itemPages).toBeGreaterThanOrEqual(2);
    expect(hits).toHaveLength(itemPages + 2);
  });
});

describe('GET /users/{id}/resources on a 1.1 district', () => {
  it("answers the resources of the user's classes and their courses, each once, in 1.2 shape", async () => {
    const enrollments: Rec[] = (await v11('one', "/enrollments?filter=role%3D'student'&limit=200")).body.enrollments;
    // A student with several classes, some of which (or whose courses) have resources.
    let userId = '';
    let classes: Rec[] = [];
    let expected: string[] = [];
    for (const e of enrollments) {
      classes = (await v11('one', `/users/${e.user.sourcedId}/classes?limit=1000`)).body.classes;
      const courseIds = [...new Set(classes.map((c) => c.course.sourcedId as string))];
      const lists = await Promise.all([
        ...classes.map((c) => v11('one', `/classes/${c.sourcedId}/resources?limit=1000`)),
        ...courseIds.map((c) => v11('one', `/courses/${c}/resources?limit=1000`)),
      ]);
      expected = [...new Set(lists.flatMap((l) => ids(l.body.resources)))].sort();
      if (classes.length >= 2 && expected.length >= 2) {
        userId = e.user.sourcedId;
        break;
      }
    }
    expect(userId).not.toBe('');
    const courses = new Set(classes.map((c) => c.course.sourcedId));

    sandbox('one').resetHits();
    const res = await v12('one', 'resources', `/users/${userId}/resources`);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expectValid(collectionPayload('v1p2', 'resources', 'resources'), res.body, 'derived resources');
    expect(ids(res.body.resources)).toEqual(expected);
    expect(res.headers['x-total-count']).toBe(String(expected.length));
    // One request for the classes, one per class and one per course: nothing else.
    const hits = paths('one');
    expect(hits[0]).toBe(`/v1p1/users/${userId}/classes`);
    expect(hits.slice(1).sort()).toEqual(
      [...classes.map((c) => `/v1p1/classes/${c.sourcedId}/resources`), ...[...courses].map((c) => `/v1p1/courses/${c}/resources`)].sort(),
    );

    const page = await v12('one', 'resources', `/users/${userId}/resources?limit=1&offset=1&fields=sourcedId,title`);
    expect(page.body.resources).toEqual([{ sourcedId: expected[1], title: expect.any(String) }]);
    expect(page.headers['x-total-count']).toBe(String(expected.length));
    expect(page.headers.link).toContain('rel="next"');
  });

  it('answers 404 for an unknown user, and 200 with none for a user with no classes', async () => {
    sandbox('one').resetHits();
    const res = await v12('one', 'resources', '/users/no-such-user/resources');
    expect(res.status).toBe(404);
    expectValid(statusInfoSchemas.v1p2, res.body, 'error');
    expect(paths('one')).toEqual(['/v1p1/users/no-such-user/classes', '/v1p1/users/no-such-user']);
    // An administrator has no classes.
    const admin = (await v11('one', "/users?filter=role%3D'administrator'&limit=1")).body.users[0];
    const none = await v12('one', 'resources', `/users/${admin.sourcedId}/resources`);
    expect(none.status).toBe(200);
    expect(none.body.resources).toEqual([]);
    expect(none.headers['x-total-count']).toBe('0');
  });
});

describe('bounds and what stays 501', () => {
  it("refuses a derivation that would pass the district's request bound before sending the reads past it", async () => {
    const enrollment = (await v11('tight', "/enrollments?filter=role%3D'student'&limit=1")).body.enrollments[0];
    sandbox('tight').resetHits();
    const res = await v12('tight', 'resources', `/users/${enrollment.user.sourcedId}/resources`);
    expect(res.status).toBe(502);
    expectValid(statusInfoSchemas.v1p2, res.body, 'error');
    expect(res.body.imsx_description).toMatch(/more than 2 requests/);
    expect(paths('tight')).toEqual([`/v1p1/users/${enrollment.user.sourcedId}/classes`]);
    // Two requests are enough for a class's categories.
    const classId = [...(await classesWithCategories('tight')).keys()][0];
    expect((await v12('tight', 'gradebook', `/classes/${classId}/categories`)).status).toBe(200);
  });

  it('keeps 501 for 1.2 data a 1.1 district does not have, with no upstream request', async () => {
    const classId = [...(await classesWithCategories('one')).keys()][0];
    const school = (await v11('one', `/classes/${classId}`)).body.class.school.sourcedId;
    sandbox('one').resetHits();
    for (const path of ['/scoreScales', '/scoreScales/x', `/classes/${classId}/scoreScales`, `/schools/${school}/scoreScales`, '/assessmentLineItems', '/assessmentResults/x']) {
      const res = await v12('one', 'gradebook', path);
      expect(res.status, path).toBe(501);
      expectValid(statusInfoSchemas.v1p2, res.body, 'error');
    }
    expect(sandbox('one').hitCount()).toBe(0);
    // ...while the derivable ones are answered.
    expect((await v12('one', 'gradebook', `/classes/${classId}/categories?limit=7`)).status).toBe(200);
  });
});
