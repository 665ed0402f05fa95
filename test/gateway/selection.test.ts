import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, oauth1Sandbox, oauth2Sandbox, startStack, type Stack } from '../helpers/stack.js';
import { expectValid, statusInfoSchemas } from '../support/oneroster-schemas.js';

// `sort` and `fields` are checked by the gateway against the PATH version's model before any
// upstream call: the same bad request is the same 400 for a 1.1 and a 1.2 district, on 1.1 and
// 1.2 paths, whether the district speaks the path's version (passthrough) or the other one
// (translated by the version bridge), and no district sees it.

type Version = 'v1p1' | 'v1p2';
const ROOT: Record<Version, string> = { v1p1: '/ims/oneroster/v1p1', v1p2: '/ims/oneroster/rostering/v1p2' };
// Path version, district, mode.
const MODES = [
  ['v1p1', 'old', 'passthrough'],
  ['v1p1', 'new', 'translated'],
  ['v1p2', 'new', 'passthrough'],
  ['v1p2', 'old', 'translated'],
] as const;
const DISTRICTS = ['old', 'new'] as const;
const USER = 'usr-00001';

let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [
      { id: 'old', sandbox: oauth1Sandbox({ users: 40 }) },
      { id: 'new', sandbox: oauth2Sandbox({ users: 40 }) },
    ],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

const get = (district: string, version: Version, rest: string) =>
  stack.http.get(`/districts/${district}${ROOT[version]}${rest}`).set('authorization', `Bearer ${token}`);
const resetHits = () => DISTRICTS.forEach((d) => stack.sandboxes[d]!.resetHits());
const hits = () => DISTRICTS.map((d) => stack.sandboxes[d]!.hitCount());

function codeMinorOf(version: Version, body: Record<string, any>): unknown {
  const info = version === 'v1p2' ? body.imsx_CodeMinor : body.statusInfoSet?.[0]?.imsx_codeMinor;
  return info?.imsx_codeMinorField?.[0]?.imsx_codeMinorFieldValue;
}

const BAD: Array<[Version, string, 'invalid_sort_field' | 'invalid_selection_field']> = [
  ['v1p1', '/users?sort=nope', 'invalid_sort_field'],
  ['v1p1', '/users?sort=roles.role', 'invalid_sort_field'], // a 1.2 name
  ['v1p1', '/users?sort=toString', 'invalid_sort_field'],
  ['v1p1', '/classes/cls-0001/students?sort=nope&orderBy=desc', 'invalid_sort_field'],
  ['v1p1', '/users?fields=sourcedId,nope', 'invalid_selection_field'],
  ['v1p1', '/users?fields=preferredFirstName', 'invalid_selection_field'], // a 1.2 name
  ['v1p1', `/users/${USER}?fields=nope`, 'invalid_selection_field'],
  ['v1p2', '/users?sort=nope', 'invalid_sort_field'],
  ['v1p2', '/users?sort=role', 'invalid_sort_field'], // a 1.1 name
  ['v1p2', '/users?sort=%20familyName', 'invalid_sort_field'],
  ['v1p2', '/users?sort=constructor&fields=sourcedId', 'invalid_sort_field'],
  ['v1p2', '/users?fields=sourcedId,role', 'invalid_selection_field'], // a 1.1 name
  ['v1p2', '/users?fields=roles.role', 'invalid_selection_field'],
  ['v1p2', `/users/${USER}?fields=hasOwnProperty`, 'invalid_selection_field'],
];

describe('unknown sort and fields names', () => {
  it.each(BAD)('%s %s: the same 400 %s for every district, and no district is asked', async (version, rest, codeMinor) => {
    resetHits();
    const answers = [];
    for (const district of DISTRICTS) {
      const res = await get(district, version, rest);
      expect([district, res.status, codeMinorOf(version, res.body)]).toEqual([district, 400, codeMinor]);
      // The path version's status-info shape: 1.1 a statusInfoSet array, 1.2 one object.
      expectValid(statusInfoSchemas[version], res.body, `${district} ${version} error`);
      answers.push(res.body);
    }
    expect(answers[1]).toEqual(answers[0]);
    expect(hits()).toEqual([0, 0]);
  });
});

describe('known sort and fields names', () => {
  it('answer 200 in every mode, sorted and projected; a passthrough district is sent the fields list as checked', async () => {
    for (const [version, district, mode] of MODES) {
      const label = `${version} path, district ${district} (${mode})`;
      const sandbox = stack.sandboxes[district]!;
      sandbox.resetHits();
      const res = await get(district, version, '/users?sort=familyName&orderBy=desc&fields=sourcedId,%20familyName,sourcedId&limit=5');
      expect([label, res.status]).toEqual([label, 200]);
      const users = res.body.users as Array<Record<string, string>>;
      expect(users).toHaveLength(5);
      for (const u of users) expect(Object.keys(u).sort()).toEqual(['familyName', 'sourcedId']);
      const names = users.map((u) => u.familyName!);
      expect(names).toEqual([...names].sort().reverse());
      const sent = sandbox.hits.map((h) => new URLSearchParams(h.query));
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.every((q) => q.get('sort') === 'familyName')).toBe(true);
      // Passthrough: the district projects, so it gets the checked list. Translated: the bridge projects after mapping.
      expect([label, sent.map((q) => q.get('fields'))]).toEqual([label, sent.map(() => (mode === 'passthrough' ? 'sourcedId,familyName' : null))]);

      // A single-object GET takes fields only: its sort is not a parameter there.
      const one = await get(district, version, `/users/${USER}?fields=sourcedId,${version === 'v1p1' ? 'role' : 'roles'}&sort=nope`);
      expect([label, one.status]).toEqual([label, 200]);
      expect(Object.keys(one.body.user).sort()).toEqual(version === 'v1p1' ? ['role', 'sourcedId'] : ['roles', 'sourcedId']);

      // A dotted sort the path version's model knows.
      const dotted = await get(district, version, `/users?sort=${version === 'v1p1' ? 'orgs.sourcedId' : 'roles.role'}&limit=3`);
      expect([label, dotted.status]).toEqual([label, 200]);
      expect(dotted.body.users).toHaveLength(3);
    }
  });
});
