// A district whose server has no relationship routes (every /x/{id}/y is 404) still answers
// them once mirrored: the mirror knows what each route means over the whole data, and its
// answer is what a server with the routes (the plain sandbox) gives for the same route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Version } from '../../src/core/oneroster/endpoints.js';
import type { TestSandbox } from '../../src/sandbox/testing.js';
import { startBearer } from '../sandbox/helpers.js';
import { answerOf, difference } from '../mirror/parity-compare.js';
import { pick, q, type Picks } from '../mirror/parity-battery.js';
import { startFlatProxy, type FlatProxy } from '../mirror/parity-flat-proxy.js';
import { direct, startParityGateway, versionPath, type ParityGateway } from '../mirror/parity-stack.js';

interface Side {
  sandbox: TestSandbox;
  proxy: FlatProxy;
  picks: Picks;
}

const OTHER: Record<Version, Version> = { v1p1: 'v1p2', v1p2: 'v1p1' };
const sides = {} as Record<Version, Side>;
let gw: ParityGateway;
const mirroredId = (v: Version) => `flat-${v}`;
const plainId = (v: Version) => `flat-${v}-plain`;

/** Every relationship route of both versions (reference §1.2), some with a query. */
function routes(p: Picks): string[] {
  return [
    q(`/schools/${p.school}/teachers`), q(`/schools/${p.school}/students`, { sort: 'familyName', limit: 25, offset: 5 }),
    q(`/schools/${p.school}/classes`), q(`/schools/${p.school}/courses`), q(`/schools/${p.school}/enrollments`, { filter: "role='teacher'" }),
    q(`/schools/${p.school}/terms`),
    q(`/schools/${p.school}/classes/${p.klass}/students`), q(`/schools/${p.school}/classes/${p.klass}/teachers`),
    q(`/schools/${p.school}/classes/${p.klass}/enrollments`),
    q(`/classes/${p.klass}/students`), q(`/classes/${p.klass}/teachers`), q(`/classes/${p.otherClass}/students`, { fields: 'sourcedId,givenName' }),
    q(`/courses/${p.course}/classes`), q(`/terms/${p.term}/classes`, { limit: 5 }), q(`/terms/${p.term}/gradingPeriods`),
    q(`/users/${p.student}/classes`), q(`/users/${p.teacher}/classes`), q(`/students/${p.student}/classes`), q(`/teachers/${p.teacher}/classes`),
  ];
}

const ids = (body: unknown): string[] => (Object.values(body as object)[0] as Array<{ sourcedId: string }>).map((r) => r.sourcedId);

beforeAll(async () => {
  for (const [version, seed] of [['v1p1', 5], ['v1p2', 6]] as const) {
    const sandbox = await startBearer({ version, users: 150, seed });
    sides[version] = { sandbox, proxy: await startFlatProxy(sandbox.url), picks: pick(sandbox.store) };
  }
  gw = await startParityGateway(
    (Object.keys(sides) as Version[]).flatMap((v) => [
      { id: mirroredId(v), version: v, baseUrl: sides[v].proxy.baseUrl, mirror: true },
      { id: plainId(v), version: v, baseUrl: sides[v].proxy.baseUrl, mirror: false },
    ]),
  );
}, 30_000);

afterAll(async () => {
  await gw?.close();
  await Promise.all(Object.values(sides).flatMap((s) => [s.proxy.close(), s.sandbox.close()]));
});

describe.each(['v1p1', 'v1p2'] as const)('a mirrored %s district without relationship routes', (version) => {
  it('lacks them without the mirror', async () => {
    const { picks } = sides[version];
    expect((await direct(sides[version].proxy, `${versionPath(version)}/schools/${picks.school}/teachers`)).status).toBe(404);
    expect((await gw.get(plainId(version), `${versionPath(version)}/schools/${picks.school}/teachers`)).status).toBe(404);
  });

  it('answers every relationship route of its version from the mirror as a server with the routes does, asking the district nothing', async () => {
    const side = sides[version];
    const paths = routes(side.picks).map((r) => `${versionPath(version)}${r}`);
    side.proxy.hits.length = 0;
    const answers = await Promise.all(paths.map((p) => gw.get(mirroredId(version), p)));
    expect(side.proxy.hits).toEqual([]);
    expect(answers.map((a) => a.headers.get('x-cache'))).toEqual(paths.map(() => 'MIRROR'));
    // The plain sandbox has the routes: what it answers is what the district should have.
    const expected = await Promise.all(paths.map((p) => direct(side.sandbox, p)));
    const rooting = [[side.sandbox.baseUrl, gw.root(mirroredId(version))]] as const;
    const mismatches = paths.flatMap((p, i) => difference(p, answerOf(expected[i]!, rooting), answerOf(answers[i]!, [])) ?? []);
    expect(mismatches).toEqual([]);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.filter((a) => ids(a.body).length > 0).length).toBeGreaterThanOrEqual(paths.length - 1);
  });

  it(`answers them for a ${OTHER[version]} caller too, with the same records`, async () => {
    const side = sides[version];
    const rel = routes(side.picks).filter((r) => !r.includes('?'));
    const answers = await Promise.all(rel.map((r) => gw.get(mirroredId(version), `${versionPath(OTHER[version])}${r}`)));
    const expected = await Promise.all(rel.map((r) => direct(side.sandbox, `${versionPath(version)}${r}`)));
    expect(answers.map((a) => [a.status, a.headers.get('x-cache'), ids(a.body)])).toEqual(expected.map((e) => [200, 'MIRROR', ids(e.body)]));
    expect(side.proxy.hits).toEqual([]);
  });
});
