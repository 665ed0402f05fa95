import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayFor, startGradebookDistrict, type GatewayOn, type GradebookDistrict } from '../helpers/gradebook-district.js';

// A district that quotes its own bearer token, OAuth2 client id and secret, the access token
// the gateway got from it, its host:port (any case), its bare host name and its vendor path
// in every place an answer has: error descriptions of every status, hrefs in every form,
// metadata values and keys, and its own warnings beside the data. No client may see any of it.
let bearerDistrict: GradebookDistrict;
let oauthDistrict: GradebookDistrict;
let gw: GatewayOn;
let token: string;

beforeAll(async () => {
  bearerDistrict = await startGradebookDistrict({ prefix: '/vendor-bx7' });
  oauthDistrict = await startGradebookDistrict({ prefix: '/vendor-ox3' });
  bearerDistrict.quoting = true;
  oauthDistrict.quoting = true;
  gw = await gatewayFor([
    { id: 'bearer-d', district: bearerDistrict, auth: 'bearer' },
    { id: 'oauth-d', district: oauthDistrict, auth: 'oauth2' },
  ]);
  token = await gw.token();
});
afterAll(async () => {
  await gw?.close();
  await bearerDistrict?.close();
  await oauthDistrict?.close();
});

/**
 * Everything the gateway holds for a district that no client may read: its credentials (the
 * bearer, or the OAuth2 id and secret and every access token it issued) and its address.
 */
function forbidden(d: GradebookDistrict, data: boolean): string[] {
  const host = d.host.split(':')[0]!;
  // The OAuth2 client id is the gateway's account name, not a credential: it is kept out of
  // error text, but records may hold the same words as ordinary data and keep them.
  const credentials = d === bearerDistrict ? [d.bearer] : [d.clientSecret, ...(data ? [] : [d.clientId]), ...d.issued];
  return [...credentials, d.host, d.host.toUpperCase(), host, d.prefix, d.prefix.toUpperCase()];
}

function expectClean(text: string, d: GradebookDistrict, data = false): void {
  for (const secret of forbidden(d, data)) expect(text.toLowerCase(), `"${secret}" reached the client`).not.toContain(secret.toLowerCase());
}

const get = (id: string, path: string) =>
  fetch(`${gw.gateway.url}/districts/${id}/ims/oneroster/v1p1${path}`, { headers: { authorization: `Bearer ${token}` } });

describe.each([
  ['bearer-d', () => bearerDistrict],
  ['oauth-d', () => oauthDistrict],
])('district %s quoting its secrets', (id, district) => {
  it('errors of every status keep their status and code but none of the quotes', async () => {
    for (const status of [400, 401, 403, 404, 422, 429, 500, 502, 503]) {
      district().failWith = status;
      const res = await get(id, `/lineItems?limit=3&x=${status}`);
      const text = await res.text();
      district().failWith = undefined;
      expect(res.status, text).toBe(status >= 500 ? (status === 503 ? 503 : 502) : status);
      const body = JSON.parse(text) as { statusInfoSet: Array<{ imsx_description: string }> };
      // The district's words are still there, around what was taken out.
      expect(body.statusInfoSet[0]!.imsx_description).toMatch(/\[redacted\]|\[url\]|\[host\]/);
      expectClean(text, district());
    }
    // The district refusing the gateway's own credentials (its body quotes them).
    const unknown = await get(id, '/lineItems/none-such');
    expect(unknown.status).toBe(404);
    expectClean(await unknown.text(), district());
  });

  it('a 200 page: hrefs re-rooted at the gateway or dropped, metadata redacted, the district warning gone', async () => {
    const res = await get(id, '/lineItems?limit=5');
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expectClean(text, district(), true);
    const body = JSON.parse(text) as { lineItems: Array<Record<string, { href?: string }>>; statusInfoSet?: unknown };
    expect(body.statusInfoSet).toBeUndefined();
    expect(body.lineItems).toHaveLength(5);
    for (const item of body.lineItems) {
      for (const field of ['class', 'category', 'gradingPeriod']) {
        const href = item[field]!.href;
        if (href !== undefined) expect(href.startsWith(`${gw.gateway.url}/districts/${id}/ims/oneroster/v1p1/`), href).toBe(true);
      }
    }
    // Served again from the cache: the same clean bytes (what was cached was redacted).
    const again = await get(id, '/lineItems?limit=5');
    expect(again.headers.get('x-cache')).toBe('HIT');
    expect(await again.text()).toBe(text);
    // A single object, and a write's answer.
    const one = await get(id, '/lineItems/li-2');
    expectClean(await one.text(), district(), true);
    const put = await fetch(`${gw.gateway.url}/districts/${id}/ims/oneroster/v1p1/lineItems/li-9`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ lineItem: { title: 'new', class: { sourcedId: 'cls-1', type: 'class' } } }),
    });
    expect(put.status).toBe(201);
    expectClean(await put.text(), district(), true);
  });
});

it('and the gateway log holds none of it either', () => {
  const log = gw.logs.join('\n');
  for (const d of [bearerDistrict, oauthDistrict]) for (const secret of [d.bearer, d.clientSecret, ...d.issued, d.host]) expect(log).not.toContain(secret);
});
