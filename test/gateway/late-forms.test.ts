// A page stored while no client asked for a coding has no form in it; the first client that
// asks for one gets it compressed then, once, and so does everyone after (late_compressions_total).
// Codings in demand are stored with the pages fetched from then on.
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, bearerSandbox, startStack, type Stack } from '../helpers/stack.js';
import { rawRequest } from '../helpers/raw-http.js';

let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [{ id: 'd', sandbox: bearerSandbox({ users: 120 }) }],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

const get = (path: string, accept?: string) => rawRequest(`${stack.gateway.url}${path}`, { authorization: `Bearer ${token}`, ...(accept ? { 'accept-encoding': accept } : {}) }, 'GET');
const late = async (coding: string) => {
  const text = (await rawRequest(`${stack.gateway.url}/metrics`, {}, 'GET')).bytes.toString();
  return Number(new RegExp(`oneroster_gateway_late_compressions_total\\{coding="${coding}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
};

describe('content codings of stored pages', () => {
  it('are made once for a page stored before any client asked for them, and stored with pages fetched after', async () => {
    const first = '/districts/d/ims/oneroster/v1p1/users?limit=30&offset=0';
    const identity = await get(first);
    expect(identity.headers['x-cache']).toBe('MISS');
    expect(await late('gzip')).toBe(0);
    // Four gzip clients at once, then one more: one compression for all of them.
    const gz = await Promise.all([1, 2, 3, 4].map(() => get(first, 'gzip')));
    gz.push(await get(first, 'gzip'));
    for (const r of gz) {
      expect([r.headers['x-cache'], r.headers['content-encoding']]).toEqual(['HIT', 'gzip']);
      expect(gunzipSync(r.bytes)).toEqual(identity.bytes);
      expect(r.bytes).toEqual(gz[0]!.bytes);
    }
    expect(await late('gzip')).toBe(1);
    // gzip is in demand now: the next page fetched is stored with it, and its hits compress nothing.
    const second = '/districts/d/ims/oneroster/v1p1/users?limit=30&offset=30';
    expect((await get(second, 'gzip')).headers['x-cache']).toBe('MISS');
    const hit = await get(second, 'gzip');
    expect([hit.headers['x-cache'], hit.headers['content-encoding']]).toEqual(['HIT', 'gzip']);
    expect(await late('gzip')).toBe(1);
    // br was never asked for when it was stored: made once, now.
    for (let i = 0; i < 2; i++) expect(JSON.parse(brotliDecompressSync((await get(second, 'br')).bytes).toString()).users).toHaveLength(30);
    expect(await late('br')).toBe(1);
  });
});
