// One contract for every mirror store (memory, PostgreSQL), like keyv's shared adapter suite:
// whatever holds the copies, the service layer sees the same behaviour. Query answers are
// checked against the oracle the interface names: core/oneroster's matchesFilter and
// sortRecords over the same records.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { matchesFilter, parseFilter } from '../../src/core/oneroster/filter.js';
import type { Json } from '../../src/core/oneroster/mapping/types.js';
import { refId } from '../../src/core/oneroster/mapping/guid-refs.js';
import { compareIds, sortRecords } from '../../src/core/oneroster/record-order.js';
import type { Retention } from '../../src/mirror/retention.js';
import type { ChangePosition, CopyMeta, MirrorCollection, MirrorPage, MirrorQuery, MirrorStore, ObservedChange } from '../../src/mirror/types.js';

const AT = 1_700_000_000_000;
const uid = () => randomUUID().slice(0, 8);
const idOf = (r: Json) => String(r.sourcedId);

// ---- realistic records (seeded, so a failure can be replayed) ----

function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GIVEN = ['Ann', 'ann', 'Émile', 'Zoë', 'Bob', 'Chloé', 'Dmitri', 'Ólafur', 'Kai', 'İlker', 'Σοφία', 'Ann "A" \\ $x %_y'];
const FAMILY = ['Smith', 'SMITH', 'Ñúñez', 'Okafor', 'van der Berg', "O'Hara", 'Li', 'Šimić', '$s', '%', '_', '@ == "a"'];
const ref = (type: string, id: string) => ({ href: `https://sis.example/ims/oneroster/v1p1/${type}s/${id}`, sourcedId: id, type });
const date = (rnd: () => number) => new Date(Date.UTC(2018, 0, 1) + Math.floor(rnd() * 4 * 365 * 86_400_000)).toISOString();

export function makeRecords(seed = 42): Record<'orgs' | 'users' | 'enrollments', Json[]> {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const orgs: Json[] = Array.from({ length: 20 }, (_, i) => ({
    sourcedId: `org-${i}`,
    status: i % 7 === 0 ? 'tobedeleted' : 'active',
    dateLastModified: date(rnd),
    name: `School ${i}`,
    type: i === 0 ? 'district' : 'school',
    identifier: String(1000 + i).padStart(5, '0'),
    ...(i > 0 ? { parent: ref('org', 'org-0') } : {}),
  }));
  const users: Json[] = [];
  for (let i = 0; i < 260; i++) {
    const base: Json = {
      sourcedId: `u-${String(i).padStart(3, '0')}`,
      status: rnd() < 0.1 ? 'tobedeleted' : 'active',
      dateLastModified: rnd() < 0.2 ? date(rnd).slice(0, 10) : date(rnd),
      username: `user${i}`,
      givenName: pick(GIVEN),
      familyName: pick(FAMILY),
      middleName: rnd() < 0.3 ? null : pick(GIVEN),
      identifier: rnd() < 0.5 ? String(i).padStart(4, '0') : `ID-${i}`,
      enabledUser: rnd() < 0.5 ? 'true' : rnd() < 0.8,
      userIds: rnd() < 0.7 ? [{ type: 'LDAP', identifier: `id-${i}` }, { type: 'SIS', identifier: `S${i}` }] : [],
    };
    if (rnd() < 0.8) base.email = `User${i}@Example.org`;
    if (rnd() < 0.3) base.phone = null;
    if (rnd() < 0.85) base.metadata = { score: rnd() < 0.1 ? -1.5 : Math.round(rnd() * 2000) / 10, nickname: pick(GIVEN), flag: rnd() < 0.5 };
    else if (rnd() < 0.5) base.metadata = null;
    const grades = rnd() < 0.2 ? [] : [pick(['09', '10', '11', '12', 'KG', '1'])];
    if (rnd() < 0.3) grades.push(pick(['09', '10', '11', '12']));
    if (rnd() < 0.9) base.grades = grades;
    if (i % 2 === 0) {
      // OneRoster 1.1: one role, orgs[] of GUIDRefs.
      base.role = pick(['student', 'student', 'student', 'teacher', 'administrator', 'aide']);
      base.orgs = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ref('org', `org-${Math.floor(rnd() * 20)}`));
    } else {
      // OneRoster 1.2: roles[] with an org each, a primaryOrg.
      base.roles = Array.from({ length: 1 + Math.floor(rnd() * 2) }, (_, k) => ({
        roleType: k === 0 ? 'primary' : 'secondary',
        role: pick(['student', 'teacher', 'administrator', 'guardian']),
        org: { href: '/orgs/x', sourcedId: `org-${Math.floor(rnd() * 20)}`, type: 'org' },
      }));
      base.primaryOrg = ref('org', `org-${Math.floor(rnd() * 20)}`);
    }
    users.push(base);
  }
  const enrollments: Json[] = Array.from({ length: 200 }, (_, i) => ({
    sourcedId: `e-${String(i).padStart(3, '0')}`,
    status: 'active',
    dateLastModified: date(rnd),
    role: pick(['student', 'student', 'teacher']),
    primary: pick(['true', 'false', true, false]),
    class: ref('class', `class-${Math.floor(rnd() * 15)}`),
    user: ref('user', `u-${String(Math.floor(rnd() * 260)).padStart(3, '0')}`),
    school: ref('org', `org-${1 + Math.floor(rnd() * 19)}`),
    ...(rnd() < 0.6 ? { beginDate: date(rnd).slice(0, 10) } : {}),
  }));
  return { orgs, users, enrollments };
}

/**
 * Records on which SQL and JavaScript are easiest to get to disagree: arrays in arrays, numbers
 * JavaScript prints with an exponent, characters above U+FFFF beside ones in U+E000..U+FFFF, a
 * GUIDRef that is an array, a numeric sourcedId.
 */
