// The two renderings of the same data, the route wrappers, 404 behaviour and the data set.

import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSandbox } from '../../src/sandbox/testing.js';
import { call, root, startBearer, TOKEN } from './helpers.js';

let v11: TestSandbox;
let v12: TestSandbox;

beforeAll(async () => {
  [v11, v12] = await Promise.all([startBearer({ version: 'v1p1' }), startBearer({ version: 'v1p2' })]);
});
afterAll(() => Promise.all([v11.close(), v12.close()]));

type U = Record<string, any>; // test assertions walk arbitrary JSON
const GUIDREF = { href: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/ims\/oneroster\//), sourcedId: expect.any(String), type: expect.any(String) };

describe('users in each version', () => {
  it('1.1 users have role and orgs[], no roles', async () => {
    const { body } = await call(`${root(v11)}/users?limit=1000`);
    for (const u of body.users as U[]) {
      expect(typeof u.role).toBe('string');
      expect(u.orgs.length).toBeGreaterThan(0);
      expect(u.roles).toBeUndefined();
      expect(u.primaryOrg).toBeUndefined();
      expect(['true', 'false']).toContain(u.enabledUser);
    }
    expect(new Set((body.users as U[]).map((u) => u.role))).toEqual(new Set(['student', 'teacher', 'administrator', 'parent', 'guardian']));
  });

  it('1.2 users have roles[] and primaryOrg, no role or orgs, and no administrator role', async () => {
    const { body } = await call(`${root(v12)}/users?limit=1000`);
    const roles = new Set<string>();
    for (const u of body.users as U[]) {
      expect(u.role).toBeUndefined();
      expect(u.orgs).toBeUndefined();
      expect(u.primaryOrg).toEqual(GUIDREF);
      for (const r of u.roles) {
        expect(r).toEqual({ roleType: 'primary', role: expect.any(String), org: { ...GUIDREF, type: 'org' } });
        roles.add(r.role);
      }
    }
    expect(roles.has('administrator')).toBe(false);
    expect(roles.has('districtAdministrator') || roles.has('siteAdministrator')).toBe(true);
  });

  it('maps a district administrator and a school administrator differently in 1.2', async () => {
    const admins = v12.store.list('users').filter((u) => u.role === 'administrator');
    for (const a of admins) {
      const { body } = await call(`${root(v12)}/users/${a.sourcedId}`);
      const expected = a.orgIds[0] === 'org-d1' ? 'districtAdministrator' : 'siteAdministrator';
      expect(body.user.roles[0].role).toBe(expected);
    }
  });

  it('includes about 2% tobedeleted users and enrollments', async () => {
    const deleted = v11.store.list('users').filter((u) => u.status === 'tobedeleted');
    expect(deleted.length).toBe(10);
    const { body } = await call(`${root(v11)}/users/${deleted[0]?.sourcedId}`);
    expect(body.user.status).toBe('tobedeleted');
    const enrollments = v11.store.list('enrollments');
    const share = enrollments.filter((e) => e.status === 'tobedeleted').length / enrollments.length;
    expect(share).toBeGreaterThan(0.015);
    expect(share).toBeLessThan(0.025);
  });
});

describe('GUIDRefs', () => {
  it('uses the 1.1 vocabulary (term, gradingPeriod, student) where it applies', async () => {
    const cls = (await call(`${root(v11)}/classes/cls-001`)).body.class;
    expect(cls.terms[0]).toEqual({ ...GUIDREF, type: 'term' });
    expect(cls.terms[0].href).toContain('/v1p1/terms/');
    const li = (await call(`${root(v11)}/lineItems?limit=1`)).body.lineItems[0];
    expect(li.gradingPeriod.type).toBe('gradingPeriod');
    expect(li.school).toBeUndefined();
    const result = (await call(`${root(v11)}/results?limit=1`)).body.results[0];
    expect(result.student.type).toBe('student');
    expect(typeof result.score).toBe('number');
  });

  it('uses the fixed 1.2 types and per-service hrefs', async () => {
    const cls = (await call(`${root(v12)}/classes/cls-001`)).body.class;
    expect(cls.terms[0].type).toBe('academicSession');
    const li = (await call(`${root(v12, 'gradebook')}/lineItems?limit=1`)).body.lineItems[0];
    expect(li.school).toEqual({ ...GUIDREF, type: 'org' });
    expect(li.academicSession.type).toBe('academicSession');
    expect(li.category.href).toContain('/gradebook/v1p2/categories/');
    expect(li.school.href).toContain('/rostering/v1p2/orgs/');
  });

  it('hrefs resolve to the referenced record', async () => {
    const enrollment = (await call(`${root(v12)}/enrollments?limit=1`)).body.enrollments[0];
    for (const key of ['user', 'class', 'school']) {
      const got = await call(enrollment[key].href);
      expect(got.status).toBe(200);
      expect(Object.values(got.body as U)[0].sourcedId).toBe(enrollment[key].sourcedId);
    }
  });
});

describe('gradebook and resource shapes', () => {
  it('1.2 categories have weight; 1.1 categories do not', async () => {
    expect((await call(`${root(v12, 'gradebook')}/categories/cat-01`)).body.category.weight).toBe(0.2);
    expect((await call(`${root(v11)}/categories/cat-01`)).body.category).not.toHaveProperty('weight');
  });

  it('results carry spaced scoreStatus values and 1.2 extras', async () => {
    const { body } = await call(`${root(v12, 'gradebook')}/results?limit=5000`);
    const statuses = new Set((body.results as U[]).map((r) => r.scoreStatus));
    expect(statuses.has('fully graded')).toBe(true);
    expect(statuses.has('not submitted')).toBe(true);
    expect(body.results[0]).toMatchObject({ class: { type: 'class' }, late: expect.stringMatching(/^(true|false)$/) });
  });

  it('1.2 serves score scales and assessments; 1.1 does not', async () => {
    expect((await call(`${root(v12, 'gradebook')}/scoreScales`)).body.scoreScales.length).toBeGreaterThan(0);
    expect((await call(`${root(v12, 'gradebook')}/assessmentLineItems`)).body.assessmentLineItems).toHaveLength(3);
    expect((await call(`${root(v12, 'gradebook')}/assessmentResults`)).headers.get('x-total-count')).toBe('90');
    expect((await call(`${root(v11)}/scoreScales`)).status).toBe(404);
  });

  it('serves resources and their nested routes', async () => {
    expect((await call(`${root(v12, 'resources')}/resources`)).body.resources).toHaveLength(6);
    const course = v12.store.list('courses').find((c) => c.resourceIds.length > 0);
    const got = await call(`${root(v12, 'resources')}/courses/${course?.sourcedId}/resources`);
    expect(got.body.resources.map((r: U) => r.sourcedId)).toEqual(course?.resourceIds);
    expect((await call(`${root(v12, 'resources')}/courses/nope/resources`)).status).toBe(404);
    expect((await call(`${root(v11)}/classes/cls-001/resources`)).status).toBe(200);
  });
});

describe('wrappers of filtered routes', () => {
  it.each([
    ['students', 'users', (r: U) => r.role === 'student'],
    ['teachers', 'users', (r: U) => r.role === 'teacher'],
    ['schools', 'orgs', (r: U) => r.type === 'school'],
    ['terms', 'academicSessions', (r: U) => r.type === 'term'],
    ['gradingPeriods', 'academicSessions', (r: U) => r.type === 'gradingPeriod'],
  ])('/%s answers {%s: [...]} with only matching records', async (path, wrapper, pred) => {
    const got = await call(`${root(v11)}/${path}?limit=1000`);
    expect(Object.keys(got.body)).toEqual([wrapper]);
    expect(got.body[wrapper].length).toBeGreaterThan(0);
    expect(got.body[wrapper].every(pred)).toBe(true);
  });

  it('single routes use the singular wrapper and check the kind', async () => {
    expect(Object.keys((await call(`${root(v12)}/schools/org-s1`)).body)).toEqual(['org']);
    expect((await call(`${root(v12)}/schools/org-d1`)).status).toBe(404);
    expect(Object.keys((await call(`${root(v12)}/terms/as-2025-t1`)).body)).toEqual(['academicSession']);
    expect((await call(`${root(v12)}/terms/as-2025-gp1`)).status).toBe(404);
  });

  it('single demographics use the `demographics` wrapper and the user’s sourcedId', async () => {
    const student = v12.store.list('users').find((u) => u.role === 'student');
    const got = await call(`${root(v12)}/demographics/${student?.sourcedId}`);
    expect(Object.keys(got.body)).toEqual(['demographics']);
    expect(got.body.demographics).toMatchObject({ sourcedId: student?.sourcedId, sex: expect.stringMatching(/male|female/), white: expect.stringMatching(/^(true|false)$/) });
  });
});

describe('nested routes', () => {
  it('/classes/{id}/students lists the live student enrollments', async () => {
    const expected = v11.store.list('enrollments')
      .filter((e) => e.classId === 'cls-003' && e.role === 'student' && e.status === 'active').map((e) => e.userId).sort();
    const got = await call(`${root(v11)}/classes/cls-003/students?limit=1000`);
    expect(got.body.users.map((u: U) => u.sourcedId)).toEqual(expected);
    expect(got.headers.get('x-total-count')).toBe(String(expected.length));
  });

  it('/schools/{s}/classes/{c}/enrollments needs the class to be in that school', async () => {
    const cls = v12.store.get('classes', 'cls-001');
    const inSchool = await call(`${root(v12)}/schools/${cls?.schoolId}/classes/cls-001/enrollments`);
    expect(inSchool.body.enrollments.length).toBeGreaterThan(0);
    const other = v12.store.list('orgs').find((o) => o.type === 'school' && o.sourcedId !== cls?.schoolId);
    expect((await call(`${root(v12)}/schools/${other?.sourcedId}/classes/cls-001/enrollments`)).body.enrollments).toEqual([]);
  });

  it('/terms/{id}/gradingPeriods and /users/{id}/classes', async () => {
    const gps = (await call(`${root(v12)}/terms/as-2025-t2/gradingPeriods`)).body.academicSessions;
    expect(gps.map((s: U) => s.sourcedId)).toEqual(['as-2025-gp3', 'as-2025-gp4']);
    const student = v12.store.list('users').find((u) => u.role === 'student' && u.status === 'active');
    const classes = (await call(`${root(v12)}/students/${student?.sourcedId}/classes`)).body.classes;
    expect(classes.length).toBeGreaterThan(0);
    expect(classes.length).toBeLessThanOrEqual(6);
  });

  it('rostering nested routes answer 200 [] for an unknown parent', async () => {
    const got = await call(`${root(v12)}/classes/no-such-class/students`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ users: [] });
    expect(got.headers.get('x-total-count')).toBe('0');
  });

  it('gradebook nested routes answer 404 for an unknown parent', async () => {
    const got = await call(`${root(v12, 'gradebook')}/classes/no-such-class/lineItems`);
    expect(got.status).toBe(404);
    expect(got.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('unknownobject');
    const got11 = await call(`${root(v11)}/classes/cls-001/students/no-such-user/results`);
    expect(got11.status).toBe(404);
  });
});

describe('errors and routing', () => {
  it('unknown objects: 1.1 statusInfoSet with "unknown object", 1.2 imsx_CodeMinor "unknownobject"', async () => {
    const got11 = await call(`${root(v11)}/users/nobody`);
    expect(got11.status).toBe(404);
    expect(got11.body.statusInfoSet[0]).toMatchObject({ imsx_codeMajor: 'failure', imsx_severity: 'error', imsx_codeMinor: 'unknown object' });
    const got12 = await call(`${root(v12)}/users/nobody`);
    expect(got12.body).toMatchObject({
      imsx_codeMajor: 'failure', imsx_severity: 'error',
      imsx_CodeMinor: { imsx_codeMinorField: [{ imsx_codeMinorFieldName: 'TargetEndSystem', imsx_codeMinorFieldValue: 'unknownobject' }] },
    });
  });

  it('each version serves only its own base paths', async () => {
    expect((await call(`${v11.baseUrl}/rostering/v1p2/users`)).status).toBe(404);
    expect((await call(`${v12.baseUrl}/v1p1/users`)).status).toBe(404);
    expect((await call(`${root(v12)}/categories`)).status).toBe(404); // gradebook lives elsewhere in 1.2
    expect((await call(`${root(v12)}/users/`)).status).toBe(404); // no trailing-slash forgiveness
    expect((await call(`${root(v12)}/classes/cls-001/enrollments`)).status).toBe(404); // not a OneRoster route
  });

  it('answers 405 with Allow for a known path and the wrong method', async () => {
    const got = await call(`${root(v11)}/users/usr-00001`, { method: 'DELETE' });
    expect(got.status).toBe(405);
    expect(got.headers.get('allow')).toBe('GET');
  });

  it('ignores GET bodies', async () => {
    // fetch refuses GET bodies, so send one with node:http (with a length: Node sends GET bodies unframed otherwise).
    const body = '{"not": "json';
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': String(body.length) };
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${root(v11)}/orgs`, { method: 'GET', headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(200);
  });
});

describe('data set', () => {
  it('is deterministic per seed and differs across seeds', async () => {
    const [a, b, c] = await Promise.all([
      startBearer({ version: 'v1p1', seed: 42, users: 120 }),
      startBearer({ version: 'v1p2', seed: 42, users: 120 }),
      startBearer({ version: 'v1p1', seed: 43, users: 120 }),
    ]);
    try {
      expect(a.store.list('enrollments')).toEqual(b.store.list('enrollments'));
      expect(a.store.list('users')).toEqual(b.store.list('users'));
      expect(a.store.list('users')).not.toEqual(c.store.list('users'));
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('has the promised mix', () => {
    const users = v11.store.list('users');
    const share = (role: string): number => users.filter((u) => u.role === role).length / users.length;
    expect(share('student')).toBeCloseTo(0.88, 2);
    expect(share('teacher')).toBeCloseTo(0.08, 2);
    expect(users.some((u) => (u.role === 'parent' || u.role === 'guardian') && u.agentIds.length > 0)).toBe(true);
    expect(v11.store.list('orgs').filter((o) => o.type === 'school').length).toBeGreaterThanOrEqual(3);
    expect(v11.store.count('courses')).toBeGreaterThanOrEqual(18);
    expect(v11.store.count('courses')).toBeLessThanOrEqual(20);
    expect(v11.store.count('classes')).toBe(2 * v11.store.count('courses'));
    const demo = v11.store.list('demographics');
    expect(demo.length).toBe(users.filter((u) => u.role === 'student').length);
    for (const u of users) expect(u.dateLastModified).toMatch(/^2024-0[6-9]|^2024-1|^2025-0/);
  });

  it('store edits show up in responses with a fresh dateLastModified', async () => {
    let clock = Date.UTC(2026, 0, 2, 3, 4, 5);
    const sb = await startBearer({ version: 'v1p2', users: 30, now: () => clock });
    try {
      sb.store.update('users', 'usr-00001', { givenName: 'Renamed' });
      let got = await call(`${root(sb)}/users/usr-00001`);
      expect(got.body.user).toMatchObject({ givenName: 'Renamed', dateLastModified: '2026-01-02T03:04:05.000Z' });
      clock += 1000;
      sb.store.markToBeDeleted('users', 'usr-00001');
      got = await call(`${root(sb)}/users?filter=${encodeURIComponent("dateLastModified>'2026-01-01'")}`);
      expect(got.body.users).toEqual([expect.objectContaining({ sourcedId: 'usr-00001', status: 'tobedeleted', dateLastModified: '2026-01-02T03:04:06.000Z' })]);
      expect(sb.store.remove('users', 'usr-00001')).toBe(true);
      expect((await call(`${root(sb)}/users/usr-00001`)).status).toBe(404);
      expect(() => sb.store.update('users', 'usr-00001', { givenName: 'x' })).toThrow();
    } finally {
      await sb.close();
    }
  });
});
