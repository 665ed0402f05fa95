import { describe, expect, it } from 'vitest';
import type { Send, TransportRequest, TransportResponse } from '../../src/upstream/http.js';
import { oauth2, type OAuth2Options } from '../../src/upstream/oauth2.js';
import { UpstreamError } from '../../src/upstream/types.js';

const SECRET = 'p@ss+wörd:top-secret';
const TOKEN_URL = 'https://idp.example.org/oauth/token?appName=abc';

interface FakeServer {
  send: Send;
  tokenCalls: TransportRequest[];
  dataCalls: TransportRequest[];
}

/** A fake upstream: token endpoint answers via `token()`, data endpoint via `data()`. */
function fake(token: (n: number) => TransportResponse | Promise<TransportResponse>, data?: (req: TransportRequest) => number): FakeServer {
  const tokenCalls: TransportRequest[] = [];
  const dataCalls: TransportRequest[] = [];
  const send: Send = async (req) => {
    if (req.path.startsWith('/oauth/token')) {
      tokenCalls.push(req);
      return token(tokenCalls.length);
    }
    dataCalls.push(req);
    return { status: data ? data(req) : 200, headers: {}, body: Buffer.from('{}') };
  };
  return { send, tokenCalls, dataCalls };
}

const json = (status: number, body: unknown): TransportResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});
const tokenOk = (n: number, extra: Record<string, unknown> = {}) => json(200, { access_token: `tok${n}`, token_type: 'Bearer', expires_in: 100, ...extra });

const base: OAuth2Options = { districtId: 'd2', tokenUrl: TOKEN_URL, clientId: 'my id:1', clientSecret: SECRET, scope: 'a b' };
const dataReq = (signal?: AbortSignal): TransportRequest => ({
  method: 'GET',
  origin: 'https://sis.example.org',
  path: '/ims/oneroster/rostering/v1p2/users',
  headers: { accept: 'application/json' },
  ...(signal && { signal }),
});
const bearerOf = (req: TransportRequest) => req.headers.authorization;

describe('oauth2 token request', () => {
  it('POSTs client_credentials with scope and form-urlencoded Basic credentials (RFC 6749 §2.3.1)', async () => {
    const f = fake((n) => tokenOk(n));
    await oauth2(base)(f.send)(dataReq());
    const t = f.tokenCalls[0]!;
    expect(t.method).toBe('POST');
    expect(t.origin).toBe('https://idp.example.org');
    expect(t.path).toBe('/oauth/token?appName=abc');
    expect(t.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(t.body).toBe('grant_type=client_credentials&scope=a+b');
    const basic = Buffer.from(t.headers.authorization!.replace(/^Basic /, ''), 'base64').toString();
    expect(basic).toBe('my+id%3A1:p%40ss%2Bw%C3%B6rd%3Atop-secret');
    expect(bearerOf(f.dataCalls[0]!)).toBe('Bearer tok1');
  });

  it("sends credentials in the body with clientAuth 'body' and no scope when scope is ''", async () => {
    const f = fake((n) => tokenOk(n));
    await oauth2({ ...base, scope: '', clientAuth: 'body' })(f.send)(dataReq());
    const t = f.tokenCalls[0]!;
    expect(t.headers.authorization).toBeUndefined();
    const form = new URLSearchParams(String(t.body));
    expect([...form.keys()]).toEqual(['grant_type', 'client_id', 'client_secret']);
    expect(form.get('client_id')).toBe('my id:1');
    expect(form.get('client_secret')).toBe(SECRET);
  });
});

describe('oauth2 token cache', () => {
  it('shares one token across sequential and concurrent requests (single-flight)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const f = fake(async (n) => {
      await gate;
      return tokenOk(n);
    });
    const send = oauth2(base)(f.send);
    const all = Promise.all(Array.from({ length: 10 }, () => send(dataReq())));
    release();
    await all;
    await send(dataReq());
    expect(f.tokenCalls).toHaveLength(1);
    expect(f.dataCalls).toHaveLength(11);
    expect(new Set(f.dataCalls.map(bearerOf))).toEqual(new Set(['Bearer tok1']));
  });

  it('refreshes at 90% of expires_in, at most 60 s early', async () => {
    let clock = 1_000_000;
    const f = fake((n) => tokenOk(n, { expires_in: n === 1 ? 100 : 3600 }));
    const send = oauth2({ ...base, now: () => clock })(f.send);
    await send(dataReq());
    clock += 89_999; // 90% of 100 s is 90 s
    await send(dataReq());
    expect(f.tokenCalls).toHaveLength(1);
    clock += 1;
    await send(dataReq());
    expect(f.tokenCalls).toHaveLength(2);
    expect(bearerOf(f.dataCalls[2]!)).toBe('Bearer tok2');
    // tok2 lives 3600 s: 10% would be 360 s early, capped at 60 s.
    clock += 3_539_999;
    await send(dataReq());
    expect(f.tokenCalls).toHaveLength(2);
    clock += 1;
    await send(dataReq());
    expect(f.tokenCalls).toHaveLength(3);
  });

  it('assumes 3600 s when expires_in is missing, accepts "bearer" in any case and a string expires_in', async () => {
    let clock = 0;
    const f = fake((n) => json(200, n === 1 ? { access_token: 'a', token_type: 'BEARER' } : { access_token: 'b', token_type: 'bearer', expires_in: '10' }));
    const send = oauth2({ ...base, now: () => clock })(f.send);
    await send(dataReq());
    clock = 3_539_999;
    await send(dataReq());
    expect(f.tokenCalls).toHaveLength(1);
    clock = 3_540_000;
    await send(dataReq());
    expect(f.tokenCalls).toHaveLength(2);
    clock += 8_999;
    await send(dataReq());
    expect(f.tokenCalls).toHaveLength(2);
    clock += 1;
    await send(dataReq());
    expect(f.tokenCalls).toHaveLength(3);
  });
});

