import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalQuery } from '../../src/core/cache-key.js';
import { tagsForChange, tagsForRoute, tagsForWrite } from '../../src/core/oneroster/cache-tags.js';
import { matchEndpoint } from '../../src/core/oneroster/endpoints.js';
import { parseRawQuery, readPageQuery } from '../../src/core/oneroster/query.js';

const q = (raw: string, kind: 'collection' | 'single' = 'collection') => readPageQuery(kind, parseRawQuery(raw));
const route = (path: string, method = 'GET', version: 'v1p1' | 'v1p2' = 'v1p1') => {
  const m = matchEndpoint(version, undefined, method, path.split('/').filter(Boolean));
  if (!m.ok) throw new Error(`no route ${path}`);
  return m;
};

describe('cache keys', () => {
  it('are one entry whatever the parameter order, defaults and spacing', () => {
    const a = canonicalQuery(q('limit=5&offset=0&filter=status%3D%27active%27'));
    const b = canonicalQuery(q("offset=0&filter=status%3D'active'&limit=5"));
    expect(a).toBe(b);
    expect(canonicalQuery(q(''))).toBe(canonicalQuery(q('limit=100&offset=0')));
    expect(canonicalQuery(q('fields=givenName,%20sourcedId'))).toBe(canonicalQuery(q('fields=sourcedId,givenName')));
    expect(canonicalQuery(q('orderBy=desc&sort=familyName'))).toBe('orderBy=desc&sort=familyName&limit=100&offset=0'.split('&').sort().join('&'));
  });

  it('differ by page, filter, version pair and resource URL', () => {
    const key = (over: Partial<Parameters<typeof cacheKey>[0]>) =>
      cacheKey({ upstreamVersion: 'v1p1', responseVersion: 'v1p1', resourceUrl: 'https://gw/districts/a/ims/oneroster/v1p1/users', query: q('limit=5'), ...over });
    const keys = [
      key({}),
      key({ query: q('limit=5&offset=5') }),
      key({ query: q("limit=5&filter=role%3D'teacher'") }),
      key({ responseVersion: 'v1p2' }),
      key({ resourceUrl: 'https://gw/ims/oneroster/v1p1/users' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('ignore paging on single objects', () => {
    expect(canonicalQuery(q('fields=sourcedId', 'single'))).toBe('fields=sourcedId');
  });
});

describe('cache tags', () => {
  it('tag lists, singles and aliases by base collection', () => {
    const users = route('/users');
    expect(tagsForRoute(users.endpoint, users.params)).toEqual(['all', 'c:users', 'list:users']);
    const student = route('/students/u1');
    expect(tagsForRoute(student.endpoint, student.params)).toEqual(['all', 'c:users', 'id:users:u1']);
    const term = route('/terms/t1');
    expect(tagsForRoute(term.endpoint, term.params)).toEqual(['all', 'c:academicSessions', 'id:academicSessions:t1']);
  });

  it('tag nested routes by their innermost parent', () => {
    const roster = route('/schools/s1/classes/c1/students');
    expect(tagsForRoute(roster.endpoint, roster.params)).toEqual(['all', 'c:users', 'rel:classes:c1', 'list:users']);
    const enr = route('/schools/s1/enrollments');
    expect(tagsForRoute(enr.endpoint, enr.params)).toEqual(['all', 'c:enrollments', 'rel:orgs:s1']);
    const mine = route('/users/u1/classes');
    expect(tagsForRoute(mine.endpoint, mine.params)).toEqual(['all', 'c:classes', 'rel:users:u1', 'list:classes']);
    const results = route('/classes/c1/lineItems/l1/results');
    expect(tagsForRoute(results.endpoint, results.params)).toEqual(['all', 'c:results', 'rel:lineItems:l1', 'list:results']);
  });

  it('a changed enrollment reaches exactly its class, school and user rosters', () => {
    const tags = tagsForChange('enrollments', {
      sourcedId: 'e1',
      class: { sourcedId: 'c1' },
      school: { sourcedId: 's1' },
      user: { sourcedId: 'u1' },
    });
    expect(tags).toEqual(['list:enrollments', 'id:enrollments:e1', 'rel:classes:c1', 'rel:orgs:s1', 'rel:users:u1']);
    const dependsOn = (path: string) => {
      const m = route(path);
      return tagsForRoute(m.endpoint, m.params).some((t) => tags.includes(t));
    };
    for (const hit of ['/classes/c1/students', '/classes/c1/teachers', '/schools/s1/enrollments', '/users/u1/classes', '/schools/s1/classes/c1/students', '/enrollments', '/enrollments/e1']) {
      expect(dependsOn(hit), hit).toBe(true);
    }
    for (const miss of ['/classes/c2/students', '/users/u2/classes', '/users', '/classes', '/classes/c1', '/enrollments/e2', '/schools/s2/enrollments']) {
      expect(dependsOn(miss), miss).toBe(false);
    }
  });

  it('a gradebook write bumps its object, every list of its collection and the lists it cascades to', () => {
    const put = route('/lineItems/l1', 'PUT');
    // Deleting a line item takes its results with it at most districts.
    expect(tagsForWrite(put.endpoint, put.params, { lineItem: { class: { sourcedId: 'c1' } } })).toEqual(['list:lineItems', 'id:lineItems:l1', 'list:results']);
    const del = route('/results/r1', 'DELETE');
    expect(tagsForWrite(del.endpoint, del.params, undefined)).toEqual(['list:results', 'id:results:r1']);
    const classResults = route('/classes/c1/results');
    expect(tagsForRoute(classResults.endpoint, classResults.params)).toContain('list:results');
  });

  it("a class's categories depend on its line items, which a district derives them from", () => {
    const categories = route('/classes/c1/categories', 'GET', 'v1p2');
    const write = route('/lineItems/l1', 'PUT', 'v1p2');
    const bumped = tagsForWrite(write.endpoint, write.params, { lineItem: { class: { sourcedId: 'c1' } } });
    expect(tagsForRoute(categories.endpoint, categories.params).some((t) => bumped.includes(t) && t !== 'all')).toBe(true);
  });
});
