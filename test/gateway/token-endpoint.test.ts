// POST /oauth/token in front of hostile clients: bodies refused at their bound while they
// stream in, and failed client authentication logged and throttled per client address, per
// client id from one address, and per client id past its ceiling only for addresses that failed
// (server.trustProxy: the client address is the right-most X-Forwarded-For entry).
import { connect } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, TOKEN_SECRET, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';

const VICTIM_SECRET = 'victim-secret-value';
const BYSTANDER_SECRET = 'bystander-secret-value';
const CLIENTS = [
  { clientId: 'victim', clientSecret: VICTIM_SECRET, districts: ['*'], scopes: ALL_SCOPES },
  { clientId: 'bystander', clientSecret: BYSTANDER_SECRET, districts: ['*'], scopes: ALL_SCOPES },
];

/** A raw exchange: what the gateway wrote back, and when it closed the connection (ms after connecting). */
function exchange(url: string, writes: string[], waitMs = 4000): Promise<{ text: string; closedAfterMs: number | undefined }> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    const started = performance.now();
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => undefined); // the gateway may close while we still write
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closedAfterMs: undefined });
    }, waitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: performance.now() - started });
    });
    socket.on('connect', () => {
      for (const w of writes) socket.write(w);
    });
  });
}

const jsonOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
const BEHIND_PROXY = 'behind a load balancer? set server.trustProxy so failed logins are counted per client address';
const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);

describe('token request bodies', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ districts: [{ id: 'springfield', sandbox: oauth1Sandbox() }], clients: CLIENTS, server: { limits: { maxTokenBodyBytes: 1024 } } });
  });
  afterAll(() => stack?.close());

  const form = (pad: number) => `grant_type=client_credentials&client_id=bystander&client_secret=${BYSTANDER_SECRET}&pad=${'p'.repeat(pad)}`;

  it('takes a body of exactly maxTokenBodyBytes', async () => {
    const body = form(1024 - form(0).length);
    expect(body.length).toBe(1024);
    const res = await request(stack.gateway.url).post('/oauth/token').type('form').send(body);
    expect(res.status).toBe(200);
  });

  it('refuses a declared Content-Length over the bound before reading any of it (413, OAuth fields, connection closed)', async () => {
    // 600 MB announced, a few bytes sent: the answer must not wait for the rest.
    const head = 'POST /oauth/token HTTP/1.1\r\nHost: gw\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 629145600\r\n\r\n';
    const res = await exchange(stack.gateway.url, [head, 'grant_type=client_credentials']);
    expect(statusOf(res.text)).toBe(413);
    expect(res.text.toLowerCase()).toContain('connection: close');
    expect(jsonOf(res.text)).toMatchObject({ error: 'invalid_request', imsx_codeMajor: 'failure', error_description: expect.stringContaining('larger than 1024 bytes') });
    expect(res.closedAfterMs).toBeLessThan(2000);
  });

  it('cuts a chunked body at the bound while the client is still sending', async () => {
    const head = 'POST /oauth/token HTTP/1.1\r\nHost: gw\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n';
    // 1.5 KiB in chunks, and no terminating chunk: the body never ends.
    const chunks = Array.from({ length: 3 }, () => `200\r\n${'a'.repeat(512)}\r\n`);
    const res = await exchange(stack.gateway.url, [head, ...chunks]);
    expect(statusOf(res.text)).toBe(413);
    expect(jsonOf(res.text)).toMatchObject({ error: 'invalid_request' });
    expect(res.closedAfterMs).toBeLessThan(2000);
    // The gateway still answers.
    expect((await request(stack.gateway.url).post('/oauth/token').type('form').send(form(1))).status).toBe(200);
  });
});