export function makeOddRecords(): Record<'users' | 'enrollments', Json[]> {
  const users: Json[] = [
    { sourcedId: 'o-1', givenName: 'Émoji 😀', grades: [['09', '10'], '11'], metadata: { score: 1e21 } },
    { sourcedId: 'o-2', givenName: '\uE000 private', grades: ['09'], metadata: { score: 1e-7 } },
    { sourcedId: 'o-3', givenName: '\uFF21 fullwidth', grades: [[['12']]], metadata: { score: 5 } },
    { sourcedId: 'o-4', givenName: 'plain', orgs: [[{ sourcedId: 'org-1' }], { sourcedId: 'org-2' }], metadata: { score: '7' } },
    { sourcedId: 'o-\u{1F600}', givenName: 'astral id', metadata: { score: 12 } },
    { sourcedId: 'o-\uFFFD', givenName: 'high id' },
    { sourcedId: 55, givenName: 'numeric id', metadata: { score: -3 } },
    { sourcedId: 'q"\\,{} NULL', givenName: 'array-literal id' },
    { sourcedId: 'NULL', givenName: 'null id' },
  ];
  const enrollments: Json[] = [
    { sourcedId: 'oe-1', class: [{ sourcedId: 'class-1' }, { sourcedId: 'class-2' }], user: { sourcedId: 'o-1' } },
    { sourcedId: 'oe-2', class: { sourcedId: ['class-1', 'class-9'] }, user: { sourcedId: 'o-2' } },
    { sourcedId: 'oe-3', class: { sourcedId: 'class-1' }, user: [{ sourcedId: 'o-3' }] },
    { sourcedId: 'oe-4', class: { sourcedId: 'class-2' }, user: { sourcedId: 55 } },
  ];
  return { users, enrollments };
}

/** What the interface says a query answers: matchesFilter, sourcedId order then sortRecords, the slice. */
export function oracle(records: readonly Json[], q: MirrorQuery, joined: ReadonlyMap<string, readonly Json[]> = new Map()): MirrorPage {
  let rs = [...records].sort((a, b) => compareIds(idOf(a), idOf(b)));
  if (q.ids) {
    const ids = new Set(q.ids);
    rs = rs.filter((r) => ids.has(idOf(r)));
  }
  if (q.exclude) {
    const out = new Set(q.exclude);
    rs = rs.filter((r) => !out.has(idOf(r)));
  }
  if (q.via) {
    const via = q.via;
    const named = new Set((joined.get(via.collection) ?? []).filter((r) => !via.where || matchesFilter(via.where, r)).flatMap((r) => refId(r[via.pick]) ?? []));
    rs = rs.filter((r) => named.has(idOf(r)));
  }
  if (q.where) rs = rs.filter((r) => matchesFilter(q.where!, r));
  if (q.sort && q.sort !== 'sourcedId') rs = sortRecords(rs, q.sort, q.desc === true);
  else if (q.desc) rs.reverse();
  return { records: rs.slice(q.offset, q.offset + q.limit), total: rs.length };
}

/**
 * Records of random shapes over a few field names (scalars, nulls, arrays of scalars and of
 * objects, nested objects; strings near the edges of code-unit order) and queries over them.
 */
export function randomCase(seed: number, nRecords: number, nQueries: number, astralAndHighBmp = false): { records: Json[]; queries: Array<MirrorQuery & { text: string }> } {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const strings = ['a', 'A', 'b', 'ab', 'B', '10', '9', '1.50', '-2', 'true', 'false', '', 'é', 'É', 'z\u{1F600}', '2020-01-01', '2020-01-01T10:00:00Z'];
  if (astralAndHighBmp) strings.push('x\uFF01', 'z\uE000');
  const numbers = [0, 1, 9, 10, -2, 1.5, 2.25, 100, -0.5];
  const scalar = (): unknown => (rnd() < 0.45 ? pick(strings) : rnd() < 0.7 ? pick(numbers) : rnd() < 0.85 ? rnd() < 0.5 : null);
  const value = (depth: number): unknown => {
    const r = rnd();
    if (depth > 1 || r < 0.5) return scalar();
    if (r < 0.7) return Array.from({ length: Math.floor(rnd() * 3) }, () => (rnd() < 0.6 ? scalar() : { k: scalar(), m: scalar() }));
    return { k: value(depth + 1), m: value(depth + 1) };
  };
  const records: Json[] = Array.from({ length: nRecords }, (_, i) => {
    const r: Json = { sourcedId: `r${String(i).padStart(3, '0')}` };
    for (const f of ['a', 'b', 'c']) if (rnd() < 0.8) r[f] = value(0);
    return r;
  });
  const fields = ['a', 'b', 'c', 'a.k', 'b.k', 'c.m', 'a.k.k', 'sourcedId', 'zz'];
  const values = [...strings.filter((v) => !v.includes("'")), '1', '1.5', '-0.5', '2.250', '1e1', 'A', 'z'];
  const predicates = ['=', '!=', '>', '>=', '<', '<=', '~'];
  const clause = () => `${pick(fields)}${pick(predicates)}'${pick(values)}'`;
  const queries = Array.from({ length: nQueries }, () => {
    let text = clause();
    for (let k = Math.floor(rnd() * 3); k > 0; k--) text += ` ${rnd() < 0.5 ? 'AND' : 'OR'} ${clause()}`;
    const sort = rnd() < 0.5 ? pick(fields) : undefined;
    return { collection: 'courses' as const, where: parseFilter(text), sort, desc: sort !== undefined && rnd() < 0.5, offset: Math.floor(rnd() * 5), limit: 1 + Math.floor(rnd() * 60), text };
  });
  return { records, queries };
}

