// Every OneRoster GET endpoint of both versions, read through the gateway from a 1.1 and a
// 1.2 district: the answer has the shape of the path's version (strict schemas written from
// the reference, test/support), whatever the district speaks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENDPOINTS, type Endpoint, type Version } from '../../src/core/oneroster/endpoints.js';
import { entityOfWrapper } from '../../src/core/oneroster/model.js';
import { SCOPES } from '../../src/core/oneroster/scopes.js';
import { collectionPayload, expectValid, singlePayload, statusInfoSchemas, type EntityName } from '../support/oneroster-schemas.js';
import { bearerSandbox, oauth1Sandbox, oauth2Sandbox, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let token: string;
const DISTRICTS = { one: 'v1p1', two: 'v1p2' } as const;
type DistrictId = keyof typeof DISTRICTS;

beforeAll(async () => {
  stack = await startStack({
    districts: [
      { id: 'one', sandbox: oauth1Sandbox() },
      { id: 'two', sandbox: oauth2Sandbox() },
    ],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: [...SCOPES] }],
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

const root = (version: Version, service: string) => (version === 'v1p1' ? '/v1p1' : `/${service}/v1p2`);
const get = (district: DistrictId, version: Version, service: string, rest: string) =>
  stack.http.get(`/districts/${district}/ims/oneroster${root(version, service)}${rest}`).set('authorization', `Bearer ${token}`);

const withResources = (res: { body: Record<string, Array<{ sourcedId: string; resources?: unknown[] }>> }, wrapper: string) =>
  res.body[wrapper]!.find((r) => (r.resources ?? []).length > 0)!.sourcedId;

/** Ids that make every nested route non-empty, read from the district in its own version. */
async function idsOf(district: DistrictId): Promise<Record<string, string>> {
  const v = DISTRICTS[district];
  const first = async (service: string, rest: string, wrapper: string) => (await get(district, v, service, rest)).body[wrapper][0];
  const enrollment = await first('rostering', "/enrollments?filter=role%3D'student'&limit=1", 'enrollments');
  const teaching = await first('rostering', "/enrollments?filter=role%3D'teacher'&limit=1", 'enrollments');
  const klass = (await get(district, v, 'rostering', `/classes/${enrollment.class.sourcedId}`)).body.class;
  const result = await first('gradebook', '/results?limit=1', 'results');
  const lineItem = (await get(district, v, 'gradebook', `/lineItems/${result.lineItem.sourcedId}`)).body.lineItem;
  const ids: Record<string, string> = {
    classes: klass.sourcedId,
    schools: klass.school.sourcedId,
    students: enrollment.user.sourcedId,
    teachers: teaching.user.sourcedId,
    users: enrollment.user.sourcedId,
    terms: klass.terms[0].sourcedId,
    courses: klass.course.sourcedId,
    orgs: klass.school.sourcedId,
    enrollments: enrollment.sourcedId,
    lineItems: lineItem.sourcedId,
    results: result.sourcedId,
    resultClass: lineItem.class.sourcedId,
    resultStudent: result.student.sourcedId,
    academicSessions: klass.terms[0].sourcedId,
    demographics: enrollment.user.sourcedId,
    categories: lineItem.category.sourcedId,
    resources: (await first('resources', '/resources?limit=1', 'resources')).sourcedId,
    resourceCourse: withResources(await get(district, v, 'rostering', '/courses?limit=1000'), 'courses'),
    resourceClass: withResources(await get(district, v, 'rostering', '/classes?limit=1000'), 'classes'),
    gradingPeriods: (await first('rostering', '/gradingPeriods?limit=1', 'academicSessions')).sourcedId,
  };
  if (v === 'v1p2') {
    ids.scoreScales = (await first('gradebook', '/scoreScales?limit=1', 'scoreScales')).sourcedId;
    ids.assessmentLineItems = (await first('gradebook', '/assessmentLineItems?limit=1', 'assessmentLineItems')).sourcedId;
    ids.assessmentResults = (await first('gradebook', '/assessmentResults?limit=1', 'assessmentResults')).sourcedId;
  }
  return ids;
}

/** The endpoint's path with real ids; the gradebook routes below a class use a class and student that have results. */
function pathFor(ep: Endpoint, ids: Record<string, string>): string {
  const segs = ep.segments.map((s, i) => {
    if (s !== '{id}') return s;
    const owner = ep.segments[i - 1]!;
    const gradebookNested = ep.template.startsWith('/classes/{id}/') && /results$/.test(ep.template);
    if (gradebookNested && owner === 'classes') return ids.resultClass!;
    if (gradebookNested && owner === 'students') return ids.resultStudent!;
    if (ep.template === '/classes/{id}/lineItems/{id}/results' && owner === 'lineItems') return ids.lineItems!;
    if (ep.template === '/courses/{id}/resources') return ids.resourceCourse!;
    if (ep.template === '/classes/{id}/resources') return ids.resourceClass!;
    return ids[owner] ?? 'unknown-id';
  });
  return `/${segs.join('/')}`;
}

const reads = (version: Version) => ENDPOINTS.filter((e) => e.method === 'GET' && e.versions.includes(version));
// Nested routes whose sandbox data may legitimately be empty for the chosen ids.
const MAY_BE_EMPTY = new Set(['/classes/{id}/categories', '/classes/{id}/scoreScales', '/schools/{id}/scoreScales', '/users/{id}/resources', '/terms/{id}/gradingPeriods']);

describe.each([
  ['v1p2', 'one'],
  ['v1p1', 'two'],
  ['v1p1', 'one'],
  ['v1p2', 'two'],
] as const)('%s paths over district %s', (version, district) => {
  let ids: Record<string, string>;
  beforeAll(async () => {
    ids = await idsOf(district);
  });

  it.each(reads(version).map((e) => [e.template, e] as const))('GET %s', async (_t, ep) => {
    const res = await get(district, version, ep.service, pathFor(ep, ids) + (ep.kind === 'collection' ? '?limit=1000' : ''));
    const entity = entityOfWrapper(ep.wrapper) as EntityName;
    if (!ep.versions.includes(DISTRICTS[district]) && !ep.derivedOn?.includes(DISTRICTS[district])) {
      // 1.2-only data (score scales, assessments) on a 1.1 district; class categories and a
      // user's resources are derived from 1.1 data instead (test/gateway/derived-routes.test.ts).
      expect(res.status).toBe(501);
      expectValid(statusInfoSchemas[version], res.body, 'error');
      return;
    }
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    if (ep.kind === 'collection') {
      expectValid(collectionPayload(version, entity as never, ep.wrapper), res.body, ep.template);
      if (!MAY_BE_EMPTY.has(ep.template)) expect(res.body[ep.wrapper].length, ep.template).toBeGreaterThan(0);
    } else {
      expectValid(singlePayload(version, entity as never, ep.wrapper), res.body, ep.template);
    }
    // Every href leads back to the gateway, in the caller's version.
    for (const href of res.text.match(/"href":"[^"]+"/g) ?? []) {
      expect(href).toContain(`/districts/${district}/ims/oneroster${version === 'v1p1' ? '/v1p1/' : '/'}`);
      if (version === 'v1p2') expect(href).toMatch(/\/(rostering|gradebook|resources)\/v1p2\//);
    }
  });
});

describe('across versions', () => {
  it('re-emits a district error in the path version shape, whatever shape the district used', async () => {
    // The 1.1 sandbox answers a flat-string imsx_codeMinor, as many 1.1 servers do.
    const fromV11 = await get('one', 'v1p2', 'rostering', '/users/nobody-here');
    expect(fromV11.status).toBe(404);
    expectValid(statusInfoSchemas.v1p2, fromV11.body, 'error');
    expect(fromV11.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('unknownobject');
    const fromV12 = await get('two', 'v1p1', 'rostering', '/users/nobody-here');
    expect(fromV12.status).toBe(404);
    expectValid(statusInfoSchemas.v1p1, fromV12.body, 'error');
    expect(fromV12.body.statusInfoSet[0].imsx_codeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('unknown object');
  });

  it('gives the same people in either version: names, orgs and roles agree', async () => {
    for (const district of ['one', 'two'] as const) {
      const v11 = (await get(district, 'v1p1', 'rostering', '/users?limit=1000')).body.users;
      const v12 = (await get(district, 'v1p2', 'rostering', '/users?limit=1000')).body.users;
      expect(v12.map((u: { sourcedId: string }) => u.sourcedId)).toEqual(v11.map((u: { sourcedId: string }) => u.sourcedId));
      v11.forEach((u: Record<string, any>, i: number) => {
        const w = v12[i];
        expect(w.givenName).toBe(u.givenName);
        expect(w.roles.map((r: any) => r.org.sourcedId).sort()).toEqual(u.orgs.map((o: any) => o.sourcedId).sort());
        const roles = new Set(w.roles.map((r: any) => (/administrator|principal|counselor/i.test(r.role) ? 'administrator' : r.role)));
        expect([...roles]).toEqual([u.role]);
      });
    }
  });

  it('translates filters both ways, and evaluates at the gateway what the district cannot be asked', async () => {
    const one = stack.sandboxes.one!;
    const teachers11 = (await get('one', 'v1p1', 'rostering', "/users?filter=role%3D'teacher'&limit=1000")).body.users;
    one.resetHits();
    const teachers12 = await get('one', 'v1p2', 'rostering', "/users?filter=roles.role%3D'teacher'&limit=1000");
    expect(teachers12.body.users.map((u: any) => u.sourcedId)).toEqual(teachers11.map((u: any) => u.sourcedId));
    expect(one.hitCount()).toBe(1); // forwarded as role='teacher': one upstream page

    // primaryOrg exists only in 1.2: the gateway narrows by orgs.sourcedId upstream and filters itself.
    const school = teachers11[0].orgs[0].sourcedId;
    const byPrimary = await get('one', 'v1p2', 'rostering', `/users?filter=primaryOrg.sourcedId%3D'${school}'&limit=5&offset=1`);
    expect(byPrimary.status).toBe(200);
    const all = (await get('one', 'v1p1', 'rostering', `/users?filter=orgs.sourcedId%3D'${school}'&limit=1000`)).body.users;
    const expected = all.filter((u: any) => u.orgs[0].sourcedId === school).map((u: any) => u.sourcedId);
    expect(byPrimary.headers['x-total-count']).toBe(String(expected.length));
    expect(byPrimary.body.users.map((u: any) => u.sourcedId)).toEqual(expected.slice(1, 6));
    expect(byPrimary.headers.link).toContain('offset=');
    // A name that ends at a GUIDRef means its sourcedId, as a district reads it.
    const byRef = await get('one', 'v1p2', 'rostering', `/users?filter=primaryOrg%3D'${school}'&limit=5&offset=1`);
    expect(byRef.headers['x-total-count']).toBe(String(expected.length));
    expect(byRef.body.users.map((u: any) => u.sourcedId)).toEqual(expected.slice(1, 6));

    // A 1.2 district has no single role field: 1.1 role='administrator' is evaluated here.
    const admins = await get('two', 'v1p1', 'rostering', "/users?filter=role%3D'administrator'&limit=1000");
    expect(admins.status).toBe(200);
    expect(admins.body.users.length).toBeGreaterThan(0);
    expect(admins.body.users.every((u: any) => u.role === 'administrator')).toBe(true);
    const everyone = (await get('two', 'v1p1', 'rostering', '/users?limit=1000')).body.users;
    expect(admins.body.users.length).toBe(everyone.filter((u: any) => u.role === 'administrator').length);

    // Sorting on a field only the caller's version has.
    const sorted = await get('one', 'v1p2', 'rostering', '/users?sort=roles.role&orderBy=desc&limit=1000');
    const roles = sorted.body.users.map((u: any) => u.roles[0]?.role ?? '');
    expect(roles).toEqual([...roles].sort().reverse());
  });

  it('refuses a filter on a field the path version does not have, before any upstream call', async () => {
    const one = stack.sandboxes.one!;
    one.resetHits();
    const res = await get('one', 'v1p2', 'rostering', "/users?filter=role%3D'teacher'");
    expect(res.status).toBe(400);
    expect(res.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('invalid_filter_field');
    const syntax = await get('one', 'v1p1', 'rostering', "/users?filter=givenName%3D%3D'x'");
    expect(syntax.status).toBe(400);
    expect(one.hitCount()).toBe(0);
  });

  it('projects fields by the path version names', async () => {
    const res = await get('one', 'v1p2', 'rostering', '/users?fields=sourcedId,roles&limit=2');
    expect(Object.keys(res.body.users[0]).sort()).toEqual(['roles', 'sourcedId']);
    const bad = await get('one', 'v1p2', 'rostering', '/users?fields=role');
    expect(bad.status).toBe(400);
  });

  it('translates a gradebook PUT into the district version and the answer back', async () => {
    const one = stack.sandboxes.one!;
    const li = (await get('one', 'v1p2', 'gradebook', '/lineItems?limit=1')).body.lineItems[0];
    expect(li.school.type).toBe('org'); // looked up from the class, as 1.2 requires
    const body = { lineItem: { ...li, sourcedId: 'li-bridge', title: 'Bridged', academicSession: li.gradingPeriod, gradingPeriod: undefined } };
    const put = await stack.http
      .put('/districts/one/ims/oneroster/gradebook/v1p2/lineItems/li-bridge')
      .set('authorization', `Bearer ${token}`)
      .send(body);
    expect([200, 201]).toContain(put.status);
    // Stored by the 1.1 district in 1.1 shape: the session became gradingPeriod, school is gone.
    const stored = (await get('one', 'v1p1', 'gradebook', '/lineItems/li-bridge')).body.lineItem;
    expectValid(singlePayload('v1p1', 'lineItems', 'lineItem'), { lineItem: stored }, 'stored');
    expect(stored.gradingPeriod.sourcedId).toBe(li.gradingPeriod.sourcedId);
    expect(stored.title).toBe('Bridged');
    expect(one.hitCount()).toBeGreaterThan(0);
  });
});

describe('cache and writes across versions', () => {
  it('caches the mapped page: a repeated read in the other version is a hit with no upstream call', async () => {
    const two = stack.sandboxes.two!;
    const first = await get('two', 'v1p1', 'rostering', '/classes?limit=7&offset=3');
    expect(first.headers['x-cache']).toBe('MISS');
    two.resetHits();
    const again = await get('two', 'v1p1', 'rostering', '/classes?offset=3&limit=7');
    expect(again.headers['x-cache']).toBe('HIT');
    expect(again.text).toBe(first.text);
    expect(two.hitCount()).toBe(0);
    // The same page in the district's own version is its own entry, in its own shape.
    const own = await get('two', 'v1p2', 'rostering', '/classes?limit=7&offset=3');
    expect(own.headers['x-cache']).toBe('MISS');
    expect(own.body.classes.map((c: any) => c.sourcedId)).toEqual(first.body.classes.map((c: any) => c.sourcedId));
    expect(own.body.classes[0].terms[0].type).toBe('academicSession');
    expect(first.body.classes[0].terms[0].type).toBe('term');
  });

  it.each([
    ['one', 'v1p2'],
    ['two', 'v1p1'],
  ] as const)('PUT and DELETE categories and results on district %s through %s paths', async (district, version) => {
    const auth = { authorization: `Bearer ${token}` };
    const base = `/districts/${district}/ims/oneroster${root(version, 'gradebook')}`;
    const own = DISTRICTS[district];
    const category = (await get(district, version, 'gradebook', '/categories?limit=1')).body.categories[0];
    const put = await stack.http.put(`${base}/categories/cat-bridge`).set(auth).send({ category: { ...category, sourcedId: 'cat-bridge', title: 'Bridged' } });
    expect([200, 201]).toContain(put.status);
    const stored = (await get(district, own, 'gradebook', '/categories/cat-bridge')).body.category;
    expect(stored.title).toBe('Bridged');
    expectValid(singlePayload(own, 'categories', 'category'), { category: stored }, 'stored category');

    const result = (await get(district, version, 'gradebook', '/results?limit=1')).body.results[0];
    const putResult = await stack.http.put(`${base}/results/res-bridge`).set(auth).send({ result: { ...result, sourcedId: 'res-bridge', comment: 'via the bridge' } });
    expect([200, 201]).toContain(putResult.status);
    const storedResult = (await get(district, own, 'gradebook', '/results/res-bridge')).body.result;
    expect(storedResult.comment).toBe('via the bridge');
    expect(storedResult.student.sourcedId).toBe(result.student.sourcedId);
    expectValid(singlePayload(own, 'results', 'result'), { result: storedResult }, 'stored result');
    // Read back through the caller's version: shaped for it.
    expectValid(singlePayload(version, 'results', 'result'), (await get(district, version, 'gradebook', '/results/res-bridge')).body, 'read back');

    for (const path of ['/categories/cat-bridge', '/results/res-bridge']) {
      const del = await stack.http.delete(`${base}${path}`).set(auth);
      expect([200, 204]).toContain(del.status);
      expect((await get(district, version, 'gradebook', path)).status).toBe(404);
    }
  });
});

describe('a district with vendor quirks', () => {
  let quirky: Stack;
  let t: string;
  beforeAll(async () => {
    quirky = await startStack({
      districts: [{ id: 'odd', sandbox: bearerSandbox({ quirks: { vendorWrappers: true, nulls: true, jsonBooleans: true } }) }],
      clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: [...SCOPES] }],
    });
    t = await quirky.token('app', 'app-secret-value');
  });
  afterAll(() => quirky?.close());
  const read = (path: string) => quirky.http.get(`/districts/odd/ims/oneroster${path}`).set('authorization', `Bearer ${t}`);

  it('is really quirky: vendor wrappers, nulls and JSON booleans', async () => {
    const direct = await fetch(`${quirky.sandboxes.odd!.baseUrl}/v1p1/students?limit=1`, { headers: { authorization: 'Bearer classlink-bearer-token-xyz' } });
    const body = (await direct.json()) as { students: Array<Record<string, unknown>> };
    expect(Object.keys(body)).toEqual(['students']);
    expect(body.students[0]!.enabledUser).toBeTypeOf('boolean');
    expect(body.students[0]!.metadata).toBeNull();
  });

  it('answers under the spec wrappers, with nulls dropped and booleans as strings, in 1.2', async () => {
    for (const [path, wrapper, entity] of [
      ['/students', 'users', 'users'],
      ['/teachers', 'users', 'users'],
      ['/terms', 'academicSessions', 'academicSessions'],
      ['/orgs', 'orgs', 'orgs'],
    ] as const) {
      const res = await read(`/rostering/v1p2${path}?limit=1000`);
      expect(res.status, path).toBe(200);
      expectValid(collectionPayload('v1p2', entity, wrapper), res.body, path);
      expect(res.body[wrapper].length).toBeGreaterThan(0);
    }
    const user = (await read('/rostering/v1p2/students?limit=1')).body.users[0];
    expect(user.enabledUser).toMatch(/^(true|false)$/);
    expect(JSON.stringify(user)).not.toContain('null');
  });

  it('puts its own version answers under the spec wrapper too', async () => {
    const res = await read('/v1p1/students?limit=3');
    expect(Object.keys(res.body)).toEqual(['users']);
    expect(res.body.users).toHaveLength(3);
  });
});
