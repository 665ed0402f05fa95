// OAuth 1.0a verification. Requests are signed by a small signer written here from
// RFC 5849 (URL parsing via WHATWG URL, not the sandbox's own decoder), and, when
// available, by Python's oauthlib as a fully independent implementation.

import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type TestSandbox } from '../../src/sandbox/testing.js';
import { baseStringUri, normalizeParameters, signatureBaseString } from '../../src/sandbox/oauth1-verify.js';
import { enc, filterQuery } from './helpers.js';

const KEY = 'district-key';
const SECRET = 'sh!ny s€cret&more';
let clock = Date.UTC(2025, 8, 1, 12, 0, 0);
let sb: TestSandbox;

beforeAll(async () => {
  sb = await startSandbox({ version: 'v1p1', auth: { type: 'oauth1', consumerKey: KEY, consumerSecret: SECRET }, users: 60, now: () => clock });
});
afterAll(() => sb.close());

interface SignOpts {
  method?: string;
  key?: string;
  secret?: string;
  algorithm?: 'HMAC-SHA256' | 'HMAC-SHA1';
  timestamp?: number;
  nonce?: string;
}

function sign(url: string, o: SignOpts = {}): string {
  const u = new URL(url);
  const oauth: [string, string][] = [
    ['oauth_consumer_key', o.key ?? KEY],
    ['oauth_nonce', o.nonce ?? randomBytes(12).toString('hex')],
    ['oauth_signature_method', o.algorithm ?? 'HMAC-SHA256'],
    ['oauth_timestamp', String(o.timestamp ?? Math.floor(clock / 1000))],
    ['oauth_version', '1.0'],
  ];
  // Sort encoded pairs by name, then value (sorting joined "k=v" strings would misorder a / a2).
  const pairs = [...u.searchParams.entries(), ...oauth]
    .map(([k, v]) => [enc(k), enc(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : 1) : ak < bk ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`);
  const base = `${o.method ?? 'GET'}&${enc(`${u.protocol}//${u.host}${u.pathname}`)}&${enc(pairs.join('&'))}`;
  const hash = (o.algorithm ?? 'HMAC-SHA256') === 'HMAC-SHA1' ? 'sha1' : 'sha256';
  const signature = createHmac(hash, `${enc(o.secret ?? SECRET)}&`).update(base).digest('base64');
  const header: [string, string][] = [...oauth, ['oauth_signature', signature]];
  return `OAuth ${header.map(([k, v]) => `${k}="${enc(v)}"`).join(', ')}`;
}

async function signedGet(url: string, o: SignOpts = {}, sendUrl = url): Promise<Response> {
  return fetch(sendUrl, { headers: { authorization: sign(url, o) } });
}

const users = (): string => `${sb.baseUrl}/v1p1/users`;

describe('RFC 5849 construction', () => {
  it('reproduces the §3.4.1.1 example signature base string', () => {
    // Parameters of the RFC example after decoding (query, Authorization header minus realm, form body).
    const params: [string, string][] = [
      ['b5', '=%3D'], ['a3', 'a'], ['c@', ''], ['a2', 'r b'],
      ['oauth_consumer_key', '9djdj82h48djs9d2'], ['oauth_token', 'kkk9d7dh3k39sjv7'],
      ['oauth_signature_method', 'HMAC-SHA1'], ['oauth_timestamp', '137131201'], ['oauth_nonce', '7d8f3e4a'],
      ['c2', ''], ['a3', '2 q'],
    ];
    expect(signatureBaseString('post', baseStringUri('HTTP', 'EXAMPLE.COM:80', '/request'), params)).toBe(
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
    );
  });

  it('sorts by encoded name, then encoded value', () => {
    expect(normalizeParameters([['b', '2'], ['a', 'z'], ['a', ' '], ['a~', '']])).toBe('a=%20&a=z&a~=&b=2');
  });
});

describe('OAuth 1.0a on data requests', () => {
  it('accepts a correctly signed HMAC-SHA256 request', async () => {
    const res = await signedGet(`${users()}?limit=5&offset=0`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { users: unknown[] }).users).toHaveLength(5);
    expect(sb.hits.at(-1)?.authorized).toBe(true);
  });

  it('accepts HMAC-SHA1', async () => {
    expect((await signedGet(`${users()}?limit=1`, { algorithm: 'HMAC-SHA1' })).status).toBe(200);
  });

  it('verifies filter values with spaces, quotes, = and ! encoded per RFC 3986', async () => {
    const url = `${users()}?${filterQuery("familyName!='O'Brien' AND status='active'")}&fields=${enc('sourcedId,familyName')}`;
    const res = await signedGet(url);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { users: { familyName: string }[] };
    expect(body.users.length).toBeGreaterThan(0);
    expect(body.users.every((u) => u.familyName !== "O'Brien")).toBe(true);
  });

  it('orders parameters by name then value, including prefix names and repeats', async () => {
    expect((await signedGet(`${users()}?limit=1&limit2=x&fields=sourcedId&fields=givenName`)).status).toBe(200);
  });

  it('treats + in the query as a space, as form decoding requires', async () => {
    const signedAs = `${users()}?${filterQuery("status='active'")}&sort=${enc('family Name')}`;
    const sentAs = `${users()}?${filterQuery("status='active'")}&sort=family+Name`;
    expect((await signedGet(signedAs, {}, sentAs)).status).toBe(200);
  });

  it('rejects a wrong secret', async () => {
    const res = await signedGet(`${users()}?limit=1`, { secret: 'wrong' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^OAuth/);
    const body = (await res.json()) as { statusInfoSet: { imsx_codeMinor: string; imsx_description: string }[] };
    expect(body.statusInfoSet[0]?.imsx_codeMinor).toBe('unauthorized');
    expect(body.statusInfoSet[0]?.imsx_description).toMatch(/signature/);
    expect(sb.hits.at(-1)?.authorized).toBe(false);
  });

  it('rejects an unknown consumer key', async () => {
    expect((await signedGet(`${users()}?limit=1`, { key: 'someone-else' })).status).toBe(401);
  });

  it('rejects a query tampered with after signing', async () => {
    const res = await signedGet(`${users()}?limit=1&${filterQuery("role='student'")}`, {}, `${users()}?limit=1&${filterQuery("role='teacher'")}`);
    expect(res.status).toBe(401);
  });

  it('rejects a path changed after signing', async () => {
    expect((await signedGet(`${users()}?limit=1`, {}, `${sb.baseUrl}/v1p1/orgs?limit=1`)).status).toBe(401);
  });

  it('rejects a replayed nonce', async () => {
    const url = `${users()}?limit=2`;
    const header = sign(url, { nonce: 'fixed-nonce-1' });
    expect((await fetch(url, { headers: { authorization: header } })).status).toBe(200);
    expect((await fetch(url, { headers: { authorization: header } })).status).toBe(401);
  });

  it('rejects timestamps outside ±600 s and accepts skew inside it', async () => {
    const nowS = Math.floor(clock / 1000);
    expect((await signedGet(`${users()}?limit=1`, { timestamp: nowS - 601 })).status).toBe(401);
    expect((await signedGet(`${users()}?limit=1`, { timestamp: nowS + 601 })).status).toBe(401);
    expect((await signedGet(`${users()}?limit=1`, { timestamp: nowS - 590 })).status).toBe(200);
  });

  it('follows the injected clock', async () => {
    const url = `${users()}?limit=1`;
    const header = sign(url); // signed at the current fake time
    clock += 3_600_000;
    try {
      expect((await fetch(url, { headers: { authorization: header } })).status).toBe(401);
    } finally {
      clock -= 3_600_000;
    }
  });

  it('rejects missing or malformed Authorization headers', async () => {
    expect((await fetch(`${users()}?limit=1`)).status).toBe(401);
    expect((await fetch(`${users()}?limit=1`, { headers: { authorization: 'OAuth garbage' } })).status).toBe(401);
    expect((await fetch(`${users()}?limit=1`, { headers: { authorization: 'Bearer abc' } })).status).toBe(401);
  });

  it('signs writes without the JSON body in the base string', async () => {
    const url = `${sb.baseUrl}/v1p1/categories/cat-oauth1`;
    const res = await fetch(url, {
      method: 'PUT',
      headers: { authorization: sign(url, { method: 'PUT' }), 'content-type': 'application/json' },
      body: JSON.stringify({ category: { title: 'Signed' } }),
    });
    expect(res.status).toBe(201);
  });
});

function hasOauthlib(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import oauthlib'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.runIf(hasOauthlib() || process.env.CI === 'true')('interoperability with Python oauthlib', () => {
  it('accepts a request signed by oauthlib (HMAC-SHA256, filter with quotes and spaces)', async () => {
    const url = `${users()}?limit=3&${filterQuery("givenName~'a' OR familyName='Smith-Jones'")}`;
    const script = [
      'import sys, json',
      'from oauthlib.oauth1 import Client, SIGNATURE_HMAC_SHA256',
      'c = Client(sys.argv[1], client_secret=sys.argv[2], signature_method=SIGNATURE_HMAC_SHA256, timestamp=sys.argv[4])',
      'uri, headers, body = c.sign(sys.argv[3])',
      'print(json.dumps({"uri": uri, "auth": headers["Authorization"]}))',
    ].join('\n');
    const out = execFileSync('/usr/bin/python3', ['-c', script, KEY, SECRET, url, String(Math.floor(clock / 1000))]).toString();
    const signed = JSON.parse(out) as { uri: string; auth: string };
    const res = await fetch(signed.uri, { headers: { authorization: signed.auth } });
    expect(res.status).toBe(200);
  });
});
