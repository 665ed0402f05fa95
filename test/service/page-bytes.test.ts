// The common page goes out as the district's own bytes with its hrefs re-rooted; every page
// that needs more than that (joining, trimming, renaming, dropping, redacting) takes the parsed
// path and answers as it always did. Through the proxy service, against a real upstream that
// counts its hits.
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/errors.js';
import { createRedactor } from '../../src/core/redact.js';
import { createProxyService } from '../../src/service/proxy-service.js';
import { NO_BRIDGE, proxyRequest } from '../helpers/proxy-request.js';
import { startLocalServer } from '../upstream/local-server.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type Answer = { body: string; headers?: Record<string, string> };

/** A district answering `answer(offset, limit)` for every users page. */
async function district(answer: (origin: string, offset: number, limit: number) => Answer) {
  const s = await startLocalServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const a = answer(s.origin, Number(url.searchParams.get('offset') ?? 0), Number(url.searchParams.get('limit') ?? 100));
    res.writeHead(200, { 'content-type': 'application/json', ...a.headers });
    res.end(a.body);
  });
  cleanups.push(() => s.close());
  return s;
}

const proxy = createProxyService({ bridge: NO_BRIDGE });
const GW = 'https://gw/ims/oneroster';

describe('same-version pages on bytes', () => {
  it("answers with the district's bytes as written (spacing, escapes, accents), only the hrefs re-rooted", async () => {
    const page = (o: string) =>
      `{\n  "users" : [\n    {"sourcedId":"u1","givenName":"Ren\u00e9e \\u00e9\\/x","orgs":[{"href":"${o}/v1p1/orgs/1","type":"org"}]},\n    {"sourcedId":"u2","orgs":[{"href":"~/ims/oneroster/v1p1/orgs/2"}]}\n  ]\n}\n`;
    const s = await district((o) => ({ body: page(o), headers: { 'x-total-count': '2' } }));
    const res = await proxy.handle(proxyRequest(s.origin, cleanups, { query: 'limit=100' }));
    const expected = page(s.origin).replace(`${s.origin}/v1p1/orgs/1`, `${GW}/v1p1/orgs/1`).replace('~/ims/oneroster/v1p1/orgs/2', `${GW}/v1p1/orgs/2`);
    expect(Buffer.isBuffer(res.body)).toBe(true);
    expect(String(res.body)).toBe(expected);
    expect(res.headers['x-total-count']).toBe('2');
    expect(res.headers.link ?? '').not.toContain('rel="next"');
    expect(s.hits).toHaveLength(1);
  });

  it('re-roots a large page where it was read (the room the transport gave it), and leaves it untouched for the parsed path', async () => {
    const users = (o: string, n: number) => Array.from({ length: n }, (_, i) => ({ sourcedId: `u${i}`, givenName: 'Ren\u00e9e', orgs: [{ href: `${o}/v1p1/orgs/${i}` }, { href: `${o}/v1p1/orgs/s${i}` }] }));
    // 300 records, about 30 KB: read with room to grow in place. A district ignoring limit=100
    // (300 records) is trimmed on the parsed path, which must read the bytes as the district sent them.
    const s = await district((o) => {
      const body = JSON.stringify({ users: users(o, 300) });
      return { body, headers: { 'x-total-count': '300', 'content-length': String(Buffer.byteLength(body)) } };
    });
    const whole = await proxy.handle(proxyRequest(s.origin, cleanups, { query: 'limit=300' }));
    expect(String(whole.body)).toBe(JSON.stringify({ users: users(GW, 300) }));
    // Written in the buffer the district's answer was read into: its spare bytes are still after it.
    const grown = whole.body as Buffer;
    expect(grown.buffer.byteLength).toBeGreaterThan(grown.byteLength);
    const trimmed = await proxy.handle(proxyRequest(s.origin, cleanups, { query: 'limit=100' }));
    expect(JSON.parse(String(trimmed.body))).toEqual({ users: users(GW, 100) });
    // A gateway root shorter than the district's: a new buffer, the same bytes.
    const short = 'https://g/x';
    const shorter = await proxy.handle({ ...proxyRequest(s.origin, cleanups, { query: 'limit=300' }), hrefBase: short, linkBase: `${short}/v1p1/users` });
    expect(String(shorter.body)).toBe(JSON.stringify({ users: users(short, 300) }));
  });

  it('takes the parsed path for a page to join, trim, rename or clean, with the records it always gave', async () => {
    const users = (o: string, from: number, n: number) => Array.from({ length: n }, (_, i) => ({ sourcedId: `u${from + i}`, orgs: [{ href: `${o}/v1p1/orgs/${from + i}` }] }));
    const want = (from: number, n: number) => users('', from, n).map((u) => ({ ...u, orgs: [{ href: `${GW}/v1p1/orgs/${u.sourcedId.slice(1)}` }] }));

    // A district that clamps pages at 2 records: the page of 5 is joined from three.
    const clamps = await district((o, offset) => ({ body: JSON.stringify({ users: users(o, offset, Math.min(2, 5 - offset)) }), headers: { 'x-total-count': '5' } }));
    const joined = await proxy.handle(proxyRequest(clamps.origin, cleanups, { query: 'limit=5' }));
    expect(JSON.parse(String(joined.body))).toEqual({ users: want(0, 5) });
    expect(clamps.hits).toHaveLength(3);

    // A district that ignores limit: the page keeps what was asked.
    const ignores = await district((o) => ({ body: JSON.stringify({ users: users(o, 0, 5) }), headers: { 'x-total-count': '5' } }));
    expect(JSON.parse(String((await proxy.handle(proxyRequest(ignores.origin, cleanups, { query: 'limit=2' }))).body))).toEqual({ users: want(0, 2) });

    // A vendor wrapper and the district's own warnings.
    const vendor = await district((o) => ({ body: JSON.stringify({ students: users(o, 0, 2), statusInfoSet: [{ imsx_description: 'sort ignored' }] }), headers: { 'x-total-count': '2' } }));
    expect(JSON.parse(String((await proxy.handle(proxyRequest(vendor.origin, cleanups))).body))).toEqual({ users: want(0, 2) });

    // An href that would climb out of the district's root goes.
    const climbs = await district((o) => ({ body: JSON.stringify({ users: [{ sourcedId: 'u0', orgs: [{ href: `${o}/v1p1/../../districts/other`, type: 'org' }] }] }), headers: { 'x-total-count': '1' } }));
    expect(JSON.parse(String((await proxy.handle(proxyRequest(climbs.origin, cleanups))).body))).toEqual({ users: [{ sourcedId: 'u0', orgs: [{ type: 'org' }] }] });
  });

  it("refuses what is not a JSON list as before, and redacts the district's address outside hrefs", async () => {
    for (const body of ['{"users":[{"a":1},]}', '{"users":[]} x', '[1,2]', '{"users":{"a":1}}']) {
      const s = await district(() => ({ body }));
      const err = await proxy.handle(proxyRequest(s.origin, cleanups)).catch((e: unknown) => e);
      expect([body, (err as GatewayError).code]).toEqual([body, 'upstream_bad_response']);
    }
    const leaks = await district((o) => ({ body: JSON.stringify({ users: [{ sourcedId: 'u0', note: `moved to ${o.toUpperCase()}/v2`, orgs: [{ href: `${o}/v1p1/orgs/1` }] }] }), headers: { 'x-total-count': '1' } }));
    const host = new URL(leaks.origin).host;
    const redactor = createRedactor({ secrets: () => [], hosts: [host], paths: [] });
    const res = await proxy.handle(proxyRequest(leaks.origin, cleanups, { redactor }));
    const text = String(res.body);
    expect(text).not.toContain(host);
    expect(JSON.parse(text).users[0]).toEqual({ sourcedId: 'u0', note: 'moved to HTTP://[redacted]/v2', orgs: [{ href: `${GW}/v1p1/orgs/1` }] });
  });

  it('reads JSON escapes as a client will: a secret, host or vendor path written with escapes is redacted too', async () => {
    // PHP escapes every "/", .NET every "+"; any server may escape any character as \uXXXX.
    const secret = 'abc+def123/xyz';
    const escaped = (s: string) => s.replace('+', '\\u002B').replaceAll('/', '\\/');
    const uEscaped = (t: string) => [...t].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const s = await district((o) => {
      const host = new URL(o).host;
      const body = `{"users":[{"sourcedId":"u0","orgs":[{"href":"${o.replaceAll('/', '\\/')}\\/v1p1\\/orgs\\/1"}],"metadata":{"k":"${escaped(secret)}","h":"http:\\/\\/${uEscaped(host)}\\/x","p":"\\/aeries\\/photos\\/1.jpg"}}]}`;
      return { body, headers: { 'x-total-count': '1' } };
    });
    const host = new URL(s.origin).host;
    const redactor = createRedactor({ secrets: () => [secret], hosts: [host], paths: ['/aeries'] });
    const res = await proxy.handle(proxyRequest(s.origin, cleanups, { redactor }));
    const user = JSON.parse(String(res.body)).users[0];
    expect(user.orgs).toEqual([{ href: `${GW}/v1p1/orgs/1` }]);
    expect(JSON.stringify(user.metadata)).not.toContain(secret);
    expect(JSON.stringify(user.metadata)).not.toContain(host);
    expect(user.metadata.p).toBe('[redacted]/photos/1.jpg');
  });
});
