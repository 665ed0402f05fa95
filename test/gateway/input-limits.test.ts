// Input limits (server.limits): every oversized or malformed request is refused with JSON
// status-info and the right status, before any upstream call.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [{ id: 'springfield', sandbox: oauth1Sandbox() }],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['springfield'], scopes: ALL_SCOPES }],
    server: { limits: { maxUrlBytes: 4096, maxQueryParams: 8, maxQueryValueBytes: 1024, maxWriteBodyBytes: 2048 } },
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

const sandbox = () => stack.sandboxes.springfield!;
const get = (path: string) => stack.http.get(path).set('authorization', `Bearer ${token}`);

/** A 1.1 path's error envelope. */
function expectStatusInfo(res: { body: { statusInfoSet?: Array<Record<string, unknown>> }; headers: Record<string, string> }) {
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body.statusInfoSet?.[0]).toMatchObject({ imsx_codeMajor: 'failure', imsx_severity: 'error' });
}

/** A raw request (supertest and fetch refuse some of these), answered as status + parsed body. */
function raw(path: string, options: { method?: string; headers?: Record<string, string>; chunks?: string[]; end?: boolean } = {}): Promise<{ status: number; body: string }> {
  const { port } = new URL(stack.gateway.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { authorization: `Bearer ${token}`, ...options.headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
        req.destroy(); // a request still sending its body
      });
    });
    req.on('error', reject);
    for (const c of options.chunks ?? []) req.write(c);
    if (options.end !== false) req.end();
  });
}

describe('input limits', () => {
  it('refuses a URL over maxUrlBytes with 414', async () => {
    sandbox().resetHits();
    const res = await get(`/ims/oneroster/v1p1/users?filter=${encodeURIComponent(`givenName='${'a'.repeat(900)}'`)}&x=${'b'.repeat(1000)}&y=${'c'.repeat(1000)}&z=${'d'.repeat(1000)}&w=${'e'.repeat(900)}`);
    expect(res.status).toBe(414);
    expectStatusInfo(res);
    expect(sandbox().hitCount()).toBe(0);
  });

  it("answers a request line past Node's own header limit with JSON too (431)", async () => {
    const res = await raw(`/ims/oneroster/v1p1/users?x=${'a'.repeat(20_000)}`);
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body)).toMatchObject({ imsx_codeMajor: 'failure', imsx_description: expect.stringContaining('too large') });
  });

  it('refuses too many query parameters and an oversized value with 400', async () => {
    const many = Array.from({ length: 9 }, (_, i) => `p${i}=1`).join('&');
    const tooMany = await get(`/ims/oneroster/v1p1/users?${many}`);
    expect(tooMany.status).toBe(400);
    expectStatusInfo(tooMany);
    expect(tooMany.body.statusInfoSet[0].imsx_description).toContain('more than 8 parameters');
    const big = await get(`/ims/oneroster/v1p1/users?fields=${'a'.repeat(1025)}`);
    expect(big.status).toBe(400);
    expect(big.body.statusInfoSet[0].imsx_description).toContain('longer than 1024 bytes');
    // At the limits exactly, the request goes through.
    const eight = Array.from({ length: 7 }, (_, i) => `p${i}=1`).join('&');
    expect((await get(`/ims/oneroster/v1p1/orgs?${eight}&limit=1`)).status).toBe(200);
  });

  it('refuses a filter with more than 20 clauses with invalid_filter_field, before the district', async () => {
    sandbox().resetHits();
    const filter = Array.from({ length: 21 }, (_, i) => `givenName='n${i}'`).join(' OR ');
    const res = await get(`/ims/oneroster/v1p1/users?filter=${encodeURIComponent(filter)}`);
    expect(res.status).toBe(400);
    expect(res.body.statusInfoSet[0].imsx_codeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('invalid_filter_field');
    expect(sandbox().hitCount()).toBe(0);
  });

  it('refuses malformed percent-encoding in the query and in the path with 400', async () => {
    const q = await raw('/ims/oneroster/v1p1/users?filter=%E0%A4%A');
    expect(q.status).toBe(400);
    expect(JSON.parse(q.body).statusInfoSet[0].imsx_description).toContain('percent-encoding');
    const p = await raw('/districts/spring%ZZfield/ims/oneroster/v1p1/users');
    expect(p.status).toBe(400);
    expect(JSON.parse(p.body).statusInfoSet[0].imsx_description).toContain('percent-encoding');
  });

  it('refuses write bodies over maxWriteBodyBytes with 413, declared or chunked, and other types with 415', async () => {
    sandbox().resetHits();
    const path = '/districts/springfield/ims/oneroster/v1p1/results/r1';
    const big = JSON.stringify({ result: { comment: 'x'.repeat(3000) } });
    const declared = await raw(path, { method: 'PUT', headers: { 'content-type': 'application/json', 'content-length': String(big.length) }, chunks: [big] });
    expect(declared.status).toBe(413);
    // No Content-Length, and the body never ends: it is read in chunks and cut at the bound,
    // not buffered whole first (the answer comes while the client is still sending).
    const chunked = await raw(path, { method: 'PUT', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, chunks: Array.from({ length: 10 }, () => 'x'.repeat(500)), end: false });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).statusInfoSet[0].imsx_description).toContain('larger than 2048 bytes');
    const type = await raw(path, { method: 'PUT', headers: { 'content-type': 'text/xml' }, chunks: ['<result/>'] });
    expect(type.status).toBe(415);
    expect(sandbox().hitCount()).toBe(0);
  });

  it('rejects server.limits values that make no sense at start-up, naming the field', async () => {
    await expect(
      startStack({ districts: [], clients: [], server: { limits: { maxQueryParams: 0 } } }),
    ).rejects.toThrow(/server\.limits\.maxQueryParams/);
  });
});