export const USER_FILTERS = [
  "role='student'", "role!='student'", "status='active' AND role='teacher'", "role='teacher' OR role='administrator'",
  "orgs.sourcedId='org-3'", "orgs.sourcedId!='org-3'", "orgs.type='org' AND orgs.sourcedId='org-11'", "roles.org.sourcedId='org-5'",
  "roles.role='teacher'", "roles.roleType='secondary' AND roles.role='student'", "primaryOrg.sourcedId='org-4' OR orgs.sourcedId='org-4'",
  "grades='09'", "grades!='09'", "grades>'10'", "grades<='1'", "email~'EXAMPLE.ORG'", "email~'user1'", "givenName~'ann'",
  "familyName~'ñúñ'", "givenName~'i̇lk'", "givenName~'σοφία'", "familyName~'SMITH'", "metadata.score>'50'", "metadata.score<='-1.5'",
  "metadata.score='10'", "metadata.score='10.0'", "metadata.score!='10'", "metadata.score>'abc'", "metadata.score<'5x'", "metadata.score~'5'",
  "metadata.score>='1e999'", "metadata.score<'1e999'", "metadata.score>'-1e999'", "metadata.flag='true'", "metadata.flag!='false'",
  "enabledUser='true'", "enabledUser!='true'", "enabledUser>'fal'", "enabledUser<'true'", "dateLastModified>'2020-06-01'",
  "dateLastModified<='2019-01-01T00:00:00.000Z'", "dateLastModified>='2019-03-04'", "middleName='Ann'", "middleName!='Ann'",
  "phone!='123'", "phone='123'", "metadata='x'", "metadata!='x'", "orgs='x'", "orgs!='x'", "userIds.identifier~'ID-1'",
  "sourcedId>'u-100'", "sourcedId<'u-050' OR role='student' AND status='tobedeleted'", "identifier='0012'", "identifier>'0100'",
  "identifier='12'", 'givenName=\'Ann "A" \\ $x %_y\'', "givenName~'%'", "familyName='_'", "familyName='$s'", "familyName~'$'",
  "familyName='@ == \"a\"'", "givenName>='Z'", "givenName<'B'", "nothing.here='x'", "nothing!='x'", "constructor='x'",
  "metadata.score>'9' AND metadata.score<'20' OR grades='KG'", "username~''", "grades='1'",
];

export const ENROLLMENT_FILTERS = [
  "class.sourcedId='class-3'", "user.sourcedId='u-007'", "school.sourcedId='org-2' AND role='teacher'",
  "class.sourcedId='class-3' OR class.sourcedId='class-4'", "class.sourcedId!='class-3'", "primary='true'", "primary!='true'",
  "beginDate>'2020-01-01'", "class.sourcedId>'class-5'", "user.sourcedId~'U-01'", "class.type='class' AND school.sourcedId='org-9'",
  "class.sourcedId='class-1'", "class.sourcedId='class-2'", "user.sourcedId='55'", "user.sourcedId='55.0'", "user.sourcedId='o-3'",
];

export const SORTS: Array<[string | undefined, boolean]> = [
  [undefined, false], ['familyName', false], ['familyName', true], ['metadata.score', false], ['metadata.score', true],
  ['orgs.sourcedId', false], ['dateLastModified', true], ['roles.role', false], ['middleName', false], ['sourcedId', true],
  ['givenName', true], ['grades', false], ['enabledUser', false], ['metadata', false], ['class.sourcedId', false], ['primary', true],
];

const PAGES: Array<[number, number]> = [[0, 1000], [0, 10], [5, 7], [40, 25], [1000, 10], [3, 0]];

// ---- the suite ----

/** What the contract gives a store: its clock (the contract's own), and retention when a test sets it. */
export interface StoreTestOptions {
  now: () => number;
  retention?: Partial<Retention>;
}

export function storeContract(name: string, make: (o: StoreTestOptions) => Promise<MirrorStore>, cleanup?: () => Promise<void>): void {
  describe(`mirror store contract: ${name}`, () => {
    const open: MirrorStore[] = [];
    // Copies are published at AT and a little after; the stores' clock reads a minute later
    // unless a test moves it (retention is measured on it).
    const clock = { t: AT + 60_000 };
    const store = async (retention?: Partial<Retention>) => {
      const s = await make({ now: () => clock.t, ...(retention ? { retention } : {}) });
      open.push(s);
      return s;
    };
    afterEach(async () => {
      clock.t = AT + 60_000;
      await Promise.all(open.splice(0).map((s) => s.close()));
    });
    if (cleanup) afterAll(cleanup);

    const district = () => `d-${uid()}`;
    const all = { offset: 0, limit: 10_000 } as const;
    const ids = async (s: MirrorStore, copy: CopyMeta, collection: MirrorCollection) => (await s.query(copy, { collection, ...all })).records.map(idOf);
    async function publishOnce(s: MirrorStore, d: string, data: Partial<Record<MirrorCollection, Json[]>>, at = AT): Promise<CopyMeta> {
      const staged = await s.stage(d);
      for (const [collection, records] of Object.entries(data)) await staged.add(collection as MirrorCollection, records);
      return staged.publish({ recordsVersion: 'v1p1', at });
    }

    describeCopies(store, district, publishOnce, ids);
    describeQueries(store, district, publishOnce);
    describeDeltas(store, district, publishOnce, ids);
    describeLocksAndDistricts(store, district, publishOnce, ids);
    describeChanges(store, district, publishOnce, clock);
  });
}

type Make = (retention?: Partial<Retention>) => Promise<MirrorStore>;
type Publish = (s: MirrorStore, d: string, data: Partial<Record<MirrorCollection, Json[]>>, at?: number) => Promise<CopyMeta>;
type Ids = (s: MirrorStore, copy: CopyMeta, collection: MirrorCollection) => Promise<string[]>;

