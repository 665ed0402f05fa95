import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gatewayFor, startGradebookDistrict, type GatewayOn, type GradebookDistrict } from '../helpers/gradebook-district.js';

// A read that starts after a write returned never receives data fetched before that write:
// not by joining a fetch still in flight, not as stale-if-error when the district then fails.
let district: GradebookDistrict;
let gw: GatewayOn;
let token: string;

beforeAll(async () => {
  district = await startGradebookDistrict();
  gw = await gatewayFor([{ id: 'gb', district, auth: 'bearer' }], { cache: { ttlSeconds: 60, staleSeconds: 3600 } });
  token = await gw.token();
});
afterAll(async () => {
  await gw?.close();
  await district?.close();
});
beforeEach(() => {
  district.hold = false;
  district.failWith = undefined;
  district.release();
});

const url = (path: string) => `${gw.gateway.url}/districts/gb/ims/oneroster/v1p1${path}`;
const get = async (path: string) => {
  const res = await fetch(url(path), { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, cache: res.headers.get('x-cache'), body: (await res.json()) as Record<string, any> };
};
const put = (id: string, title: string) =>
  fetch(url(`/lineItems/${id}`), {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ lineItem: { title, class: { sourcedId: 'cls-1', type: 'class' }, category: { sourcedId: 'cat-1', type: 'category' } } }),
  });
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

describe.each([
  ['a single object', '/lineItems/li-1', (b: Record<string, any>) => b.lineItem.title as string],
  ['a list', '/lineItems?limit=3&offset=0', (b: Record<string, any>) => b.lineItems[0].title as string],
])('read-your-writes for %s', (_what, path, titleOf) => {
  it('a GET sent after a PUT returned does not join the fetch that began before the PUT', async () => {
    const title = `after ${Math.random()}`;
    // A read reaches the district and is held there with the pre-write record.
    district.hold = true;
    const before = get(path);
    await until(() => district.held() === 1);
    // The write goes through and returns.
    district.hold = false;
    const written = await put('li-1', title);
    expect([200, 201]).toContain(written.status);
    // Now a read starts: it must not join the held fetch.
    district.hold = true;
    const after = get(path);
    await until(() => district.held() === 2);
    district.release();
    const [early, late] = await Promise.all([before, after]);
    expect(titleOf(early.body)).not.toBe(title); // began before the write: may be old
    expect(late.status).toBe(200);
    expect(titleOf(late.body)).toBe(title);
    // The held pre-write answer was not stored as fresh for later readers either.
    const third = await get(path);
    expect(titleOf(third.body)).toBe(title);
  });

  it('after a PUT, a district that then fails does not make the gateway serve the pre-write record as STALE', async () => {
    const old = await get(path);
    expect(old.status).toBe(200);
    const cached = await get(path);
    expect(cached.cache).toBe('HIT');
    const title = `new ${Math.random()}`;
    expect([200, 201]).toContain((await put('li-1', title)).status);
    district.failWith = 503;
    const during = await get(path);
    expect(during.cache).not.toBe('STALE');
    expect(during.status).toBe(503);
    district.failWith = undefined;
    expect(titleOf((await get(path)).body)).toBe(title);
  });
});

it('after a DELETE, an outage does not bring the deleted record back', async () => {
  expect((await put('li-4', 'to delete')).status).toBeLessThan(300);
  const cached = await get('/lineItems/li-4');
  expect([cached.status, (await get('/lineItems/li-4')).cache]).toEqual([200, 'HIT']);
  const del = await fetch(url('/lineItems/li-4'), { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  expect(del.status).toBe(204);
  district.failWith = 500;
  const during = await get('/lineItems/li-4');
  expect(during.cache).not.toBe('STALE');
  expect(during.status).toBe(502);
});
// The contrast (an entry a purge or a delta change invalidated is still served as stale-if-error)
// is test/gateway/cache.test.ts 'serves the old page as STALE when an invalidated entry ...'.
