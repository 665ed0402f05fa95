// Upstream blocks shared by every page size (service/page-blocks.ts), end to end: pages cut from
// blocks answer byte for byte what pages fetched as asked answer; three apps paging with limits
// 100, 200 and 5000 cost the district one pull; read-ahead follows a sequential reader and is
// bounded; a block built for one origin never shows that origin to another.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, bearerSandbox, startStack, type Stack } from '../helpers/stack.js';
import { rawRequest, type RawAnswer } from '../helpers/raw-http.js';

let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [
      // The same data (same seed) twice: cut from 37-record blocks, and fetched as asked.
      { id: 'blocked', sandbox: bearerSandbox({ users: 150 }), extra: { cache: { blockSize: 37 } } },
      { id: 'direct', sandbox: bearerSandbox({ users: 150 }), extra: { cache: { blockSize: 0 } } },
      // The default blocks (1000 records).
      { id: 'shared', sandbox: bearerSandbox({ users: 2500 }) },
      { id: 'asked', sandbox: bearerSandbox({ users: 2500 }), extra: { cache: { blockSize: 0 } } },
      { id: 'ahead', sandbox: bearerSandbox({ users: 200, latencyMs: 40 }), extra: { cache: { blockSize: 20 } } },
      // Clamps pages to 7 records and may stitch only 3: a client page of 20 can be filled, a 37-record block cannot.
      { id: 'clamped', sandbox: bearerSandbox({ users: 150, maxPageSize: 7 }), extra: { cache: { blockSize: 37 }, upstream: { maxStitchPages: 3 } } },
    ],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
    // Two blocks ahead (the default is 3), so the bound below is plain to count.
    cache: { readAhead: 2 },
    // read_ahead_total by district (the default counts the whole gateway's).
    extra: { metrics: { perDistrictHistograms: true } },
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

/** The answer as sent, its body as text. */
async function raw(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: RawAnswer['headers']; text: string }> {
  const r = await rawRequest(`${stack.gateway.url}${path}`, { authorization: `Bearer ${token}`, ...headers });
  return { status: r.status, headers: r.headers, text: r.bytes.toString() };
}
const hits = (id: string, collection: string) => stack.sandboxes[id]!.hits.filter((h) => h.path.endsWith(`/${collection}`)).length;

/** Every page of a collection through the gateway, following rel="next" as a pager does. */
async function pullAll(district: string, collection: string, limit: number): Promise<number> {
  let next: string | undefined = `/districts/${district}/ims/oneroster/v1p1/${collection}?limit=${limit}&offset=0`;
  let records = 0;
  while (next) {
    const r = await raw(next);
    expect(r.status).toBe(200);
    records += (JSON.parse(r.text)[collection] as unknown[]).length;
    const m = /<([^>]+)>; rel="next"/.exec(String(r.headers.link ?? ''));
    next = m ? m[1]!.slice(stack.gateway.url.length) : undefined;
  }
  return records;
}

