// What each rostering read means over a district's whole data (src/core/oneroster/relationships.ts):
// every rostering GET has a plan in both versions, and the plans say the same thing the
// reference (§1.2) and the sandbox say.
import { describe, expect, it } from 'vitest';
import { ENDPOINTS, type Version } from '../../src/core/oneroster/endpoints.js';
import { matchesFilter, parseFilter } from '../../src/core/oneroster/filter.js';
import { districtFilter, districtPath, planRoute, sessionOfSchool, type ListPlan } from '../../src/core/oneroster/relationships.js';

const VERSIONS: Version[] = ['v1p1', 'v1p2'];
const ROSTERING_GETS = ENDPOINTS.filter((e) => e.service === 'rostering' && e.method === 'GET');
const idsFor = (template: string) => template.split('/').filter((s) => s === '{id}').map((_, i) => `id-${i}`);
const list = (template: string, version: Version = 'v1p1') => planRoute(template, idsFor(template), version) as ListPlan;

describe('planRoute', () => {
  it('covers the 41 rostering reads', () => {
    expect(ROSTERING_GETS).toHaveLength(41);
  });

  it.each(VERSIONS)('has a plan for every rostering GET endpoint in %s, of the endpoint kind', (version) => {
    const missing = ROSTERING_GETS.filter((e) => e.versions.includes(version)).flatMap((e) => {
      const plan = planRoute(e.template, idsFor(e.template), version);
      const kind = e.kind === 'single' ? 'single' : 'list';
      return plan?.kind === kind ? [] : [`${e.template}: ${plan?.kind ?? 'none'}`];
    });
    expect(missing).toEqual([]);
  });

  it('has none for gradebook, resources or writes, which stay on the page cache', () => {
    const planned = ENDPOINTS.filter((e) => e.service !== 'rostering' || e.method !== 'GET').filter((e) => planRoute(e.template, idsFor(e.template), 'v1p2'));
    expect(planned.map((e) => `${e.method} ${e.template}`)).toEqual([]);
  });

  it('narrows aliases by role in the version’s own user fields', () => {
    const teacher11 = { role: 'teacher', orgs: [{ sourcedId: 'org-s1' }] };
    const teacher12 = { roles: [{ roleType: 'primary', role: 'teacher', org: { sourcedId: 'org-s1' } }] };
    expect(matchesFilter(list('/teachers').where!, teacher11)).toBe(true);
    expect(matchesFilter(list('/teachers', 'v1p2').where!, teacher12)).toBe(true);
    expect(matchesFilter(list('/students', 'v1p2').where!, teacher12)).toBe(false);
    const atSchool = planRoute('/schools/{id}/teachers', ['org-s1'], 'v1p2') as ListPlan;
    expect(matchesFilter(atSchool.where!, teacher12)).toBe(true);
    expect(matchesFilter((planRoute('/schools/{id}/teachers', ['org-s2'], 'v1p1') as ListPlan).where!, teacher11)).toBe(false);
  });

  it("reads a class's members and a user's classes through active enrollments", () => {
    const members = list('/classes/{id}/students');
    expect(members.collection).toBe('users');
    expect(members.join?.pick).toBe('user');
    const enrollment = { class: { sourcedId: 'id-0' }, user: { sourcedId: 'u1' }, role: 'student', status: 'active' };
    expect(matchesFilter(members.join!.where, enrollment)).toBe(true);
    expect(matchesFilter(members.join!.where, { ...enrollment, status: 'tobedeleted' })).toBe(false);
    expect(matchesFilter(list('/classes/{id}/teachers').join!.where, enrollment)).toBe(false);
    const classes = planRoute('/teachers/{id}/classes', ['u1'], 'v1p1') as ListPlan;
    expect(classes.join?.pick).toBe('class');
    expect(matchesFilter(classes.join!.where, enrollment)).toBe(false);
    expect(matchesFilter((planRoute('/users/{id}/classes', ['u1'], 'v1p1') as ListPlan).join!.where, enrollment)).toBe(true);
  });

  it('needs the class at the school for /schools/{s}/classes/{c}/..., and a school for /schools/{s}/terms', () => {
    const students = planRoute('/schools/{id}/classes/{id}/students', ['s1', 'c1'], 'v1p2') as ListPlan;
    expect(students.parent).toMatchObject({ collection: 'classes', id: 'c1' });
    expect(matchesFilter(students.parent!.where!, { school: { sourcedId: 's1' } })).toBe(true);
    expect(matchesFilter(students.parent!.where!, { school: { sourcedId: 's2' } })).toBe(false);
    const terms = planRoute('/schools/{id}/terms', ['s1'], 'v1p1') as ListPlan;
    expect(terms.parent).toMatchObject({ collection: 'orgs', id: 's1' });
    expect(matchesFilter(terms.parent!.where!, { type: 'district' })).toBe(false);
    expect(terms.refine).toEqual({ parentOrg: 's1' });
  });

  it('keeps a session naming an org to that org (and its district), one naming none to every school', () => {
    const school = { sourcedId: 's1', parent: { sourcedId: 'd1' } };
    expect(sessionOfSchool({}, school)).toBe(true);
    expect(sessionOfSchool({ org: { sourcedId: 's1' } }, school)).toBe(true);
    expect(sessionOfSchool({ org: { sourcedId: 'd1' } }, school)).toBe(true);
    expect(sessionOfSchool({ org: { sourcedId: 's2' } }, school)).toBe(false);
  });
});

describe('names as the district reads them', () => {
  it('reads a name ending at a GUIDRef as its sourcedId', () => {
    expect(districtPath('v1p1', 'classes', 'school')).toBe('school.sourcedId');
    expect(districtPath('v1p1', 'classes', 'terms')).toBe('terms.sourcedId');
    expect(districtPath('v1p1', 'users', 'orgs')).toBe('orgs.sourcedId');
    expect(districtPath('v1p2', 'users', 'roles.org')).toBe('roles.org.sourcedId');
    expect(districtPath('v1p2', 'users', 'primaryOrg')).toBe('primaryOrg.sourcedId');
  });

  it('leaves every other name alone', () => {
    const kept = [['v1p2', 'classes', 'school.sourcedId'], ['v1p2', 'classes', 'title'], ['v1p2', 'users', 'roles.role'], ['v1p2', 'users', 'userIds'], ['v1p1', 'users', 'role'], ['v1p1', 'orgs', 'metadata.x']] as const;
    for (const [version, entity, path] of kept) expect(districtPath(version, entity, path)).toBe(path);
    expect(districtPath('v1p1', 'users', 'roles.org')).toBe('roles.org'); // not a 1.1 field
  });

  it('rewrites every clause of a filter', () => {
    const filter = districtFilter('v1p1', 'enrollments', parseFilter("class='c1' AND role='student' OR user!='u2'"));
    const enrollment = { class: { sourcedId: 'c1' }, user: { sourcedId: 'u2' }, role: 'student' };
    expect(matchesFilter(filter, enrollment)).toBe(true);
    expect(matchesFilter(filter, { ...enrollment, class: { sourcedId: 'c2' } })).toBe(false);
  });
});