function describeCopies(store: Make, district: () => string, publishOnce: Publish, ids: Ids): void {
  describe('staging and publishing', () => {
    it('has nothing before the first publish, and staged records stay invisible until it', async () => {
      const s = await store();
      const d = district();
      expect(await s.current(d)).toBeUndefined();
      const staged = await s.stage(d);
      await staged.add('users', [{ sourcedId: 'a' }, { sourcedId: 'b' }]);
      await staged.add('users', [{ sourcedId: 'a', givenName: 'second' }]);
      await staged.add('orgs', [{ sourcedId: 'o' }]);
      expect(await staged.counts()).toEqual({ users: 2, orgs: 1 });
      expect(await s.current(d)).toBeUndefined();
      const copy = await staged.publish({ recordsVersion: 'v1p2', at: AT });
      expect(copy).toMatchObject({ district: d, seq: 1, recordsVersion: 'v1p2', publishedAt: AT, agreedAt: AT, counts: { users: 2, orgs: 1 } });
      expect(copy.version).toMatch(/^[^.]+\.1$/);
      expect(await s.current(d)).toEqual(copy);
      expect(await s.get(copy, 'users', 'a')).toEqual({ sourcedId: 'a', givenName: 'second' });

      const next = await s.stage(d);
      await next.add('users', [{ sourcedId: 'zzz' }]);
      expect(await s.current(d)).toEqual(copy);
      expect(await ids(s, copy, 'users')).toEqual(['a', 'b']);
      await next.abort();
    });

    it('leaves nothing after abort, and a second stage discards an unfinished first', async () => {
      const s = await store();
      const d = district();
      const first = await s.stage(d);
      await first.add('users', [{ sourcedId: 'x' }]);
      await first.abort();
      expect(await s.current(d)).toBeUndefined();

      const dead = await s.stage(d);
      await dead.add('users', [{ sourcedId: 'from-dead-puller' }]);
      const live = await s.stage(d);
      await live.add('users', [{ sourcedId: 'y' }]);
      await expect(dead.publish({ recordsVersion: 'v1p1', at: AT })).rejects.toThrow();
      await expect(dead.add('users', [{ sourcedId: 'late' }])).rejects.toThrow();
      const copy = await live.publish({ recordsVersion: 'v1p1', at: AT });
      expect(await ids(s, copy, 'users')).toEqual(['y']);
      expect(copy.counts).toEqual({ users: 1 });
      expect(copy.seq).toBe(1);
    });

    it('publishes every staged collection at once, numbers copies, carries unstaged collections over and drops missing records', async () => {
      const s = await store();
      const d = district();
      const c1 = await publishOnce(s, d, { orgs: [{ sourcedId: 'o1' }, { sourcedId: 'o2' }], users: [{ sourcedId: 'u1' }, { sourcedId: 'u2' }, { sourcedId: 'u3' }], classes: [] });
      expect(c1.counts).toEqual({ orgs: 2, users: 3, classes: 0 });
      const epoch = c1.version.slice(0, c1.version.lastIndexOf('.'));
      expect(c1.version).toBe(`${epoch}.1`);

      const c2 = await publishOnce(s, d, { users: [{ sourcedId: 'u1', v: 2 }, { sourcedId: 'u3' }] }, AT + 1000);
      expect(c2.seq).toBe(2);
      expect(c2.version).toBe(`${epoch}.2`);
      expect(c2.version).not.toBe(c1.version);
      expect(c2.counts).toEqual({ orgs: 2, users: 2, classes: 0 });
      expect(c2.publishedAt).toBe(AT + 1000);
      expect(await s.current(d)).toEqual(c2);
      expect(await ids(s, c2, 'orgs')).toEqual(['o1', 'o2']);
      expect(await ids(s, c2, 'users')).toEqual(['u1', 'u3']);
      expect(await s.get(c2, 'users', 'u2')).toBeUndefined();
      expect(await s.get(c2, 'users', 'u1')).toEqual({ sourcedId: 'u1', v: 2 });
      expect((await s.query(c2, { collection: 'users', offset: 0, limit: 10 })).total).toBe(2);
      expect(await s.copy(d, c2.version)).toEqual(c2);

      // A collection staged empty is replaced by nothing.
      const c3 = await publishOnce(s, d, { orgs: [] }, AT + 2000);
      expect(c3.counts).toEqual({ orgs: 0, users: 2, classes: 0 });
      expect(await ids(s, c3, 'orgs')).toEqual([]);
      expect(await ids(s, c3, 'users')).toEqual(['u1', 'u3']);
    });

    it('finds copies by version only when the version is its own', async () => {
      const s = await store();
      const d = district();
      const c1 = await publishOnce(s, d, { users: [{ sourcedId: 'u' }] });
      const epoch = c1.version.slice(0, c1.version.lastIndexOf('.'));
      expect(await s.copy(d, c1.version)).toEqual(c1);
      for (const bad of ['', '1', `${epoch}.`, `${epoch}.0`, `${epoch}.99`, `${epoch}.1.1`, `x${epoch}.1`, `${epoch}.01`, `${epoch}.1e0`, `${epoch}.99999999999999999999`]) {
        expect(await s.copy(d, bad)).toBeUndefined();
      }
      expect(await s.copy(district(), c1.version)).toBeUndefined();
    });

    it('gets one record by sourcedId, and nothing for an absent id or another collection', async () => {
      const s = await store();
      const d = district();
      const user = { sourcedId: 'u1', givenName: 'Zoë', orgs: [{ sourcedId: 'o1', type: 'org' }], metadata: { n: 1.5, b: true, z: null } };
      const copy = await publishOnce(s, d, { users: [user], orgs: [{ sourcedId: 'o1' }] });
      expect(await s.get(copy, 'users', 'u1')).toEqual(user);
      expect(await s.get(copy, 'users', 'nope')).toBeUndefined();
      expect(await s.get(copy, 'orgs', 'u1')).toBeUndefined();
      expect(await s.get(copy, 'classes', 'u1')).toBeUndefined();
    });
  });
}