describe('pages cut from upstream blocks', () => {
  it('answer byte for byte what a page fetched as asked answers, for any limit, offset and query', async () => {
    const queries = ['', `&filter=${encodeURIComponent("role='student'")}`, '&sort=familyName', '&fields=sourcedId,givenName'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('users', 'enrollments', 'classes', 'orgs'),
        fc.integer({ min: 1, max: 160 }),
        fc.integer({ min: 0, max: 420 }),
        fc.constantFrom(...queries),
        async (collection, limit, offset, extra) => {
          const page = (d: string) => raw(`/districts/${d}/ims/oneroster/v1p1/${collection}?limit=${limit}&offset=${offset}${collection === 'users' ? extra : ''}`, { 'accept-encoding': 'identity' });
          const [cut, asked] = await Promise.all([page('blocked'), page('direct')]);
          const same = (v: unknown) => String(v ?? '').replaceAll('/districts/direct/', '/districts/blocked/');
          expect(cut.status).toBe(asked.status);
          expect(cut.text).toBe(same(asked.text));
          expect(cut.headers['x-total-count']).toBe(asked.headers['x-total-count']);
          expect(String(cut.headers.link ?? '')).toBe(same(asked.headers.link));
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);

  it('let three apps pulling users and enrollments with limits 100, 200 and 5000 cost the district one pull', async () => {
    const counts = await Promise.all([100, 200, 5000].map(async (limit) => [await pullAll('shared', 'users', limit), await pullAll('shared', 'enrollments', limit)]));
    const [users, enrollments] = counts[0]!;
    expect(counts).toEqual([counts[0], counts[0], counts[0]]);
    expect(users).toBe(2500);
    // One pull of 1000-record blocks: ceil(records / 1000) requests per collection.
    expect(hits('shared', 'users')).toBe(Math.ceil(users! / 1000));
    expect(hits('shared', 'enrollments')).toBe(Math.ceil(enrollments! / 1000));
    // The same three apps where pages are fetched as asked: three pulls and more.
    await Promise.all([100, 200, 5000].map(async (limit) => [await pullAll('asked', 'users', limit), await pullAll('asked', 'enrollments', limit)]));
    expect(hits('asked', 'users') + hits('asked', 'enrollments')).toBeGreaterThan(3 * (hits('shared', 'users') + hits('shared', 'enrollments')));
  }, 60_000);

  it('fall back to the page as asked where blocks cannot serve it: a block the district could not fill, a page of many blocks', async () => {
    // Every record, in order, although no block of this district could be filled.
    expect(await pullAll('clamped', 'users', 20)).toBe(150);
    // limit=1000 over 37-record blocks would be 28 block reads at once: fetched as asked instead.
    const [cut, asked] = await Promise.all(['blocked', 'direct'].map((d) => raw(`/districts/${d}/ims/oneroster/v1p1/enrollments?limit=1000&offset=5`, { 'accept-encoding': 'identity' })));
    expect(cut!.text).toBe(asked!.text.replaceAll('/districts/direct/', '/districts/blocked/'));
  });

  it('re-point a block built for one origin at the origin of each page cut from it', async () => {
    const a = await raw('/districts/blocked/ims/oneroster/v1p1/courses?limit=3&offset=1', { 'x-forwarded-host': 'one.example', 'x-forwarded-proto': 'https' });
    const b = await raw('/districts/blocked/ims/oneroster/v1p1/courses?limit=4&offset=2', { 'x-forwarded-host': 'two.example', 'x-forwarded-proto': 'https' });
    expect(hits('blocked', 'courses')).toBe(1);
    expect(a.text).toContain('https://one.example/districts/blocked/');
    expect(b.text).toContain('https://two.example/districts/blocked/');
    expect(b.text).not.toContain('one.example');
    expect(String(b.headers.link)).not.toContain('one.example');
  });
});

describe('read-ahead', () => {
  const page = (offset: number) => raw(`/districts/ahead/ims/oneroster/v1p1/users?limit=20&offset=${offset}`);
  const settle = () => new Promise((r) => setTimeout(r, 400));
  const metric = async () => {
    const text = (await raw('/metrics')).text;
    return Number(/oneroster_gateway_read_ahead_total\{district="ahead",outcome="started"\} (\d+)/.exec(text)?.[1] ?? 0);
  };

  it('fetches at most readAhead blocks past a sequential reader, and nothing more once it stops', async () => {
    await page(0);
    await settle();
    // A first page is not yet a sequential pattern.
    expect(hits('ahead', 'users')).toBe(1);
    const t0 = performance.now();
    await page(20);
    await settle();
    // Blocks 2 and 3 fetched ahead of the reader at block 1.
    expect(hits('ahead', 'users')).toBe(4);
    // The next two pages come from what was read ahead: no wait for the district.
    const t1 = performance.now();
    for (const offset of [40, 60]) expect((await page(offset)).status).toBe(200);
    expect(performance.now() - t1).toBeLessThan(performance.now() - t0);
    await settle();
    // The reader stopped at block 3: blocks 4 and 5 ahead of it, no further however long we wait.
    expect(hits('ahead', 'users')).toBe(6);
    await settle();
    expect(hits('ahead', 'users')).toBe(6);
    expect(await metric()).toBe(4);
  });

  it('never reads past the end of the collection', async () => {
    // 200 users = blocks 0..9; a sequential reader at the last pages.
    for (const offset of [120, 140, 160, 180]) expect((await page(offset)).status).toBe(200);
    await settle();
    const before = hits('ahead', 'users');
    const last = await page(200);
    expect(JSON.parse(last.text).users).toEqual([]);
    await settle();
    // Only the page asked for (an empty block past the end); nothing ahead of it.
    expect(hits('ahead', 'users')).toBe(before + 1);
    expect(stack.sandboxes.ahead!.hits.every((h) => !/offset=2[2-9]\d/.test(h.query))).toBe(true);
  });
});