describe('failed client authentication (trustProxy: the balancer appends the client address)', () => {
  let stack: Stack;
  // The whole auth block goes in `extra`: the stack helper sets only the token secret and the clients.
  beforeAll(async () => {
    stack = await startStack({
      districts: [{ id: 'springfield', sandbox: oauth1Sandbox() }],
      clients: CLIENTS,
      server: { trustProxy: true },
      // The default counts over an hour, not a minute: no failure refills while a slow machine runs the test.
      extra: { auth: { tokenSecret: TOKEN_SECRET, clients: CLIENTS, failedAuth: { perClient: 10, perAddress: 30, windowSeconds: 3600 } } },
    });
  });
  afterAll(() => stack?.close());

  const attempt = (id: string, secret: string, from: string) =>
    request(stack.gateway.url)
      .post('/oauth/token')
      .type('form')
      .set('x-forwarded-for', from)
      .send(new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret }).toString());
  const logged = (msg: string) => stack.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);

  it('throttles a client id from one address after auth.failedAuth.perClient failures (429 + Retry-After), even for the right secret', async () => {
    const statuses: number[] = [];
    let throttled: request.Response | undefined;
    for (let i = 0; i < 150; i++) {
      // Left of the right-most entry is whatever the client wrote: it must not matter.
      const res = await attempt('victim', `wrong-guess-${i}`, `10.${i}.0.1, 203.0.113.7`);
      statuses.push(res.status);
      if (res.status === 429) throttled ??= res;
    }
    // 10 failures per window; each further attempt is refused before its secret is compared.
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(new Set(statuses.slice(10))).toEqual(new Set([429]));
    expect(throttled!.body).toMatchObject({ error: 'temporarily_unavailable', imsx_codeMajor: 'failure' });
    expect(throttled!.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('server_busy');
    const retryAfter = Number(throttled!.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(360); // one failure back every 3600 s / 10

    // The right secret is refused the same way from the throttled address...
    const right = await attempt('victim', VICTIM_SECRET, '203.0.113.7');
    expect(right.status).toBe(429);
    expect(right.body.access_token).toBeUndefined();
    expect(right.headers['retry-after']).toBeDefined();
    // ...but client ids are not secret: the real client at another address is not locked out.
    const elsewhere = await attempt('victim', VICTIM_SECRET, '192.0.2.55');
    expect(elsewhere.status).toBe(200);
    expect(typeof elsewhere.body.access_token).toBe('string');
    // Another client is not held by the victim's throttle, from the same address (10 failures < perAddress 30) or another.
    expect((await attempt('bystander', BYSTANDER_SECRET, '203.0.113.7')).status).toBe(200);
    expect((await attempt('bystander', BYSTANDER_SECRET, '192.0.2.55')).status).toBe(200);

    // Every checked failure is logged with the id and the balancer's address, never a secret.
    const failures = logged('client authentication failed').filter((l) => l.clientId === 'victim');
    expect(failures).toHaveLength(10);
    expect(failures[0]).toMatchObject({ level: 'warn', clientId: 'victim', address: '203.0.113.7' });
    expect(logged('client authentication throttled')).toEqual([expect.objectContaining({ clientId: 'victim', address: '203.0.113.7', by: ['client-address'] })]);
    const all = stack.logs.join('\n');
    expect(all).not.toContain('wrong-guess-');
    expect(all).not.toContain(VICTIM_SECRET);
    expect(all).not.toContain(BYSTANDER_SECRET);
    // With trustProxy the balancer's header is expected: no warning about it.
    expect(logged(BEHIND_PROXY)).toEqual([]);
  });

  it('an attacker failing and polling for a client id at one address never stops the real client at another', async () => {
    const attackerStatuses = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const bad = await attempt('bystander', `wrong-${i}`, '198.51.100.66');
      attackerStatuses.add(bad.status);
      // The real client at its own address gets a token every time.
      expect((await attempt('bystander', BYSTANDER_SECRET, '192.0.2.80')).status).toBe(200);
    }
    expect(attackerStatuses).toEqual(new Set([401, 429]));
    // The attacker stays throttled, the right secret included.
    const right = await attempt('bystander', BYSTANDER_SECRET, '198.51.100.66');
    expect(right.status).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('throttles an address after auth.failedAuth.perAddress failures, whatever ids it tries', async () => {
    for (let i = 0; i < 30; i++) expect((await attempt(`nobody-${i}`, 'x', '198.51.100.9')).status).toBe(401);
    const right = await attempt('bystander', BYSTANDER_SECRET, '198.51.100.9');
    expect(right.status).toBe(429);
    expect(right.body.error).toBe('temporarily_unavailable');
    // A client may write anything left of the balancer's entry; only the right-most counts.
    expect((await attempt('bystander', BYSTANDER_SECRET, '192.0.2.1, 198.51.100.9')).status).toBe(429);
    expect((await attempt('bystander', BYSTANDER_SECRET, '198.51.100.9, 192.0.2.1')).status).toBe(200);
    expect(logged('client authentication throttled').at(-1)).toMatchObject({ address: '198.51.100.9', by: ['address'] });
  });

  it('logs an odd client id bounded and printable', async () => {
    const odd = `evil\n${'z'.repeat(500)}`;
    expect((await attempt(odd, 'x', '192.0.2.200')).status).toBe(401);
    const line = logged('client authentication failed').at(-1)!;
    expect(line.clientId).toBe(`evil?${'z'.repeat(59)}...`);
    expect(line.address).toBe('192.0.2.200');
  });
});

describe('failed client authentication spread over many addresses (the per-id ceiling)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      districts: [{ id: 'springfield', sandbox: oauth1Sandbox() }],
      clients: CLIENTS,
      server: { trustProxy: true },
      // perClient 2: the id's ceiling is 2 x 5 = 10 failures per window, whatever the addresses.
      extra: { auth: { tokenSecret: TOKEN_SECRET, clients: CLIENTS, failedAuth: { perClient: 2, perAddress: 30, windowSeconds: 3600 } } },
    });
  });
  afterAll(() => stack?.close());

  const attempt = (id: string, secret: string, from: string) =>
    request(stack.gateway.url).post('/oauth/token').type('form').set('x-forwarded-for', from).send(new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret }).toString());

  it('refuses the id to addresses that failed for it once past the ceiling, and still checks a clean address', async () => {
    // One failure from each of 10 addresses: none reaches perClient, the id reaches its ceiling.
    for (let i = 1; i <= 10; i++) expect((await attempt('victim', `guess-${i}`, `198.51.100.${i}`)).status).toBe(401);
    for (const secret of ['guess-again', VICTIM_SECRET]) {
      const res = await attempt('victim', secret, '198.51.100.3');
      expect(res.status).toBe(429);
      expect(res.body.access_token).toBeUndefined();
      const retryAfter = Number(res.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(360); // the ceiling refills one failure every 3600 s / 10
    }
    // The real client at an address without failures gets its token; other ids are not held.
    expect((await attempt('victim', VICTIM_SECRET, '192.0.2.10')).status).toBe(200);
    expect((await attempt('bystander', BYSTANDER_SECRET, '198.51.100.3')).status).toBe(200);
    // A fresh address gets one guess, then it is a failing address too.
    expect((await attempt('victim', 'one-guess', '198.51.100.50')).status).toBe(401);
    expect((await attempt('victim', VICTIM_SECRET, '198.51.100.50')).status).toBe(429);
    expect((await attempt('victim', VICTIM_SECRET, '192.0.2.11')).status).toBe(200);
    const throttled = stack.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'client authentication throttled');
    expect(throttled[0]).toMatchObject({ clientId: 'victim', address: '198.51.100.10', by: ['client'] });
  });
});

