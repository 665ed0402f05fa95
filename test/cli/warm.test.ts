import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '../../src/cli/gateway-client.js';
import { upstreamRequests, warmCommand, WARM_DEFAULT_COLLECTIONS } from '../../src/cli/warm.js';
import { ALL_SCOPES, oauth1Sandbox, oauth2Sandbox, startStack, type Stack } from '../helpers/stack.js';
import { memoryIO, stackConfigFile, warmRows } from './helpers.js';

let stack: Stack;
let config: string;
let token: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [
      // The district clamps pages to 40 records: one gateway page of 100 costs 3 upstream requests.
      { id: 'springfield', sandbox: oauth1Sandbox({ users: 150, maxPageSize: 40 }) },
      { id: 'shelbyville', sandbox: oauth2Sandbox({ users: 150 }) },
      { id: 'ogdenville', sandbox: oauth1Sandbox({ users: 60 }), extra: { upstream: { retry: { maxAttempts: 1 } } } },
      { id: 'capital', sandbox: oauth1Sandbox({ users: 60 }), extra: { version: 'auto' } },
      { id: 'mirrored', sandbox: oauth1Sandbox({ users: 80 }), extra: { mirror: true } },
      // Mirrored, but the gateway's credentials are wrong: its pull fails.
      { id: 'locked', sandbox: oauth1Sandbox({ users: 20 }), extra: { mirror: true, upstream: { retry: { maxAttempts: 1 } } }, authExtra: { consumerSecret: 'not-the-secret' } },
    ],
    clients: [
      { clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES },
      { clientId: 'core-only', clientSecret: 'core-secret-value', districts: ['*'], scopes: ['roster-core.readonly'] },
      { clientId: 'elsewhere', clientSecret: 'elsewhere-secret', districts: ['shelbyville'], scopes: ALL_SCOPES },
    ],
    cache: { ttlSeconds: 3600 },
  });
  config = stackConfigFile(stack);
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

async function warm(args: string[], opts: { tty?: boolean } = {}) {
  const io = memoryIO(opts);
  const code = await warmCommand.run([...args, '--config', config], io);
  return { code, out: io.out(), err: io.err() };
}

/** The gateway paths warm reads for a collection, in page order. */
function pagePaths(district: string, versionRoot: string, collection: string, total: number, limit: number): string[] {
  const paths: string[] = [];
  for (let offset = 0; offset === 0 || offset < total; offset += limit) {
    paths.push(`/districts/${district}/ims/oneroster${versionRoot}/${collection}?limit=${limit}&offset=${offset}`);
  }
  return paths;
}