function describeQueries(store: Make, district: () => string, publishOnce: Publish): void {
  describe('queries, checked against matchesFilter and sortRecords', () => {
    const data = makeRecords();
    const odd = makeOddRecords();

    async function check(s: MirrorStore, copy: CopyMeta, records: Json[], q: MirrorQuery): Promise<void> {
      const got = await s.query(copy, q);
      const want = oracle(records, q);
      const label = JSON.stringify({ ...q, where: undefined, filter: (q as { text?: string }).text });
      expect({ q: label, total: got.total, ids: got.records.map(idOf) }).toEqual({ q: label, total: want.total, ids: want.records.map(idOf) });
      expect(got.records).toEqual(want.records);
    }

    it('answers a battery of user filters with every sort and page like the oracle', async () => {
      const s = await store();
      const d = district();
      const copy = await publishOnce(s, d, { users: data.users });
      let i = 0;
      for (const text of USER_FILTERS) {
        const where = parseFilter(text);
        await check(s, copy, data.users, { collection: 'users', where, offset: 0, limit: 1000, text } as MirrorQuery);
        const [sort, desc] = SORTS[i % SORTS.length]!;
        const [offset, limit] = PAGES[i % PAGES.length]!;
        await check(s, copy, data.users, { collection: 'users', where, sort, desc, offset, limit, text } as MirrorQuery);
        i++;
      }
    });

    it('sorts and pages the whole collection like the oracle', async () => {
      const s = await store();
      const copy = await publishOnce(s, district(), { users: data.users });
      for (const [sort, desc] of SORTS) {
        for (const [offset, limit] of PAGES) await check(s, copy, data.users, { collection: 'users', sort, desc, offset, limit });
      }
    });

    it('answers GUIDRef lookups on enrollments like the oracle', async () => {
      const s = await store();
      const copy = await publishOnce(s, district(), { enrollments: data.enrollments });
      for (const text of ENROLLMENT_FILTERS) {
        await check(s, copy, data.enrollments, { collection: 'enrollments', where: parseFilter(text), offset: 0, limit: 1000, text } as MirrorQuery);
        await check(s, copy, data.enrollments, { collection: 'enrollments', where: parseFilter(text), sort: 'user.sourcedId', desc: true, offset: 2, limit: 5, text } as MirrorQuery);
      }
    });

    it('keeps only the given ids, alone and with a filter, sort and page', async () => {
      const s = await store();
      const copy = await publishOnce(s, district(), { users: data.users });
      const some = ['u-010', 'u-003', 'u-003', 'u-250', 'nope', 'u-101', 'u-102', 'u-200', "u-'1"];
      await check(s, copy, data.users, { collection: 'users', ids: some, offset: 0, limit: 100 });
      await check(s, copy, data.users, { collection: 'users', ids: [], offset: 0, limit: 100 });
      await check(s, copy, data.users, { collection: 'users', exclude: some, offset: 0, limit: 100 });
      await check(s, copy, data.users, { collection: 'users', exclude: some, where: parseFilter("status='active'"), sort: 'familyName', desc: true, offset: 3, limit: 30 });
      await check(s, copy, data.users, { collection: 'users', exclude: ['u-002'], ids: some, offset: 0, limit: 100 });
      await check(s, copy, data.users, { collection: 'users', ids: some, where: parseFilter("status='active'"), sort: 'familyName', offset: 1, limit: 3 });
      await check(s, copy, data.users, { collection: 'users', ids: data.users.map(idOf).slice(0, 150), where: parseFilter("role='student' OR roles.role='student'"), sort: 'metadata.score', desc: true, offset: 0, limit: 20 });
    });

    it('joins through another collection (via) like the oracle, in SQL and with records SQL finds hard', async () => {
      const s = await store();
      const plainCopy = await publishOnce(s, district(), { users: data.users, enrollments: data.enrollments });
      const users = [...data.users.slice(0, 60), ...odd.users, { sourcedId: 'plain-ref' }];
      const enrollments = [...data.enrollments.slice(0, 80), ...odd.enrollments, { sourcedId: 'oe-9', class: { sourcedId: 'class-1' }, user: 'plain-ref', role: 'student' }];
      const oddCopy = await publishOnce(s, district(), { users, enrollments });
      const cases: Array<[CopyMeta, Json[], Json[]]> = [[plainCopy, data.users, data.enrollments], [oddCopy, users, enrollments]];
      for (const [copy, us, es] of cases) {
        const joined = new Map([['enrollments', es]]);
        const classes = [...new Set(es.flatMap((e) => refId(e.class) ?? []))].slice(0, 4);
        for (const klass of [...classes, 'class-1', 'nope']) {
          for (const text of [`class.sourcedId='${klass}'`, `class.sourcedId='${klass}' AND role='student'`]) {
            const via = { collection: 'enrollments' as const, where: parseFilter(text), pick: 'user' as const };
            for (const q of [
              { collection: 'users', via, offset: 0, limit: 1000 },
              { collection: 'users', via, offset: 1, limit: 3, where: parseFilter("status='active'") },
              { collection: 'users', via, offset: 0, limit: 5, sort: 'familyName', desc: true },
              { collection: 'users', via, ids: ['u-003', 'o-3', 'plain-ref'], offset: 0, limit: 10 },
            ] as MirrorQuery[]) {
              const got = await s.query(copy, q);
              const want = oracle(us, q, joined);
              expect({ text, q: q.offset, total: got.total, ids: got.records.map(idOf) }).toEqual({ text, q: q.offset, total: want.total, ids: want.records.map(idOf) });
            }
          }
        }
        const byUser = { collection: 'classes' as const, offset: 0, limit: 100, via: { collection: 'enrollments' as const, where: parseFilter("user.sourcedId='o-1'"), pick: 'class' as const } };
        expect((await s.query(copy, byUser)).total).toBe(0); // no classes held: nothing to keep
      }
    });

    it('says how many records a page holds (size) and hands back text that parses to its records', async () => {
      const s = await store();
      const copy = await publishOnce(s, district(), { users: data.users });
      for (const [offset, limit] of [[0, 7], [5, 100], [10_000, 5]] as const) {
        const got = await s.query(copy, { collection: 'users', offset, limit });
        if (got.size !== undefined) expect(got.size).toBe(oracle(data.users, { collection: 'users', offset, limit }).records.length);
        if (got.text !== undefined) expect(JSON.parse(got.text)).toEqual(got.records);
        expect(got.records.map(idOf)).toEqual(oracle(data.users, { collection: 'users', offset, limit }).records.map(idOf));
      }
    });

    it('answers the same battery over records SQL finds hard (arrays in arrays, 1e21, U+1F600 beside U+E000, GUIDRef arrays)', async () => {
      const s = await store();
      const d = district();
      const users = [...data.users.slice(0, 60), ...odd.users];
      const enrollments = [...data.enrollments.slice(0, 40), ...odd.enrollments];
      const copy = await publishOnce(s, d, { users, enrollments });
      const extra = ["grades='10'", "grades='12'", "grades!='09'", "orgs.sourcedId='org-1'", "givenName>'\uE000'", "givenName<'\u{1F600}'", "metadata.score>'1e20'", "metadata.score~'e'", "metadata.score~'0000001'", "sourcedId>'o-\uFFFD'"];
      let i = 0;
      for (const text of [...USER_FILTERS.slice(0, 30), ...extra]) {
        const where = parseFilter(text);
        const [sort, desc] = SORTS[i++ % SORTS.length]!;
        await check(s, copy, users, { collection: 'users', where, offset: 0, limit: 1000, text } as MirrorQuery);
        await check(s, copy, users, { collection: 'users', where, sort, desc, offset: 1, limit: 30, text } as MirrorQuery);
      }
      for (const [sort, desc] of SORTS) await check(s, copy, users, { collection: 'users', sort, desc, offset: 0, limit: 1000 });
      for (const text of ENROLLMENT_FILTERS) {
        await check(s, copy, enrollments, { collection: 'enrollments', where: parseFilter(text), offset: 0, limit: 1000, text } as MirrorQuery);
      }
      const ids = ['q"\\,{} NULL', 'NULL', '55', 'o-\u{1F600}', 'u-001', 'q', '{}', ''];
      await check(s, copy, users, { collection: 'users', ids, offset: 0, limit: 100 });
      await check(s, copy, users, { collection: 'users', ids, where: parseFilter("givenName~'id'"), offset: 0, limit: 100 });
    });

    it('answers random filters and sorts over randomly shaped records like the oracle', async () => {
      const s = await store();
      for (const [seed, mixed] of [[2024, false], [7, true]] as const) {
        const { records, queries } = randomCase(seed, 150, 150, mixed);
        const copy = await publishOnce(s, district(), { courses: records });
        for (const q of queries) await check(s, copy, records, q);
      }
    });

    it('pages a copy in order, and again once later copies exist (full pull, then a delta), like the oracle', async () => {
      const s = await store();
      const d = district();
      const first = data.users;
      const second = [...first.slice(25).map((r, i) => (i % 7 === 0 ? { ...r, givenName: `changed ${i}` } : r)), { sourcedId: 'a-new', givenName: 'new' }, { sourcedId: 'zz-new', givenName: 'new' }];
      const active = parseFilter("status='active'");
      const walk = async (copy: CopyMeta, records: Json[]) => {
        for (const desc of [false, true]) {
          for (const where of [undefined, active]) {
            for (let offset = 0; offset <= records.length; offset += 37) await check(s, copy, records, { collection: 'users', where, desc, offset, limit: 37 });
            for (const offset of [5, 74, 3, records.length - 2, 111]) await check(s, copy, records, { collection: 'users', where, desc, offset, limit: 20 });
          }
        }
      };
      const c1 = await publishOnce(s, d, { users: first });
      await walk(c1, first);
      const c2 = await publishOnce(s, d, { users: second }, AT + 1);
      await walk(c1, first);
      await walk(c2, second);
      const c3 = await s.apply(d, [{ collection: 'users', upserts: [{ sourcedId: 'b-new', givenName: 'delta' }], deletes: [idOf(second[3]!)] }], AT + 2);
      expect(c3?.seq).toBe(c2.seq + 1);
      await walk(c2, second);
      await walk(c3!, [...second.filter((r) => idOf(r) !== idOf(second[3]!)), { sourcedId: 'b-new', givenName: 'delta' }]);
    });

    it('answers a collection it does not hold with nothing', async () => {
      const s = await store();
      const copy = await publishOnce(s, district(), { users: data.users.slice(0, 5) });
      expect(await s.query(copy, { collection: 'classes', offset: 0, limit: 10 })).toEqual({ records: [], total: 0 });
      expect(await s.query(copy, { collection: 'classes', where: parseFilter("title~'x'"), offset: 0, limit: 10 })).toEqual({ records: [], total: 0 });
    });
  });
}

