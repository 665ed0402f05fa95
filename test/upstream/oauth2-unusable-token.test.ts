// A token endpoint that answers a token no header can carry (CR/LF, control or non-ASCII
// characters, empty, huge) must not break the district until that token expires: the token is
// refused when fetched, never cached, reported once, and the next request asks again.
import { afterEach, describe, expect, it } from 'vitest';
import { createUpstreamClient } from '../../src/upstream/client.js';
import type { Send, TransportRequest, TransportResponse } from '../../src/upstream/http.js';
import { oauth2, type OAuth2Event } from '../../src/upstream/oauth2.js';
import { UpstreamError } from '../../src/upstream/types.js';
import { district } from './district.js';
import { startLocalServer, type LocalServer } from './local-server.js';

const base = { districtId: 'd2', tokenUrl: 'https://idp.example.org/oauth/token', clientId: 'id', clientSecret: 'client-secret-value' };
const dataReq: TransportRequest = { method: 'GET', origin: 'https://sis.example.org', path: '/users', headers: {} };

/** A fake next Send whose token endpoint answers `tokens[n]` (then a good one) and whose data endpoint answers 200. */
function fake(tokens: string[]) {
  const tokenCalls: TransportRequest[] = [];
  const dataCalls: TransportRequest[] = [];
  const send: Send = async (req): Promise<TransportResponse> => {
    if (req.path.startsWith('/oauth/token')) {
      const access_token = tokens[tokenCalls.length] ?? `good-${tokenCalls.length}`;
      tokenCalls.push(req);
      return { status: 200, headers: {}, body: Buffer.from(JSON.stringify({ access_token, token_type: 'Bearer', expires_in: 3600 })) };
    }
    dataCalls.push(req);
    return { status: 200, headers: {}, body: Buffer.from('{}') };
  };
  return { send, tokenCalls, dataCalls };
}

describe('oauth2: unusable access tokens', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['CR/LF (header injection)', 'abc\r\nX-Injected: 1', /visible ASCII/],
    ['a lone LF', 'abc\ndef', /visible ASCII/],
    ['a space', 'abc def', /visible ASCII/],
    ['NUL', 'abc\u0000', /visible ASCII/],
    ['non-ASCII', 'tökén', /visible ASCII/],
    ['DEL', 'abc\u007f', /visible ASCII/],
    ['empty', '', /empty/],
    ['over 8 KiB', 'a'.repeat(8 * 1024 + 1), /longer than 8192/],
  ];
  it.each(cases)('%s is refused when fetched, reported once, not cached; the next request asks again', async (_name, bad, why) => {
    const events: OAuth2Event[] = [];
    const f = fake([bad]);
    const send = oauth2({ ...base, onEvent: (e) => events.push(e) })(f.send);
    const err = await send(dataReq).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).code).toBe('UPSTREAM_AUTH_FAILED');
    expect((err as Error).message).toMatch(/token endpoint answered an unusable access_token/);
    expect((err as Error).message).toMatch(why);
    expect(f.dataCalls).toHaveLength(0);
    expect(events).toEqual([{ type: 'token_refused', districtId: 'd2', reason: expect.stringMatching(why) }]);
    // Nothing of the token itself reaches the message or the event.
    if (bad.length > 3) for (const text of [(err as Error).message, events[0]!.reason]) expect(text).not.toContain(bad.slice(0, 5));

    const res = await send(dataReq);
    expect(res.status).toBe(200);
    expect(f.tokenCalls).toHaveLength(2);
    expect(f.dataCalls[0]!.headers.authorization).toBe('Bearer good-1');
    expect(events).toHaveLength(1);
  });

  it('draws the line exactly: all of 0x21-0x7e and 8 KiB pass, one step beyond is refused', async () => {
    const visible = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('');
    for (const token of [visible, 'b'.repeat(8 * 1024)]) {
      const f = fake([token]);
      await oauth2(base)(f.send)(dataReq);
      expect(f.dataCalls[0]!.headers.authorization).toBe(`Bearer ${token}`);
    }
    for (const token of [`${visible}\u0020`, `\u0080${visible}`, 'b'.repeat(8 * 1024 + 1)]) {
      const f = fake([token]);
      await expect(oauth2(base)(f.send)(dataReq)).rejects.toMatchObject({ code: 'UPSTREAM_AUTH_FAILED' });
      expect(f.dataCalls).toHaveLength(0);
    }
  });

  it('concurrent requests share one refused fetch: one event, one failure each', async () => {
    const events: OAuth2Event[] = [];
    const f = fake(['bad\r\ntoken']);
    const send = oauth2({ ...base, onEvent: (e) => events.push(e) })(f.send);
    const results = await Promise.allSettled([send(dataReq), send(dataReq), send(dataReq)]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(f.tokenCalls).toHaveLength(1);
    expect(events).toHaveLength(1);
  });

  it('validates onEvent', () => {
    expect(() => oauth2({ ...base, onEvent: 'log' as never })).toThrow(/onEvent/);
  });
});

describe('oauth2 through a district client, on the wire', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  it("refuses a CR/LF token, logs it once through the client's logger, and a 401 later forces exactly one refresh", async () => {
    let tokenNo = 0;
    const revoked = new Set<string>();
    const s: LocalServer = await startLocalServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/oauth/token') {
        tokenNo++;
        const access_token = tokenNo === 1 ? 'evil\r\nX-Injected: yes' : `tok-${tokenNo}`;
        return void res.end(JSON.stringify({ access_token, token_type: 'bearer', expires_in: 3600 }));
      }
      const auth = String(req.headers.authorization);
      if (revoked.has(auth)) return void ((res.statusCode = 401), res.end('{}'));
      res.end('{"users":[]}');
    });
    cleanups.push(() => s.close());
    const warnings: object[] = [];
    const c = createUpstreamClient(
      district(s.origin, { type: 'oauth2', tokenUrl: `${s.origin}/oauth/token`, clientId: 'gw', clientSecret: 'oauth2-secret', scope: '', clientAuth: 'basic' }),
      { logger: { warn: (o) => warnings.push(o) } },
    );
    cleanups.push(() => c.close());
    const users = { method: 'GET' as const, path: '/users', query: [] };

    await expect(c.request(users)).rejects.toMatchObject({ code: 'UPSTREAM_AUTH_FAILED', message: expect.stringMatching(/unusable access_token/) });
    expect(warnings).toEqual([{ msg: 'upstream token refused', district: 'test-district', reason: 'characters other than visible ASCII' }]);
    expect(s.hits.filter((h) => h.url !== '/oauth/token')).toHaveLength(0);

    // Asked again at once, not after ~54 minutes.
    expect((await c.request(users)).status).toBe(200);
    expect(s.hits.at(-1)!.headers.authorization).toBe('Bearer tok-2');
    expect(s.hits.filter((h) => h.headers['x-injected'] !== undefined)).toHaveLength(0);

    // Unchanged: a 401 on the cached token forces exactly one refresh.
    revoked.add('Bearer tok-2');
    expect((await c.request(users)).status).toBe(200);
    expect(tokenNo).toBe(3);
    expect(s.hits.at(-1)!.headers.authorization).toBe('Bearer tok-3');
    expect(warnings).toHaveLength(1);
  });
});