describe('oauth2 on 401', () => {
  it('refreshes once and retries once; a second 401 is the answer', async () => {
    const f = fake((n) => tokenOk(n), (req) => (bearerOf(req) === 'Bearer tok1' ? 401 : 200));
    const send = oauth2(base)(f.send);
    expect((await send(dataReq())).status).toBe(200);
    expect(f.tokenCalls).toHaveLength(2);
    expect(f.dataCalls.map(bearerOf)).toEqual(['Bearer tok1', 'Bearer tok2']);

    const always401 = fake((n) => tokenOk(n), () => 401);
    const send2 = oauth2(base)(always401.send);
    expect((await send2(dataReq())).status).toBe(401);
    expect(always401.tokenCalls).toHaveLength(2);
    expect(always401.dataCalls).toHaveLength(2);
  });

  it('a burst of 401s on the same token causes one refresh', async () => {
    const f = fake((n) => tokenOk(n), (req) => (bearerOf(req) === 'Bearer tok2' ? 401 : 200));
    let clock = 0;
    const send = oauth2({ ...base, now: () => clock })(f.send);
    await send(dataReq()); // tok1
    clock = 1_000_000; // tok1 stale -> tok2, which the server then rejects
    const results = await Promise.all(Array.from({ length: 5 }, () => send(dataReq())));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(f.tokenCalls).toHaveLength(3);
  });
});

describe('oauth2 token failures', () => {
  const cases: Array<[string, (n: number) => TransportResponse, RegExp]> = [
    ['500', () => json(500, 'boom'), /answered 500/],
    ['401 invalid_client', () => json(401, { error: 'invalid_client' }), /answered 401 \(invalid_client\)/],
    ['non-JSON 200', () => ({ status: 200, headers: { 'content-type': 'text/html' }, body: Buffer.from('<html>login</html>') }), /not a JSON object/],
    ['no access_token', () => json(200, { token_type: 'bearer' }), /no access_token/],
    ['token_type mac', () => json(200, { access_token: 'x', token_type: 'mac' }), /"mac" is not bearer/],
  ];
  it.each(cases)('%s -> UPSTREAM_AUTH_FAILED, not cached, message free of URL and secret', async (_name, answer, message) => {
    const f = fake((n) => (n === 1 ? answer(n) : tokenOk(n)));
    const send = oauth2(base)(f.send);
    const err = await send(dataReq()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).code).toBe('UPSTREAM_AUTH_FAILED');
    const msg = (err as Error).message;
    expect(msg).toMatch(message);
    expect(msg).toContain('d2');
    for (const leak of ['idp.example.org', 'appName', 'top-secret', 'p@ss', 'my id']) expect(msg).not.toContain(leak);
    expect(f.dataCalls).toHaveLength(0);
    // The failure was not cached: the next request fetches again and succeeds.
    expect((await send(dataReq())).status).toBe(200);
    expect(f.tokenCalls).toHaveLength(2);
  });

  it.each([
    ['UPSTREAM_UNREACHABLE', 'ECONNREFUSED', /token endpoint of district "d2" is unreachable \(ECONNREFUSED\)/],
    ['UPSTREAM_UNREACHABLE', 'ENOTFOUND', /token endpoint of district "d2" is unreachable \(ENOTFOUND\)/],
    ['UPSTREAM_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', /token endpoint of district "d2" did not answer in time/],
  ] as const)('a token endpoint that cannot be reached (%s, %s) is a network failure of the district, not an auth failure', async (code, cause, message) => {
    const send = oauth2(base)(async (req) => {
      // The transport's own message may name the host: it must not survive.
      throw new UpstreamError(code, `connect ${cause} idp.example.org:443 ${req.path}`, 'd2', undefined, { cause });
    });
    const err = (await send(dataReq()).catch((e: unknown) => e)) as UpstreamError;
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.code).toBe(code);
    expect(err.detail).toEqual({ cause, stage: 'token' });
    expect(err.message).toMatch(message);
    for (const leak of ['idp.example.org', 'appName', 'top-secret', 'p@ss', 'my id']) expect(err.message).not.toContain(leak);
  });

  it('one caller aborting does not cancel the shared token fetch for others', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const f = fake(async (n) => {
      await gate;
      return tokenOk(n);
    });
    const send = oauth2(base)(f.send);
    const ac = new AbortController();
    const a = send(dataReq(ac.signal));
    const b = send(dataReq());
    ac.abort();
    await expect(a).rejects.toMatchObject({ code: 'UPSTREAM_ABORTED' });
    release();
    expect((await b).status).toBe(200);
    expect(f.tokenCalls).toHaveLength(1);
    expect(f.dataCalls).toHaveLength(1);
  });

  it('validates its options without echoing the URL', () => {
    expect(() => oauth2({ ...base, tokenUrl: 'ftp://x/secret-path' })).toThrow(/tokenUrl/);
    expect(() => oauth2({ ...base, tokenUrl: 'ftp://x/secret-path' })).not.toThrow(/secret-path/);
    expect(() => oauth2({ ...base, clientSecret: '' })).toThrow(/clientSecret/);
    expect(() => oauth2({ ...base, clientAuth: 'digest' as never })).toThrow(/clientAuth/);
  });
});
