// What goes on the wire to clients: content codings negotiated from Accept-Encoding, Vary,
// Content-Length of the bytes actually sent, a strong ETag per coding and 304 for If-None-Match,
// for cached pages and mirror answers alike. Read with node:http, which decodes nothing.
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, bearerSandbox, startStack, type Stack } from '../helpers/stack.js';
import { until } from '../helpers/until.js';
import { rawRequest, type RawAnswer } from '../helpers/raw-http.js';

let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack({
    districts: [
      { id: 'paged', sandbox: bearerSandbox({ users: 120 }) },
      { id: 'mirrored', sandbox: bearerSandbox({ users: 120 }), extra: { mirror: true } },
    ],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

type Raw = RawAnswer;
const raw = (path: string, headers: Record<string, string> = {}, method = 'GET') => rawRequest(`${stack.gateway.url}${path}`, { authorization: `Bearer ${token}`, ...headers }, method);

const decode = (r: Raw) =>
  (r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.bytes) : r.headers['content-encoding'] === 'br' ? brotliDecompressSync(r.bytes) : r.bytes).toString();

// header sent -> coding expected
const MATRIX: Array<[string | undefined, string | undefined]> = [
  [undefined, undefined],
  ['gzip', 'gzip'],
  ['br', 'br'],
  ['gzip, deflate, br', 'br'],
  ['gzip, deflate', 'gzip'],
  ['br;q=0, gzip', 'gzip'],
  ['gzip;q=0, br;q=0', undefined],
  ['identity', undefined],
  ['*;q=0', undefined],
  ['deflate', undefined],
];

describe.each([
  ['a cached page', '/districts/paged/ims/oneroster/v1p1/users?limit=100&offset=3'],
  ['a mirror answer', '/districts/mirrored/ims/oneroster/v1p1/users?limit=100&offset=3'],
])('%s on the wire', (_name, path) => {
  let identity: string;
  beforeAll(async () => {
    if (path.includes('mirrored')) {
      await until(async () => ((await raw(path)).headers['x-cache'] === 'MIRROR' ? true : undefined), 'mirror serving');
    }
    identity = (await raw(path)).bytes.toString();
    expect(JSON.parse(identity).users).toHaveLength(100);
  });

  it.each(MATRIX)('Accept-Encoding %j -> %s, Vary, Content-Length of the sent bytes, the same JSON', async (accept, coding) => {
    const r = await raw(path, accept === undefined ? {} : { 'accept-encoding': accept });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe(coding);
    expect(r.headers.vary).toBe('Accept-Encoding');
    expect(Number(r.headers['content-length'])).toBe(r.bytes.length);
    expect(decode(r)).toBe(identity);
    if (coding) expect(r.bytes.length).toBeLessThan(identity.length / 4);
    expect(r.headers.etag).toMatch(coding ? new RegExp(`^"[A-Za-z0-9_-]{22}-${coding}"$`) : /^"[A-Za-z0-9_-]{22}"$/);
  });

  it('gives each coding its own ETag; If-None-Match with it answers 304 without a body, with another coding 200', async () => {
    const tags = new Map<string, string>();
    for (const coding of ['identity', 'gzip', 'br']) {
      const r = await raw(path, { 'accept-encoding': coding });
      tags.set(coding, String(r.headers.etag));
    }
    expect(new Set(tags.values()).size).toBe(3);
    for (const [coding, tag] of tags) {
      const again = await raw(path, { 'accept-encoding': coding, 'if-none-match': tag });
      expect(again.status, coding).toBe(304);
      expect(again.bytes.length).toBe(0);
      expect(again.headers.etag).toBe(tag);
      expect(again.headers.vary).toBe('Accept-Encoding');
      expect(again.headers['content-length']).toBeUndefined();
      // Weak comparison, and a list.
      expect((await raw(path, { 'accept-encoding': coding, 'if-none-match': `"nope", W/${tag}` })).status).toBe(304);
      const other = coding === 'gzip' ? tags.get('br')! : tags.get('gzip')!;
      const full = await raw(path, { 'accept-encoding': coding, 'if-none-match': other });
      expect(full.status).toBe(200);
      expect(decode(full)).toBe(identity);
    }
  });

  it('answers HEAD with the headers GET would send (the coded length included) and no body', async () => {
    const get = await raw(path, { 'accept-encoding': 'gzip' });
    const head = await raw(path, { 'accept-encoding': 'gzip' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.bytes.length).toBe(0);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.headers['content-encoding']).toBe('gzip');
    expect(head.headers.etag).toBe(get.headers.etag);
  });

  it('gives another page another ETag', async () => {
    const a = await raw(path, { 'accept-encoding': 'gzip' });
    const b = await raw(path.replace('offset=3', 'offset=4'), { 'accept-encoding': 'gzip' });
    expect(b.headers.etag).not.toBe(a.headers.etag);
    expect((await raw(path.replace('offset=3', 'offset=4'), { 'accept-encoding': 'gzip', 'if-none-match': String(a.headers.etag) })).status).toBe(200);
  });
});

describe('small and non-OneRoster answers', () => {
  it('sends a body under server.compression.minBytes as identity, without Vary, still with an ETag', async () => {
    const r = await raw('/districts/paged/ims/oneroster/v1p1/orgs?limit=1', { 'accept-encoding': 'gzip, br' });
    expect(r.status).toBe(200);
    expect(r.bytes.length).toBeLessThan(1024);
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.headers.vary).toBeUndefined();
    expect(r.headers.etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
  });

  it('compresses GET /districts and /metrics too, and leaves errors uncompressed JSON', async () => {
    const districts = await raw('/districts', { 'accept-encoding': 'gzip' });
    expect(districts.status).toBe(200);
    expect(districts.headers['content-encoding']).toBe('gzip');
    expect(Number(districts.headers['content-length'])).toBe(districts.bytes.length);
    expect(JSON.parse(decode(districts)).districts.map((d: { id: string }) => d.id)).toEqual(['paged', 'mirrored']);
    const metrics = await raw('/metrics', { 'accept-encoding': 'gzip' });
    expect(metrics.headers['content-encoding']).toBe('gzip');
    expect(decode(metrics)).toContain('# TYPE');
    const missing = await raw('/districts/nowhere/ims/oneroster/v1p1/users', { 'accept-encoding': 'gzip' });
    expect(missing.status).toBe(404);
    expect(missing.headers['content-encoding']).toBeUndefined();
    expect(missing.headers.etag).toBeUndefined();
    expect(JSON.stringify(JSON.parse(missing.bytes.toString()))).toContain('"imsx_codeMajor":"failure"');
  });
});