describe('failed client authentication without trustProxy', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      districts: [{ id: 'springfield', sandbox: oauth1Sandbox() }],
      clients: CLIENTS,
      extra: { auth: { tokenSecret: TOKEN_SECRET, clients: CLIENTS, failedAuth: { perClient: 100, perAddress: 3, windowSeconds: 60 } } },
    });
  });
  afterAll(() => stack?.close());

  it('counts the socket address: a client cannot escape its throttle with X-Forwarded-For', async () => {
    const attempt = (id: string, secret: string, i: number) =>
      request(stack.gateway.url).post('/oauth/token').type('form').set('x-forwarded-for', `192.0.2.${i}`).send(`grant_type=client_credentials&client_id=${id}&client_secret=${secret}`);
    for (let i = 0; i < 3; i++) expect((await attempt(`guess-${i}`, 'x', i)).status).toBe(401);
    const res = await attempt('bystander', BYSTANDER_SECRET, 99);
    expect(res.status).toBe(429);
    const lines = stack.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'client authentication failed');
    expect(new Set(lines.map((l) => l.address))).toEqual(new Set(['127.0.0.1']));
  });

  it('warns once that X-Forwarded-For is ignored: every client behind a balancer would share its address', async () => {
    for (let i = 0; i < 3; i++) {
      await request(stack.gateway.url).post('/oauth/token').type('form').set('x-forwarded-for', '192.0.2.7').send(`grant_type=client_credentials&client_id=bystander&client_secret=${BYSTANDER_SECRET}`);
    }
    const warnings = stack.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === BEHIND_PROXY);
    expect(warnings).toEqual([expect.objectContaining({ level: 'warn', address: '127.0.0.1' })]);
  });
});
