// Paging, X-Total-Count, Link, the maxPageSize clamp, filters, sort/orderBy and fields.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSandbox } from '../../src/sandbox/testing.js';
import { allPages, call, enc, filterQuery, root, startBearer } from './helpers.js';

let v11: TestSandbox;
let v12: TestSandbox;
let clamped: TestSandbox;

beforeAll(async () => {
  [v11, v12, clamped] = await Promise.all([
    startBearer({ version: 'v1p1' }),
    startBearer({ version: 'v1p2' }),
    startBearer({ version: 'v1p2', maxPageSize: 50, users: 300 }),
  ]);
});
afterAll(() => Promise.all([v11.close(), v12.close(), clamped.close()]));

type U = Record<string, any>; // test assertions walk arbitrary JSON
const users11 = (q = ''): string => `${root(v11)}/users${q ? `?${q}` : ''}`;
const users12 = (q = ''): string => `${root(v12)}/users${q ? `?${q}` : ''}`;

function links(header: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (header ?? '').matchAll(/<([^>]+)>;\s*rel="([a-z]+)"/g)) out[m[2] as string] = m[1] as string;
  return out;
}

describe('paging', () => {
  it('defaults to 100 per page, in sourcedId order, with X-Total-Count', async () => {
    const got = await call(users12());
    expect(got.status).toBe(200);
    expect(got.headers.get('x-total-count')).toBe('500');
    expect(got.body.users).toHaveLength(100);
    const ids = got.body.users.map((u: U) => u.sourcedId);
    expect(ids).toEqual([...ids].sort());
  });

  it('walks every record exactly once by following rel="next"', async () => {
    const { ids, pages } = await allPages(users11('limit=120'));
    expect(pages).toBe(5);
    expect(ids).toHaveLength(500);
    expect(new Set(ids).size).toBe(500);
    expect(ids).toEqual(v11.store.list('users').map((u) => u.sourcedId));
  });

  it('builds absolute next/prev/first/last links that keep the other parameters', async () => {
    const q = `${filterQuery("status='active'")}&sort=familyName&limit=25&offset=50`;
    const got = await call(users12(q));
    const total = Number(got.headers.get('x-total-count'));
    const l = links(got.headers.get('link'));
    const base = `${v12.baseUrl}/rostering/v1p2/users?${filterQuery("status='active'")}&sort=familyName`;
    expect(l.next).toBe(`${base}&limit=25&offset=75`);
    expect(l.prev).toBe(`${base}&limit=25&offset=25`);
    expect(l.first).toBe(`${base}&limit=25&offset=0`);
    expect(l.last).toBe(`${base}&limit=25&offset=${Math.floor((total - 1) / 25) * 25}`);
    const last = await call(l.last as string);
    expect(links(last.headers.get('link')).next).toBeUndefined();
  });

  it('omits next on the last page and prev on the first', async () => {
    const first = links((await call(users12('limit=400'))).headers.get('link'));
    expect(first.prev).toBeUndefined();
    expect(first.next).toContain('offset=400');
    const last = await call(users12('limit=400&offset=400'));
    expect(last.body.users).toHaveLength(100);
    expect(links(last.headers.get('link')).next).toBeUndefined();
  });

  it('returns an empty page past the end, still with the total', async () => {
    const got = await call(users12('offset=10000'));
    expect(got.status).toBe(200);
    expect(got.body.users).toEqual([]);
    expect(got.headers.get('x-total-count')).toBe('500');
  });

  it('silently clamps limit to maxPageSize and links with the effective limit', async () => {
    const got = await call(`${root(clamped)}/users?limit=200`);
    expect(got.body.users).toHaveLength(50);
    expect(got.headers.get('x-total-count')).toBe('300');
    expect(links(got.headers.get('link')).next).toMatch(/limit=50&offset=50$/);
    const { ids } = await allPages(`${root(clamped)}/users?limit=200`);
    expect(new Set(ids).size).toBe(300);
  });

  it.each(['limit=0', 'limit=-5', 'limit=abc', 'limit=2.5', 'offset=-1', 'offset=x', 'orderBy=up'])('rejects %s with 400 invalid data', async (q) => {
    const got = await call(users11(q));
    expect(got.status).toBe(400);
    expect(got.body.statusInfoSet[0].imsx_codeMinor).toBe('invalid data');
    const got12 = await call(users12(q));
    expect(got12.status).toBe(400);
    expect(got12.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('invaliddata');
  });
});

describe('filter', () => {
  async function filtered(url: (q: string) => string, expr: string, extra = 'limit=1000'): Promise<U[]> {
    const got = await call(url(`${filterQuery(expr)}&${extra}`));
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    expect(Number(got.headers.get('x-total-count'))).toBe(got.body.users.length);
    return got.body.users;
  }
  const store = () => v11.store.list('users');

  it('= on a plain field, applied before paging', async () => {
    const got = await call(users11(`${filterQuery("status='tobedeleted'")}&limit=2`));
    const expected = store().filter((u) => u.status === 'tobedeleted').length;
    expect(expected).toBeGreaterThanOrEqual(5);
    expect(got.headers.get('x-total-count')).toBe(String(expected));
    expect(got.body.users).toHaveLength(2);
  });

  it('AND and OR, with AND binding tighter', async () => {
    const both = await filtered(users11, "role='student' AND status='active'");
    expect(both.length).toBe(store().filter((u) => u.role === 'student' && u.status === 'active').length);
    const either = await filtered(users11, "role='teacher' OR role='administrator'");
    expect(new Set(either.map((u) => u.role))).toEqual(new Set(['teacher', 'administrator']));
    const mixed = await filtered(users11, "role='teacher' OR role='student' AND status='tobedeleted'");
    const expected = store().filter((u) => u.role === 'teacher' || (u.role === 'student' && u.status === 'tobedeleted'));
    expect(mixed.map((u) => u.sourcedId)).toEqual(expected.map((u) => u.sourcedId));
  });

  it('dotted fields match any element: 1.1 orgs.sourcedId, 1.2 roles.role', async () => {
    const atSchool = await filtered(users11, "orgs.sourcedId='org-s1'");
    expect(atSchool.length).toBe(store().filter((u) => u.orgIds.includes('org-s1')).length);
    expect(atSchool.every((u) => u.orgs.some((o: U) => o.sourcedId === 'org-s1'))).toBe(true);
    const teachers = await filtered(users12, "roles.role='teacher'");
    expect(teachers.length).toBe(store().filter((u) => u.role === 'teacher').length);
  });

  it('~ is a case-insensitive contains; quotes inside values need no escaping', async () => {
    const smiths = await filtered(users11, "familyName~'SMITH'");
    expect(new Set(smiths.map((u) => u.familyName))).toEqual(new Set(['Smith', 'Smith-Jones']));
    const obriens = await filtered(users11, "familyName='O'Brien'");
    expect(obriens.length).toBe(store().filter((u) => u.familyName === "O'Brien").length);
    expect(obriens.length).toBeGreaterThan(0);
  });

  it('!= excludes, and compares dates as ISO strings', async () => {
    const notStudents = await filtered(users11, "role!='student'");
    expect(notStudents.every((u) => u.role !== 'student')).toBe(true);
    const recent = await filtered(users11, "dateLastModified>'2025-03-01'");
    expect(recent.length).toBe(store().filter((u) => u.dateLastModified > '2025-03-01').length);
    expect(recent.length).toBeGreaterThan(0);
  });

  it('compares numbers numerically', async () => {
    const got = await call(`${root(v12, 'gradebook')}/results?${filterQuery("score>='9.5' AND score<'10'")}&limit=1000`);
    expect(got.status).toBe(200);
    expect(got.body.results.every((r: U) => r.score >= 9.5 && r.score < 10)).toBe(true);
    expect(got.body.results.length).toBeGreaterThan(0);
  });

  it.each([
    ["nosuchfield='x'", 'unknown field'],
    ["orgs.nosuch='x'", 'unknown sub-field'],
    ["role=student", 'unquoted value'],
    ["role='student' AND", 'dangling AND'],
    ["role='student' and status='active'", 'lower-case logical'],
    ["role=='student'", 'bad operator'],
  ])('rejects %s (%s) with 400 invalid_filter_field', async (expr) => {
    const got = await call(users11(filterQuery(expr)));
    expect(got.status).toBe(400);
    expect(got.body.statusInfoSet[0].imsx_codeMinor).toBe('invalid_filter_field');
  });

  it('knows each version’s fields: role is not a 1.2 user field', async () => {
    const got = await call(users12(filterQuery("role='student'")));
    expect(got.status).toBe(400);
    expect(got.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('invalid_filter_field');
  });
});

describe('sort and orderBy', () => {
  it('sorts by a field ascending and descending, ties by sourcedId', async () => {
    const asc = (await call(users11('sort=familyName&limit=1000'))).body.users as U[];
    const names = asc.map((u) => u.familyName);
    expect(names).toEqual([...names].sort());
    const desc = (await call(users11('sort=familyName&orderBy=desc&limit=1000'))).body.users as U[];
    expect(desc.map((u) => u.familyName)).toEqual([...names].reverse());
    const smiths = asc.filter((u) => u.familyName === 'Smith').map((u) => u.sourcedId);
    expect(smiths).toEqual([...smiths].sort());
  });

  it('orders by sourcedId descending', async () => {
    const got = await call(users12('orderBy=desc&limit=3'));
    expect(got.body.users.map((u: U) => u.sourcedId)).toEqual(['usr-00500', 'usr-00499', 'usr-00498']);
  });

  it('falls back to sourcedId for an unknown sort field', async () => {
    const got = await call(users11('sort=shoeSize&limit=5'));
    expect(got.status).toBe(200);
    expect(got.body.users.map((u: U) => u.sourcedId)).toEqual(['usr-00001', 'usr-00002', 'usr-00003', 'usr-00004', 'usr-00005']);
  });
});

describe('fields', () => {
  it('projects collections and single objects', async () => {
    const got = await call(users11(`fields=${enc('sourcedId,givenName')}&limit=3`));
    expect(got.body.users.every((u: U) => Object.keys(u).sort().join() === 'givenName,sourcedId')).toBe(true);
    const one = await call(`${root(v12)}/users/usr-00001?fields=roles`);
    expect(Object.keys(one.body.user)).toEqual(['roles']);
  });

  it('rejects unknown selection fields with 400', async () => {
    const got = await call(users11('fields=sourcedId,shoeSize'));
    expect(got.status).toBe(400);
    expect(got.body.statusInfoSet[0].imsx_codeMinor).toBe('invalid_selection_field');
    const one = await call(`${root(v12)}/users/usr-00001?fields=role`);
    expect(one.status).toBe(400);
    expect(one.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('invalid_selection_field');
  });
});