describe('warm', () => {
  it('reads every page of the default collections; afterwards the same pages are HITs and the district is not asked again', async () => {
    const sandbox = stack.sandboxes.springfield!;
    const before = sandbox.hitCount();
    const r = await warm(['springfield', '--client', 'app', '--page-size', '100']);
    expect(r.code).toBe(0);
    const rows = warmRows(r.out);
    expect(rows.map((x) => x.collection)).toEqual([...WARM_DEFAULT_COLLECTIONS, 'total']);
    for (const row of rows.slice(0, -1)) expect(row.result, row.collection).toBe('warmed');

    // The upstream column is what the district saw, request for request.
    const total = rows.at(-1)!;
    expect(total.upstream).toBe(sandbox.hitCount() - before);
    expect(total.upstream).toBeGreaterThan(total.pages); // pages of 100 from a district that serves 40
    expect(total.records).toBe(rows.slice(0, -1).reduce((n, x) => n + x.records, 0));

    const users = rows.find((x) => x.collection === 'users')!;
    const userCount = sandbox.store.list('users').length;
    expect(users).toMatchObject({ pages: Math.ceil(userCount / 100), records: userCount });

    const after = sandbox.hitCount();
    for (const c of WARM_DEFAULT_COLLECTIONS) {
      const row = rows.find((x) => x.collection === c)!;
      for (const path of pagePaths('springfield', '/v1p1', c, row.records, 100)) {
        const res = await stack.http.get(path).set('authorization', `Bearer ${token}`);
        expect(res.status, path).toBe(200);
        expect(res.headers['x-cache'], path).toBe('HIT');
      }
    }
    expect(sandbox.hitCount()).toBe(after);

    // A second warm is all hits: zero upstream requests.
    const again = await warm(['springfield', '--client', 'app', '--page-size', '100']);
    expect(again.code).toBe(0);
    expect(warmRows(again.out).at(-1)!.upstream).toBe(0);
    expect(sandbox.hitCount()).toBe(after);
  });

  it('uses the 1.2 rostering paths on a 1.2 district, and fetches pages concurrently once the total is known', async () => {
    const sandbox = stack.sandboxes.shelbyville!;
    const before = sandbox.hitCount('/ims/oneroster');
    const r = await warm(['shelbyville', 'users', 'enrollments', '--client', 'app', '--page-size', '50', '--concurrency', '4']);
    expect(r.code).toBe(0);
    const rows = warmRows(r.out);
    expect(rows.at(-1)!.upstream).toBe(sandbox.hitCount('/ims/oneroster') - before);
    const hits = sandbox.hits.slice(-rows.at(-1)!.upstream);
    expect(hits.every((h) => h.path.startsWith('/ims/oneroster/rostering/v1p2/'))).toBe(true);
    const enrollments = rows.find((x) => x.collection === 'enrollments')!;
    expect(enrollments.records).toBe(sandbox.store.list('enrollments').length);
    expect(enrollments.pages).toBe(Math.ceil(enrollments.records / 50));
    for (const path of pagePaths('shelbyville', '/rostering/v1p2', 'enrollments', enrollments.records, 50)) {
      expect((await stack.http.get(path).set('authorization', `Bearer ${token}`)).headers['x-cache'], path).toBe('HIT');
    }
  });

  it('learns the version of a `version: auto` district the gateway has not probed yet', async () => {
    const r = await warm(['capital', 'orgs', 'users', '--client', 'app']);
    expect(r.code).toBe(0);
    expect(warmRows(r.out).slice(0, 2).map((x) => x.result)).toEqual(['warmed', 'warmed']);
    // The district speaks 1.1: its pages were read (and cached) on the 1.1 paths.
    const res = await stack.http.get('/districts/capital/ims/oneroster/v1p1/orgs?limit=1000&offset=0').set('authorization', `Bearer ${token}`);
    expect(res.headers['x-cache']).toBe('HIT');
  });

  it('skips a collection the district does not have (404, 501) and still exits 0', async () => {
    // A district whose server has no demographics endpoint answers 404 for the collection.
    stack.sandboxes.shelbyville!.injectFault({ kind: 'status', status: 404 }, { match: '/demographics', times: 1 });
    const r = await warm(['shelbyville', 'orgs', 'demographics', 'scoreScales', '--client', 'app']);
    expect(r.code).toBe(0);
    const rows = warmRows(r.out);
    expect(rows.find((x) => x.collection === 'orgs')!.result).toBe('warmed');
    expect(rows.find((x) => x.collection === 'scoreScales')!.result).toBe('warmed'); // a 1.2 gradebook path
    expect(rows.find((x) => x.collection === 'demographics')).toMatchObject({ result: 'skipped', pages: 0, note: 'HTTP 404' });
    expect(r.err).toContain('warm shelbyville/demographics: skipped (HTTP 404)');

    // Score scales exist only in 1.2: the 1.1 path of a 1.1 district has none.
    const v1p1 = await warm(['springfield', 'orgs', 'scoreScales', '--client', 'app']);
    expect(v1p1.code).toBe(0);
    expect(warmRows(v1p1.out).find((x) => x.collection === 'scoreScales')).toMatchObject({ result: 'skipped', pages: 0 });
  });

  it('exits 1 when a collection fails, with the gateway\'s description, and warms the others', async () => {
    const sandbox = stack.sandboxes.ogdenville!;
    sandbox.injectFault({ kind: 'status', status: 500 }, { match: '/courses', times: 1 });
    const r = await warm(['ogdenville', 'orgs', 'courses', 'classes', '--client', 'app']);
    expect(r.code).toBe(1);
    const rows = warmRows(r.out);
    expect(rows.find((x) => x.collection === 'orgs')!.result).toBe('warmed');
    expect(rows.find((x) => x.collection === 'classes')!.result).toBe('warmed');
    const failed = rows.find((x) => x.collection === 'courses')!;
    expect(failed.result).toBe('failed');
    expect(failed.note).toMatch(/^HTTP 502: /);
    expect(r.err).toContain('warm ogdenville/courses: failed');
  });

  it('fails a collection the token may not read (403) instead of skipping it', async () => {
    const r = await warm(['ogdenville', 'orgs', 'demographics', '--client', 'core-only']);
    expect(r.code).toBe(1);
    expect(warmRows(r.out).find((x) => x.collection === 'demographics')).toMatchObject({ result: 'failed' });
  });

  it('exits 1 for a district the client may not use, and for an unknown client', async () => {
    const other = await warm(['springfield', '--client', 'elsewhere']);
    expect(other.code).toBe(1);
    expect(other.err).toContain('district "springfield" is unknown to the gateway, or client "elsewhere" may not use it');
    const unknown = await warm(['springfield', '--client', 'nobody']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no client "nobody"');
  });

  it('--mirror waits for a mirrored district to have a copy instead of reading pages', async () => {
    const sandbox = stack.sandboxes.mirrored!;
    const r = await warm(['mirrored', '--client', 'app', '--mirror', '--timeout', '20']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^mirror of mirrored ready: version \S+, \d+ records, age \d+ s$/m);
    // Reads are now the mirror's: the district is not asked.
    const before = sandbox.hitCount();
    const page = await stack.http.get('/districts/mirrored/ims/oneroster/v1p1/users?limit=5').set('authorization', `Bearer ${token}`);
    expect(page.headers['x-cache']).toBe('MIRROR');
    expect(sandbox.hitCount()).toBe(before);
  });

  it('--mirror exits 1 for a district that is not mirrored, and for one whose pull failed, saying why', async () => {
    const off = await warm(['springfield', '--client', 'app', '--mirror']);
    expect(off.code).toBe(1);
    expect(off.err).toContain('district "springfield" is not mirrored');
    const failed = await warm(['locked', '--client', 'app', '--mirror', '--timeout', '20']);
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/the mirror of "locked" has no copy: its last full pull failed \(the district answered HTTP 401\)/);
  });

  it('draws a progress bar on a terminal and prints lines otherwise', async () => {
    const tty = await warm(['springfield', 'users', '--client', 'app', '--page-size', '20'], { tty: true });
    expect(tty.code).toBe(0);
    expect(tty.err).toContain('\r\x1b[K');
    expect(tty.err).toMatch(/springfield\/users \[#+\.*\] \d+ pages?, \d+\/\d+ records/);
    const plain = await warm(['springfield', 'users', '--client', 'app', '--page-size', '20']);
    expect(plain.err).not.toContain('\x1b');
    expect(plain.err).toMatch(/^warm springfield\/users: warmed, \d+ pages, \d+\/\d+ records, \d+\.\d\d s, 0 upstream requests$/m);
  });
});

describe('warm helpers', () => {
  it('reads the upstream request count from Server-Timing', () => {
    expect(upstreamRequests(null)).toBe(0);
    expect(upstreamRequests('upstream;dur=12.3;desc="2"')).toBe(2);
    expect(upstreamRequests('cache;dur=1, upstream;desc=7;dur=3')).toBe(7);
    expect(upstreamRequests('upstream;dur=4')).toBe(1);
    expect(upstreamRequests('db;dur=4')).toBe(0);
  });

  it('reads the description of either status-info shape', () => {
    const answer = (status: number, body: unknown) => ({ status, headers: new Headers(), body });
    expect(describeError(answer(404, { imsx_codeMajor: 'failure', imsx_description: 'No such thing.' }))).toBe('HTTP 404: No such thing.');
    expect(describeError(answer(502, { statusInfoSet: [{ imsx_codeMajor: 'failure', imsx_description: 'District failed.' }] }))).toBe('HTTP 502: District failed.');
    expect(describeError(answer(500, '<html>'))).toBe('HTTP 500');
  });
});