function describeDeltas(store: Make, district: () => string, publishOnce: Publish, ids: Ids): void {
  describe('deltas and agreement', () => {
    it('publishes nothing for an upsert identical in content, and does not move agreedAt', async () => {
      const s = await store();
      const d = district();
      const user = { sourcedId: 'u1', givenName: 'Ann', grades: ['09'], metadata: { score: 1.5 } };
      const c1 = await publishOnce(s, d, { users: [user, { sourcedId: 'u2' }] });
      expect(await s.apply(d, [{ collection: 'users', upserts: [structuredClone(user)] }], AT + 5000)).toBeUndefined();
      expect(await s.apply(d, [{ collection: 'users', upserts: [], deletes: ['nope'] }], AT + 6000)).toBeUndefined();
      expect(await s.current(d)).toEqual(c1);
    });

    it('publishes a changed, new or deleted record as the next copy, keeping recordsVersion and agreedAt', async () => {
      const s = await store();
      const d = district();
      const c1 = await publishOnce(s, d, { users: [{ sourcedId: 'u1', givenName: 'Ann' }, { sourcedId: 'u2' }, { sourcedId: 'u3' }], orgs: [{ sourcedId: 'o1' }] });
      const c2 = await s.apply(d, [{ collection: 'users', upserts: [{ sourcedId: 'u1', givenName: 'Anna' }, { sourcedId: 'u4' }], deletes: ['u2'] }], AT + 5000);
      expect(c2).toMatchObject({ district: d, seq: 2, recordsVersion: 'v1p1', publishedAt: AT + 5000, agreedAt: c1.agreedAt, counts: { users: 3, orgs: 1 } });
      expect(c2!.version).not.toBe(c1.version);
      expect(await s.current(d)).toEqual(c2);
      expect(await s.get(c2!, 'users', 'u1')).toEqual({ sourcedId: 'u1', givenName: 'Anna' });
      expect(await ids(s, c2!, 'users')).toEqual(['u1', 'u3', 'u4']);
      expect(await ids(s, c2!, 'orgs')).toEqual(['o1']);
      expect((await s.query(c2!, { collection: 'users', where: parseFilter("givenName='Ann'"), offset: 0, limit: 10 })).total).toBe(0);

      const c3 = await s.apply(d, [{ collection: 'orgs', upserts: [], deletes: ['o1'] }, { collection: 'classes', upserts: [{ sourcedId: 'k1' }] }], AT + 6000);
      expect(c3).toMatchObject({ seq: 3, counts: { users: 3, orgs: 0, classes: 1 } });
      expect(await ids(s, c3!, 'orgs')).toEqual([]);
      expect(await ids(s, c3!, 'classes')).toEqual(['k1']);
    });

    it('applies nothing to a district with no copy, and agreed() moves agreedAt only', async () => {
      const s = await store();
      const d = district();
      expect(await s.apply(d, [{ collection: 'users', upserts: [{ sourcedId: 'u1' }] }], AT)).toBeUndefined();
      await s.agreed(d, AT);
      expect(await s.current(d)).toBeUndefined();
      const c1 = await publishOnce(s, d, { users: [{ sourcedId: 'u1' }] });
      await s.agreed(d, AT + 9000);
      expect(await s.current(d)).toEqual({ ...c1, agreedAt: AT + 9000 });
      const c2 = await s.apply(d, [{ collection: 'users', upserts: [{ sourcedId: 'u1', x: 1 }] }], AT + 10_000);
      expect(c2).toMatchObject({ seq: 2, publishedAt: AT + 10_000, agreedAt: AT + 9000 });
    });
  });
}

