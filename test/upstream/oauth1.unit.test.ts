import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Send, TransportRequest } from '../../src/upstream/http.js';
import { normalizeBaseUri, oauth1 } from '../../src/upstream/oauth1.js';
import { buildQueryString } from '../../src/upstream/rfc3986.js';
import { parseAuthorization, verifyOAuth1 } from './oauth1-verify.js';

const SECRET = "s3cr&t=+ !'";

/** Signs one request through the scheme and returns what reached the wire. */
async function sign(query: Array<[string, string]>, opts: Partial<Parameters<typeof oauth1>[0]> = {}, origin = 'http://127.0.0.1:8080', path = '/ims/oneroster/v1p1/users') {
  const seen: TransportRequest[] = [];
  const next: Send = async (req) => {
    seen.push(req);
    return { status: 200, headers: {}, body: Buffer.alloc(0) };
  };
  const send = oauth1({ consumerKey: 'key one', consumerSecret: SECRET, ...opts })(next);
  const qs = buildQueryString(query);
  await send({ method: 'GET', origin, path: path + (qs ? `?${qs}` : ''), headers: { accept: 'application/json' } });
  const req = seen[0]!;
  return { req, url: req.origin + req.path, authorization: req.headers.authorization! };
}

const NASTY: Array<[string, string]> = [
  ['filter', "status='active' AND familyName~'o'"],
  ['fields', 'sourcedId,givenName,familyName'],
  ['sort', 'familyName'],
  ['orderBy', 'asc'],
  ['limit', '100'],
  ['filter2', "dateLastModified>'2024-01-01T00:00:00Z' OR x!='(a*b)'"],
  ['q', 'a+b c=d&e'],
  ['ünï code', 'Zoë 😀'],
  ['dup', 'b'],
  ['dup', 'a'],
  ['empty', ''],
];

describe('oauth1 signing (independent RFC 5849 verifier)', () => {
  it('signs a plain request with HMAC-SHA256 by default and no token', async () => {
    const { url, authorization } = await sign([['limit', '5']]);
    const p = parseAuthorization(authorization);
    expect(p.oauth_signature_method).toBe('HMAC-SHA256');
    expect(p.oauth_consumer_key).toBe('key one');
    expect(p.oauth_token).toBeUndefined();
    expect(verifyOAuth1('GET', url, authorization, SECRET)).toBe(true);
    expect(verifyOAuth1('GET', url, authorization, 'other')).toBe(false);
  });

  it.each(['HMAC-SHA256', 'HMAC-SHA1'] as const)('signs every query parameter, = \' space > ! * ( ) + & included (%s)', async (signatureMethod) => {
    const { url, authorization } = await sign(NASTY, { signatureMethod });
    expect(parseAuthorization(authorization).oauth_signature_method).toBe(signatureMethod);
    expect(verifyOAuth1('GET', url, authorization, SECRET)).toBe(true);
    // The signature covers the values: change one byte of the filter and it no longer verifies.
    expect(verifyOAuth1('GET', url.replace('%27active%27', '%27activ%27'), authorization, SECRET)).toBe(false);
  });

  it('signs a normalised base URI (lower-case host, no default port) but sends the path as is', async () => {
    const { url, req, authorization } = await sign([['a', '1']], {}, 'HTTP://Example.COM:80', '/IMS/Path');
    expect(req.path).toBe('/IMS/Path?a=1');
    expect(verifyOAuth1('GET', url, authorization, SECRET)).toBe(true);
    expect(normalizeBaseUri('https://Host.Example:443')).toBe('https://host.example');
    expect(normalizeBaseUri('http://h:8080')).toBe('http://h:8080');
  });

  it('uses a fresh nonce on every attempt and the injected clock for the timestamp', async () => {
    const a = parseAuthorization((await sign([], { now: () => 1_700_000_000_999 })).authorization);
    const b = parseAuthorization((await sign([], { now: () => 1_700_000_000_999 })).authorization);
    expect(a.oauth_nonce).not.toBe(b.oauth_nonce);
    expect(a.oauth_nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(a.oauth_timestamp).toBe('1700000000');
  });

  it('leaves a JSON body out of the signature', async () => {
    let authorization = '';
    const next: Send = async (req) => {
      authorization = req.headers.authorization!;
      return { status: 200, headers: {}, body: Buffer.alloc(0) };
    };
    const send = oauth1({ consumerKey: 'k', consumerSecret: SECRET })(next);
    await send({ method: 'PUT', origin: 'http://h', path: '/x/results/r1', headers: {}, body: '{"score":1}' });
    expect(verifyOAuth1('PUT', 'http://h/x/results/r1', authorization, SECRET)).toBe(true);
  });

  it('refuses parameters it cannot sign faithfully, and bad options', async () => {
    await expect(sign([['oauth_nonce', 'x']])).rejects.toThrow(/cannot be signed/);
    await expect(sign([['__proto__', 'x']])).rejects.toThrow(/cannot be signed/);
    expect(() => oauth1({ consumerKey: '', consumerSecret: 's' })).toThrow(/consumerKey/);
    expect(() => oauth1({ consumerKey: 'k', consumerSecret: 's', signatureMethod: 'PLAINTEXT' as never })).toThrow(/signatureMethod/);
  });

  // A second, third-party opinion where the machine has it (python3-oauthlib from Debian).
  const python = '/usr/bin/python3';
  const hasOauthlib = existsSync(python) && (() => {
    try {
      execFileSync(python, ['-c', 'import oauthlib'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.runIf(hasOauthlib || process.env.CI === 'true')('is accepted by oauthlib', async () => {
    const { url, authorization } = await sign(NASTY);
    const script = `
import json, sys
from oauthlib.oauth1.rfc5849 import signature as s
d = json.load(sys.stdin)
params = s.collect_parameters(uri_query=d['url'].split('?', 1)[1], headers={'Authorization': d['auth']}, exclude_oauth_signature=True)
base = s.signature_base_string('GET', s.base_string_uri(d['url']), s.normalize_parameters(params))
sig = dict(p for p in s.collect_parameters(headers={'Authorization': d['auth']}, exclude_oauth_signature=False))['oauth_signature']
print(s.sign_hmac_sha256(base, d['secret'], '') == sig)
`;
    const out = execFileSync(python, ['-c', script], { input: JSON.stringify({ url, auth: authorization, secret: SECRET }) }).toString().trim();
    expect(out).toBe('True');
  });
});
