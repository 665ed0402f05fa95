// Proves the OneRoster schema oracle two ways: the sandbox fake servers' output validates against
// the same version's schemas (every GET collection route, every page, plus one single-object
// route each, plus error bodies), and hand-written bad payloads are rejected.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSandbox, SandboxVersion } from '../../src/sandbox/testing.js';
import { call, root, startBearer } from '../sandbox/helpers.js';
import {
  collectionPayload,
  entitySchemas,
  expectValid,
  singlePayload,
  statusInfoSchemas,
  validationIssues,
  type EntityName,
} from './oneroster-schemas.js';

type Service = 'rostering' | 'gradebook' | 'resources';

interface Route {
  path: string;
  service: Service;
  entity: EntityName;
  wrapper: string; // collection wrapper
  single: string; // single-object wrapper
  v1p2Only?: boolean;
}

// Reference §1.2-§1.4: wrappers per route.
const ROUTES: Route[] = [
  { path: 'users', service: 'rostering', entity: 'users', wrapper: 'users', single: 'user' },
  { path: 'students', service: 'rostering', entity: 'users', wrapper: 'users', single: 'user' },
  { path: 'teachers', service: 'rostering', entity: 'users', wrapper: 'users', single: 'user' },
  { path: 'orgs', service: 'rostering', entity: 'orgs', wrapper: 'orgs', single: 'org' },
  { path: 'schools', service: 'rostering', entity: 'orgs', wrapper: 'orgs', single: 'org' },
  { path: 'academicSessions', service: 'rostering', entity: 'academicSessions', wrapper: 'academicSessions', single: 'academicSession' },
  { path: 'terms', service: 'rostering', entity: 'academicSessions', wrapper: 'academicSessions', single: 'academicSession' },
  { path: 'gradingPeriods', service: 'rostering', entity: 'academicSessions', wrapper: 'academicSessions', single: 'academicSession' },
  { path: 'courses', service: 'rostering', entity: 'courses', wrapper: 'courses', single: 'course' },
  { path: 'classes', service: 'rostering', entity: 'classes', wrapper: 'classes', single: 'class' },
  { path: 'enrollments', service: 'rostering', entity: 'enrollments', wrapper: 'enrollments', single: 'enrollment' },
  { path: 'demographics', service: 'rostering', entity: 'demographics', wrapper: 'demographics', single: 'demographics' },
  { path: 'categories', service: 'gradebook', entity: 'categories', wrapper: 'categories', single: 'category' },
  { path: 'lineItems', service: 'gradebook', entity: 'lineItems', wrapper: 'lineItems', single: 'lineItem' },
  { path: 'results', service: 'gradebook', entity: 'results', wrapper: 'results', single: 'result' },
  { path: 'resources', service: 'resources', entity: 'resources', wrapper: 'resources', single: 'resource' },
  { path: 'scoreScales', service: 'gradebook', entity: 'scoreScales', wrapper: 'scoreScales', single: 'scoreScale', v1p2Only: true },
  {
    path: 'assessmentLineItems',
    service: 'gradebook',
    entity: 'assessmentLineItems',
    wrapper: 'assessmentLineItems',
    single: 'assessmentLineItem',
    v1p2Only: true,
  },
  {
    path: 'assessmentResults',
    service: 'gradebook',
    entity: 'assessmentResults',
    wrapper: 'assessmentResults',
    single: 'assessmentResult',
    v1p2Only: true,
  },
];

const MAX_ISSUES = 40;