function describeLocksAndDistricts(store: Make, district: () => string, publishOnce: Publish, ids: Ids): void {
  describe('pull locks, districts, status', () => {
    it('runs one pull per district at a time, and releases the lock when fn resolves or throws', async () => {
      const s = await store();
      const d = district();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const first = s.withPullLock(d, async () => {
        await gate;
        return 'first';
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(await s.withPullLock(d, async () => 'second')).toEqual({ ran: false });
      expect(await s.withPullLock(district(), async () => 'other district')).toEqual({ ran: true, value: 'other district' });
      release();
      expect(await first).toEqual({ ran: true, value: 'first' });
      expect(await s.withPullLock(d, async () => 'after')).toEqual({ ran: true, value: 'after' });
      await expect(s.withPullLock(d, async () => Promise.reject(new Error('pull failed')))).rejects.toThrow('pull failed');
      expect(await s.withPullLock(d, async () => 'after a throw')).toEqual({ ran: true, value: 'after a throw' });
    });

    it('keeps districts apart, and drop forgets one district and nothing of another', async () => {
      const s = await store();
      const a = district();
      const b = district();
      const ca = await publishOnce(s, a, { users: [{ sourcedId: 'same', from: 'a' }, { sourcedId: 'only-a' }] });
      const cb = await publishOnce(s, b, { users: [{ sourcedId: 'same', from: 'b' }] });
      await s.writeStatus(a, '{"state":"a"}');
      await s.writeStatus(b, '{"state":"b"}');
      expect(await s.get(ca, 'users', 'same')).toEqual({ sourcedId: 'same', from: 'a' });
      expect(await s.get(cb, 'users', 'same')).toEqual({ sourcedId: 'same', from: 'b' });
      expect(await ids(s, cb, 'users')).toEqual(['same']);
      expect(await s.readStatus(a)).toBe('{"state":"a"}');

      const staged = await s.stage(a);
      await staged.add('users', [{ sourcedId: 'staged' }]);
      await s.drop(a);
      expect(await s.current(a)).toBeUndefined();
      expect(await s.copy(a, ca.version)).toBeUndefined();
      expect(await s.query(ca, { collection: 'users', offset: 0, limit: 10 })).toEqual({ records: [], total: 0 });
      expect(await s.get(ca, 'users', 'same')).toBeUndefined();
      expect(await s.readStatus(a)).toBeUndefined();
      expect(await s.current(b)).toEqual(cb);
      expect(await s.get(cb, 'users', 'same')).toEqual({ sourcedId: 'same', from: 'b' });
      expect(await s.readStatus(b)).toBe('{"state":"b"}');
    });

    it('stores pull status per district, the last write winning', async () => {
      const s = await store();
      const d = district();
      expect(await s.readStatus(d)).toBeUndefined();
      await s.writeStatus(d, '{"n":1}');
      await s.writeStatus(d, '{"n":2,"text":"Zoë \\"q\\""}');
      expect(await s.readStatus(d)).toBe('{"n":2,"text":"Zoë \\"q\\""}');
    });
  });
}

function describeChanges(store: Make, district: () => string, publishOnce: Publish, clock: { t: number }): void {
  describe('observed changes, snapshots and retention', () => {
    const orgs = [{ sourcedId: 'o1', name: 'North' }, { sourcedId: 'o2', name: 'South' }];
    const users = Array.from({ length: 6 }, (_, i) => ({ sourcedId: `u${i}`, givenName: `n${i}`, dateLastModified: '2020-01-01T00:00:00.000Z' }));
    const all = (s: MirrorStore, d: string, after: ChangePosition, upTo: number, limit = 1000, collections: MirrorCollection[] = ['orgs', 'users']) =>
      s.changes(d, { after, upTo, collections, limit });
    const brief = (cs: readonly ObservedChange[] | undefined) => cs?.map((c) => `${c.seq}:${c.collection}:${c.sourcedId}:${c.op}`);

    it("records nothing for a district's first copy, then every created, changed and deleted record of each later copy, in feed order", async () => {
      const s = await store();
      const d = district();
      const c1 = await publishOnce(s, d, { orgs, users });
      expect(await s.changeLog(d)).toEqual({ horizon: c1.seq, held: 0, tombstones: 0 });
      expect(await all(s, d, { seq: c1.seq }, c1.seq)).toEqual([]);
      // u0 changed content without a new dateLastModified, u1 purged, u9 new, o2 renamed; the rest identical.
      const next = [{ ...users[0]!, givenName: 'quietly renamed' }, ...users.slice(2), { sourcedId: 'u9', givenName: 'new' }];
      const c2 = await publishOnce(s, d, { orgs: [orgs[0]!, { sourcedId: 'o2', name: 'South High' }], users: next }, AT + 1000);
      const changes = await all(s, d, { seq: c1.seq }, c2.seq);
      expect(brief(changes)).toEqual([`${c2.seq}:orgs:o2:updated`, `${c2.seq}:users:u0:updated`, `${c2.seq}:users:u1:deleted`, `${c2.seq}:users:u9:created`]);
      expect(changes!.every((c) => c.at === c2.publishedAt)).toBe(true);
      expect(changes!.find((c) => c.sourcedId === 'u1')!.record).toEqual(users[1]);
      expect(changes!.find((c) => c.sourcedId === 'u0')!.record).toEqual(next[0]);
      expect(await s.changeLog(d)).toMatchObject({ horizon: c1.seq, held: 4, tombstones: 1, oldestAt: c2.publishedAt, last: { seq: c2.seq, changed: { orgs: { created: 0, updated: 1, deleted: 0 }, users: { created: 1, updated: 1, deleted: 1 } } } });

      // A delta: one changed, one deleted, one identical (nothing), one new.
      const c3 = await s.apply(d, [{ collection: 'users', upserts: [{ ...next[1]!, givenName: 'delta' }, next[2]!, { sourcedId: 'u7' }], deletes: ['u9'] }], AT + 2000);
      expect(brief(await all(s, d, { seq: c2.seq }, c3!.seq))).toEqual([`${c3!.seq}:users:u2:updated`, `${c3!.seq}:users:u7:created`, `${c3!.seq}:users:u9:deleted`]);
      // Paging: after a change mid-copy, the limit, the collections asked for, and the reader's copy.
      expect(brief(await all(s, d, { seq: c2.seq, collection: 'users', sourcedId: 'u0' }, c3!.seq, 2))).toEqual([`${c2.seq}:users:u1:deleted`, `${c2.seq}:users:u9:created`]);
      expect(brief(await all(s, d, { seq: c2.seq, collection: 'orgs', sourcedId: 'o2' }, c3!.seq, 1))).toEqual([`${c2.seq}:users:u0:updated`]);
      expect(brief(await all(s, d, { seq: c1.seq }, c3!.seq, 1000, ['orgs']))).toEqual([`${c2.seq}:orgs:o2:updated`]);
      expect(brief(await all(s, d, { seq: c1.seq }, c2.seq))).toHaveLength(4);
      expect(await all(s, d, { seq: c3!.seq }, c3!.seq)).toEqual([]);
      // Places the store cannot answer: before its first copy, beyond its current one, another district.
      expect(await all(s, d, { seq: c1.seq - 1 }, c3!.seq)).toBeUndefined();
      expect(await all(s, d, { seq: c3!.seq + 1 }, c3!.seq + 1)).toBeUndefined();
      expect(await all(s, district(), { seq: 1 }, 1)).toBeUndefined();
    });

    it('tells the latest change of each record since a time, as of a copy (what a dateLastModified> read adds)', async () => {
      const s = await store();
      const d = district();
      const c1 = await publishOnce(s, d, { users });
      const c2 = await s.apply(d, [{ collection: 'users', upserts: [{ ...users[0]!, givenName: 'a' }, { ...users[1]!, givenName: 'a' }] }], AT + 1000);
      const c3 = await s.apply(d, [{ collection: 'users', upserts: [{ ...users[0]!, givenName: 'b' }], deletes: ['u1', 'u2'] }], AT + 2000);
      const since = async (copy: CopyMeta, t: number, inclusive = false, max = 100) =>
        (await s.changedSince(copy, 'users', t, inclusive, max))?.map((c) => `${c.sourcedId}:${c.op}:${c.seq}`).sort();
      expect(await since(c3!, AT)).toEqual([`u0:updated:${c3!.seq}`, `u1:deleted:${c3!.seq}`, `u2:deleted:${c3!.seq}`]);
      expect(await since(c3!, AT + 1000)).toEqual([`u0:updated:${c3!.seq}`, `u1:deleted:${c3!.seq}`, `u2:deleted:${c3!.seq}`]);
      expect(await since(c3!, AT + 2000)).toEqual([]);
      expect(await since(c3!, AT + 2000, true)).toHaveLength(3);
      expect(await since(c2!, AT)).toEqual([`u0:updated:${c2!.seq}`, `u1:updated:${c2!.seq}`]);
      expect(await since(c3!, AT, false, 2)).toBeUndefined();
      expect(await since(c1, AT)).toEqual([]);
      expect(await s.changedSince(c3!, 'orgs', AT, false, 100)).toEqual([]);
    });

    it('keeps a copy readable for the snapshot retention after it stops being current, and says since when', async () => {
      const s = await store({ snapshotMs: 10_000 });
      const d = district();
      const c1 = await publishOnce(s, d, { users });
      expect((await s.copy(d, c1.version))?.supersededAt).toBeUndefined();
      clock.t = AT + 100_000;
      const c2 = await publishOnce(s, d, { users: users.slice(1) }, clock.t);
      const pinned = await s.copy(d, c1.version);
      expect(pinned?.supersededAt).toBe(c2.publishedAt);
      expect((await s.query(pinned!, { collection: 'users', offset: 0, limit: 10 })).total).toBe(6);
      clock.t += 20_000;
      const c3 = await s.apply(d, [{ collection: 'users', upserts: [{ sourcedId: 'u8' }] }], clock.t);
      expect(await s.copy(d, c1.version)).toBeUndefined();
      expect((await s.copy(d, c2.version))?.supersededAt).toBe(c3!.publishedAt);
      expect((await s.query(c2, { collection: 'users', offset: 0, limit: 10 })).total).toBe(5);
    });

    it('forgets changes past the change retention: a place before them can no longer be answered', async () => {
      const s = await store({ changeMs: 50_000 });
      const d = district();
      const c1 = await publishOnce(s, d, { users });
      const c2 = await s.apply(d, [{ collection: 'users', upserts: [{ sourcedId: 'u8' }] }], AT + 1000);
      clock.t = AT + 200_000;
      const c3 = await s.apply(d, [{ collection: 'users', upserts: [{ sourcedId: 'u9' }] }], clock.t);
      expect(await all(s, d, { seq: c1.seq }, c3!.seq)).toBeUndefined();
      expect(brief(await all(s, d, { seq: c2!.seq }, c3!.seq))).toEqual([`${c3!.seq}:users:u9:created`]);
      // A place inside the pruned copy is gone too (its other changes are no longer held).
      expect(await all(s, d, { seq: c2!.seq, collection: 'users', sourcedId: 'u0' }, c3!.seq)).toBeUndefined();
      expect(await s.changeLog(d)).toMatchObject({ horizon: c2!.seq, held: 1, tombstones: 0 });
      expect(await s.changedSince(c3!, 'users', AT, false, 100)).toHaveLength(1);
      await s.drop(d);
      expect(await s.changeLog(d)).toBeUndefined();
      expect(await all(s, d, { seq: c3!.seq }, c3!.seq)).toBeUndefined();
      // Added again, the district's copies go on numbering: no old version or cursor names a new copy.
      const again = await publishOnce(s, d, { users }, clock.t);
      expect(again.seq).toBeGreaterThan(c3!.seq);
      expect(await s.copy(d, c3!.version)).toBeUndefined();
    });
  });
}
