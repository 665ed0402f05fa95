import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayFor, startGradebookDistrict, type GatewayOn, type GradebookDistrict } from '../helpers/gradebook-district.js';

// One page, one cache entry, one upstream request: however the path is percent-encoded,
// whether the district comes from the path or the X-District-Id header, and whatever Host or
// X-Forwarded-Host a client sends. Each answer still points at the asking client's own URL.
let district: GradebookDistrict;
let gw: GatewayOn;
let token: string;

beforeAll(async () => {
  district = await startGradebookDistrict();
  // Pages fetched as asked (no upstream blocks): each page is its own upstream request here.
  // Cut pages re-pointed per origin: test/gateway/page-blocks.test.ts.
  gw = await gatewayFor([{ id: 'gb', district, auth: 'bearer' }], { cache: { ttlSeconds: 600, blockSize: 0 } });
  token = await gw.token();
});
afterAll(async () => {
  await gw?.close();
  await district?.close();
});

/** Raw paths and headers, exactly as sent (fetch would normalize neither the path's escapes nor Host). */
async function raw(path: string, headers: Record<string, string> = {}) {
  const { request } = await import('node:http');
  const { port } = new URL(gw.gateway.url);
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${token}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

const upstreamHits = (needle: string) => district.hits.filter((h) => h.includes(needle)).length;

describe('canonical cache keys', () => {
  it('percent-encoding variants of one path share one entry', async () => {
    const variants = [
      '/districts/gb/ims/oneroster/v1p1/lineItems?limit=2&offset=3',
      '/districts/gb/ims/oneroster/v1p1/l%69neItems?limit=2&offset=3',
      '/districts/gb/ims/oneroster/v1p1/%6c%69%6e%65%49%74%65%6d%73?limit=2&offset=3',
      '/districts/gb/ims/oneroster/v1p1/%6C%69%6E%65%49%74%65%6D%73?offset=3&limit=2',
      '/districts/g%62/ims/oneroster/v1p1/lineItems?limit=2&offset=3',
      '/districts/gb/ims/oneroster/%76%31%70%31/lineItems?limit=2&offset=3',
    ];
    const answers = [];
    for (const v of variants) answers.push(await raw(v));
    expect(answers.map((a) => a.status)).toEqual(variants.map(() => 200));
    expect(answers.map((a) => a.headers['x-cache'])).toEqual(['MISS', ...variants.slice(1).map(() => 'HIT')]);
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(upstreamHits('lineItems?limit=2&offset=3')).toBe(1);
  });

  it('a single object read through percent-encoded ids is one entry too', async () => {
    const a = await raw('/districts/gb/ims/oneroster/v1p1/lineItems/li-2');
    const b = await raw('/districts/gb/ims/oneroster/v1p1/lineItems/li%2d2');
    expect([a.status, a.headers['x-cache'], b.status, b.headers['x-cache']]).toEqual([200, 'MISS', 200, 'HIT']);
    expect(upstreamHits('/lineItems/li-2')).toBe(1);
  });

  it('the X-District-Id form and the /districts/{id} form share entries, each answered with links in its own form', async () => {
    const byPath = await raw('/districts/gb/ims/oneroster/v1p1/lineItems?limit=1&offset=1');
    const byHeader = await raw('/ims/oneroster/v1p1/lineItems?limit=1&offset=1', { 'x-district-id': 'gb' });
    expect([byPath.headers['x-cache'], byHeader.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    expect(upstreamHits('lineItems?limit=1&offset=1')).toBe(1);
    expect(byPath.headers.link).toContain(`<${gw.gateway.url}/districts/gb/ims/oneroster/v1p1/lineItems?`);
    expect(byHeader.headers.link).toContain(`<${gw.gateway.url}/ims/oneroster/v1p1/lineItems?`);
    expect(String(byHeader.headers.link)).not.toContain('/districts/');
    // The body's hrefs are the same (they name the district outright, so they work without the header).
    expect(byHeader.text).toBe(byPath.text);
    // And the other way round: cached through the header, read through the path.
    const h = await raw('/ims/oneroster/v1p1/lineItems?limit=1&offset=2', { 'x-district-id': 'gb' });
    const p = await raw('/districts/gb/ims/oneroster/v1p1/lineItems?limit=1&offset=2');
    expect([h.headers['x-cache'], p.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    expect(p.headers.link).toContain(`<${gw.gateway.url}/districts/gb/ims/oneroster/v1p1/lineItems?`);
  });

  it('forwarded hosts (and Host) chosen by a client cannot multiply entries, and never reach another client', async () => {
    const path = '/districts/gb/ims/oneroster/v1p1/lineItems?limit=1&offset=0';
    const hosts = ['attacker-1.example', 'attacker-2.example:8443', 'ATTACKER-3.EXAMPLE', 'gw.example.org'];
    const answers = [];
    for (const host of hosts) answers.push({ host, res: await raw(path, { 'x-forwarded-host': host, 'x-forwarded-proto': 'https' }) });
    answers.push({ host: 'host-header.example', res: await raw(path, { host: 'host-header.example' }) });
    expect(answers.map((a) => a.res.status)).toEqual(answers.map(() => 200));
    expect(answers.map((a) => a.res.headers['x-cache'])).toEqual(['MISS', 'HIT', 'HIT', 'HIT', 'HIT']);
    expect(upstreamHits('lineItems?limit=1&offset=0')).toBe(1);
    for (const { host, res } of answers) {
      // Each answer points at the origin its own request named, and at no other.
      const hrefs = [...res.text.matchAll(/"href":"([^"]+)"/g)].map((m) => m[1]!);
      expect(hrefs.length).toBeGreaterThan(0);
      for (const href of hrefs) expect(href.startsWith(`https://${host}/districts/gb/`) || href.startsWith(`http://${host}/districts/gb/`), href).toBe(true);
      for (const other of hosts.filter((h) => h !== host)) expect(res.text).not.toContain(other);
    }
    // A plain request afterwards still gets its own origin, not the last attacker's.
    const plain = await raw(path);
    expect(plain.headers['x-cache']).toBe('HIT');
    expect(plain.text).toContain(`"${gw.gateway.url}/districts/gb/`);
    expect(plain.text).not.toContain('attacker');
  });
});