describe.each(['v1p1', 'v1p2'] as const)('sandbox %s output validates against the same version schemas', (version: SandboxVersion) => {
  let sb: TestSandbox;
  beforeAll(async () => {
    sb = await startBearer({ version });
  });
  afterAll(() => sb.close());

  const routes = ROUTES.filter((r) => version === 'v1p2' || !r.v1p2Only);
  const firstIds = new Map<string, string>();

  it.each(routes.map((r) => [r.path, r] as const))('GET /%s (every page, limit=1000)', async (_name, r) => {
    const schema = collectionPayload(version, r.entity, r.wrapper);
    const issues: string[] = [];
    let next: string | undefined = `${root(sb, r.service)}/${r.path}?limit=1000`;
    let records = 0;
    let pages = 0;
    while (next && issues.length < MAX_ISSUES) {
      const got = await call(next);
      expect(got.status, next).toBe(200);
      pages++;
      for (const line of validationIssues(schema, got.body)) issues.push(`page ${pages}: ${line}`);
      const list = (got.body as Record<string, unknown>)[r.wrapper];
      if (Array.isArray(list)) {
        records += list.length;
        const first = list[0] as { sourcedId?: unknown } | undefined;
        if (pages === 1 && typeof first?.sourcedId === 'string') firstIds.set(r.path, first.sourcedId);
      }
      next = /<([^>]+)>;\s*rel="next"/.exec(got.headers.get('link') ?? '')?.[1];
    }
    expect(issues.slice(0, MAX_ISSUES)).toEqual([]);
    expect(records).toBeGreaterThan(0);
  });

  it.each(routes.map((r) => [r.path, r] as const))('GET /%s/{sourcedId}', async (_name, r) => {
    let id = firstIds.get(r.path);
    if (id === undefined) {
      const list = (await call(`${root(sb, r.service)}/${r.path}?limit=1`)).body?.[r.wrapper] as { sourcedId: string }[] | undefined;
      id = list?.[0]?.sourcedId;
    }
    expect(id, `a ${r.path} record to fetch`).toBeTypeOf('string');
    const got = await call(`${root(sb, r.service)}/${r.path}/${encodeURIComponent(id as string)}`);
    expect(got.status).toBe(200);
    expectValid(singlePayload(version, r.entity, r.single), got.body, `GET /${r.path}/${id}`);
  });

  it("the other version's users schema rejects this version's users", async () => {
    const other = version === 'v1p1' ? 'v1p2' : 'v1p1';
    const got = await call(`${root(sb)}/users?limit=5`);
    expect(validationIssues(collectionPayload(other, 'users', 'users'), got.body)).not.toEqual([]);
    expectValid(collectionPayload(version, 'users', 'users'), got.body);
  });

  const errorCases = [
    ['404 unknown object', '/users/no-such-user-xyz', undefined, 404],
    ['401 bad token', '/users', 'Bearer wrong-token', 401],
    ['400 unknown filter field', '/users?filter=noSuchField%3D%27x%27', undefined, 400],
  ] as const;

  if (version === 'v1p2') {
    it.each(errorCases)('error body: %s matches the 1.2 status-info schema', async (_name, path, authorization, status) => {
      const got = await call(`${root(sb)}${path}`, authorization ? { headers: { authorization } } : {});
      expect(got.status).toBe(status);
      expectValid(statusInfoSchemas.v1p2, got.body, `${status} body`);
    });
  } else {
    // KNOWN SANDBOX DEVIATION (reported, deliberately not loosened): the 1.1 sandbox sends
    // `imsx_codeMinor` as a flat string ("unknown object") instead of the object form
    // {imsx_codeMinorField: [{imsx_codeMinorFieldName, imsx_codeMinorFieldValue}]}. This test pins
    // that exact deviation and proves the rest of the body is right; when the sandbox is fixed it
    // fails, and should become a plain expectValid like the 1.2 case.
    it.each(errorCases)('error body: %s deviates from the 1.1 status-info schema only by a flat imsx_codeMinor', async (_name, path, authorization, status) => {
      const got = await call(`${root(sb)}${path}`, authorization ? { headers: { authorization } } : {});
      expect(got.status).toBe(status);
      const issues = validationIssues(statusInfoSchemas.v1p1, got.body);
      expect(issues.length).toBeGreaterThan(0);
      for (const line of issues) expect(line).toMatch(/^statusInfoSet\[\d+\]\.imsx_codeMinor: .*expected object, received string/);
      const body = got.body as { statusInfoSet: Record<string, unknown>[] };
      const normalized = {
        statusInfoSet: body.statusInfoSet.map((s) => ({
          ...s,
          imsx_codeMinor: { imsx_codeMinorField: [{ imsx_codeMinorFieldName: 'TargetEndSystem', imsx_codeMinorFieldValue: s.imsx_codeMinor }] },
        })),
      };
      expectValid(statusInfoSchemas.v1p1, normalized, `${status} body with object-form codeMinor`);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Hand-written examples
// ---------------------------------------------------------------------------------------------

const HOST = 'https://sis.example.org/ims/oneroster';
const ref12 = (type: string, id: string, path = `${type}s`) => ({ href: `${HOST}/rostering/v1p2/${path}/${id}`, sourcedId: id, type });
const ref11 = (type: string, id: string, path = `${type}s`) => ({ href: `${HOST}/v1p1/${path}/${id}`, sourcedId: id, type });
const BASE = { sourcedId: 'x-1', status: 'active', dateLastModified: '2025-05-01T05:00:20.097Z' };

const user12 = () => ({
  ...BASE,
  enabledUser: 'true',
  givenName: 'Ada',
  familyName: 'Lovelace',
  roles: [{ roleType: 'primary', role: 'student', org: ref12('org', 'org-1') }],
  primaryOrg: ref12('org', 'org-1'),
  metadata: { 'ext:grade': '09', nested: { a: [1, 'b', true] } },
});
const user11 = () => ({
  ...BASE,
  username: 'ada',
  enabledUser: 'false',
  givenName: 'Ada',
  familyName: 'Lovelace',
  middleName: '',
  email: '',
  role: 'student',
  orgs: [ref11('org', 'org-1')],
});
const lineItem11 = () => ({
  ...BASE,
  title: 'Quiz 1',
  assignDate: '2025-01-10T00:00:00Z',
  dueDate: '2025-01-17T00:00:00Z',
  class: ref11('class', 'cls-1', 'classes'),
  category: ref11('category', 'cat-1', 'categories'),
  gradingPeriod: ref11('gradingPeriod', 'gp-1'),
  resultValueMin: 0,
  resultValueMax: 100,
});
const result12 = () => ({
  ...BASE,
  lineItem: ref12('lineItem', 'li-1'),
  student: ref12('user', 'u-1'),
  scoreStatus: 'fully graded',
  score: 9.5,
  scoreDate: '2025-01-18',
  late: 'false',
});
const error12 = () => ({
  imsx_codeMajor: 'failure',
  imsx_severity: 'error',
  imsx_description: 'Unknown object',
  imsx_CodeMinor: { imsx_codeMinorField: [{ imsx_codeMinorFieldName: 'TargetEndSystem', imsx_codeMinorFieldValue: 'unknownobject' }] },
});
const error11 = () => ({
  statusInfoSet: [
    {
      imsx_codeMajor: 'failure',
      imsx_severity: 'error',
      imsx_description: 'Unknown object',
      imsx_codeMinor: { imsx_codeMinorField: [{ imsx_codeMinorFieldName: 'TargetEndSystem', imsx_codeMinorFieldValue: 'unknown object' }] },
    },
  ],
});

const rejects = (schema: Parameters<typeof validationIssues>[0], value: unknown) => expect(validationIssues(schema, value)).not.toEqual([]);

describe('hand-written examples', () => {
  const S = entitySchemas;

  it('accepts the valid baselines', () => {
    expectValid(S.v1p2.users, user12());
    expectValid(S.v1p1.users, user11());
    expectValid(S.v1p1.lineItems, lineItem11());
    expectValid(S.v1p2.results, result12());
    expectValid(statusInfoSchemas.v1p2, error12());
    expectValid(statusInfoSchemas.v1p1, error11());
    expectValid(collectionPayload('v1p2', 'users', 'users'), { users: [user12()] });
    expectValid(singlePayload('v1p1', 'users', 'user'), { user: user11() });
  });

  it('rejects a 1.2 user with `role`', () => {
    rejects(S.v1p2.users, { ...user12(), role: 'student' });
  });

  it('rejects a 1.2 user with `orgs`', () => {
    rejects(S.v1p2.users, { ...user12(), orgs: [ref12('org', 'org-1')] });
  });

  it('rejects a 1.2 record with a null', () => {
    rejects(S.v1p2.users, { ...user12(), middleName: null });
    rejects(S.v1p2.users, { ...user12(), metadata: { x: null } });
    rejects(S.v1p2.results, { ...result12(), comment: null });
  });

  it('rejects a 1.2 user with enabledUser as a JSON boolean', () => {
    rejects(S.v1p2.users, { ...user12(), enabledUser: true });
  });

  it('rejects a 1.1 user with `roles`', () => {
    rejects(S.v1p1.users, { ...user11(), roles: user12().roles });
  });

  it('rejects a 1.2 GUIDRef with type term', () => {
    rejects(S.v1p2.users, { ...user12(), primaryOrg: { ...ref12('org', 'org-1'), type: 'term' } });
    rejects(S.v1p2.classes, {
      ...BASE,
      title: 'Algebra',
      course: ref12('course', 'c-1'),
      school: ref12('org', 'org-1'),
      terms: [ref12('term', 't-1')],
    });
  });

  it('rejects a 1.1 error body in the 1.2 shape', () => {
    rejects(statusInfoSchemas.v1p1, error12());
  });

  it('rejects a 1.2 error body in the 1.1 shape or with 1.1 code minor values', () => {
    rejects(statusInfoSchemas.v1p2, error11());
    const spaced = error12();
    spaced.imsx_CodeMinor.imsx_codeMinorField[0]!.imsx_codeMinorFieldValue = 'unknown object';
    rejects(statusInfoSchemas.v1p2, spaced);
  });

  it('rejects the 1.2 administrator user role, two primary roles for one org, and an empty roles array', () => {
    rejects(S.v1p2.users, { ...user12(), roles: [{ roleType: 'primary', role: 'administrator', org: ref12('org', 'org-1') }] });
    rejects(S.v1p2.users, {
      ...user12(),
      roles: [
        { roleType: 'primary', role: 'teacher', org: ref12('org', 'org-1') },
        { roleType: 'primary', role: 'aide', org: ref12('org', 'org-1') },
      ],
    });
    rejects(S.v1p2.users, { ...user12(), roles: [] });
    expectValid(S.v1p2.users, { ...user12(), roles: [{ roleType: 'primary', role: 'ext:coach', org: ref12('org', 'org-1') }] });
  });

  it('rejects 1.2-only fields in 1.1 records', () => {
    rejects(S.v1p1.users, { ...user11(), primaryOrg: ref11('org', 'org-1') });
    rejects(S.v1p1.users, { ...user11(), preferredFirstName: 'Ada' });
    rejects(S.v1p1.lineItems, { ...lineItem11(), school: ref11('org', 'org-1') });
    rejects(S.v1p1.lineItems, { ...lineItem11(), scoreScale: ref11('result', 'ss-1') });
    rejects(S.v1p1.categories, { ...BASE, title: 'Homework', weight: 0.5 });
    rejects(S.v1p1.results, { ...result12(), lineItem: ref11('lineItem', 'li-1'), student: ref11('student', 'u-1'), textScore: 'A' });
  });

  it('accepts a 1.1 lineItem without gradingPeriod and 1.1 GUIDRef types', () => {
    const { gradingPeriod: _drop, ...li } = lineItem11();
    expectValid(S.v1p1.lineItems, li);
    expectValid(S.v1p1.users, { ...user11(), orgs: [ref11('org', 'o'), ref11('term', 't')] });
  });

  it('rejects base-field violations', () => {
    rejects(S.v1p2.users, { ...user12(), status: 'inactive' });
    rejects(S.v1p2.users, { ...user12(), dateLastModified: '2025-05-01T05:00:20' });
    rejects(S.v1p2.users, { ...user12(), dateLastModified: '2025-05-01' });
    rejects(S.v1p1.users, { ...user11(), dateLastModified: '2025-05-01T07:00:20+02:00' });
    const { sourcedId: _drop, ...noId } = user12();
    rejects(S.v1p2.users, noId);
  });

  it('rejects relative hrefs, extra GUIDRef keys and empty optional text in 1.2', () => {
    rejects(S.v1p2.users, { ...user12(), primaryOrg: { ...ref12('org', 'org-1'), href: '~/ims/oneroster/v1p1/orgs/org-1' } });
    rejects(S.v1p2.users, { ...user12(), primaryOrg: { ...ref12('org', 'org-1'), name: 'x' } });
    rejects(S.v1p2.users, { ...user12(), email: '' });
  });

  it('rejects extra top-level keys on payload wrappers', () => {
    rejects(collectionPayload('v1p2', 'users', 'users'), { users: [user12()], statusInfoSet: [] });
    rejects(singlePayload('v1p2', 'results', 'result'), { results: result12() });
  });

  it('reports issues with readable paths', () => {
    expect(() => expectValid(collectionPayload('v1p2', 'users', 'users'), { users: [user12(), { ...user12(), enabledUser: true }] })).toThrow(
      /users\[1\]\.enabledUser/,
    );
  });
});
