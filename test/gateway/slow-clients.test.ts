// Slow clients over raw sockets: headers that never finish (headersTimeoutMs), a body that
// stalls (bodyIdleTimeoutMs: the body reader's 408) and one that trickles past the whole
// request's deadline (requestTimeoutMs). Each is answered 408 in the JSON envelope and the
// connection closed within a few seconds; a normal request still works.
import { connect, type Socket } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';

const CLIENTS = [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }];

interface Slow {
  /** Written at once. */
  first: string;
  /** Written one after another, `everyMs` apart, until the gateway closes (or they run out). */
  drip?: string[];
  everyMs?: number;
}

/** What the gateway wrote back, and when it closed the connection (ms after connecting; undefined: still open at `waitMs`). */
function slowExchange(url: string, slow: Slow, waitMs = 8000): Promise<{ text: string; closedAfterMs: number | undefined }> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(port), '127.0.0.1');
    const started = performance.now();
    let text = '';
    let drip: NodeJS.Timeout | undefined;
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => undefined); // a write after the gateway closed
    const done = (closedAfterMs: number | undefined) => {
      clearInterval(drip);
      clearTimeout(timer);
      resolve({ text, closedAfterMs });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      done(undefined);
    }, waitMs);
    socket.on('close', () => done(performance.now() - started));
    socket.on('connect', () => {
      socket.write(slow.first);
      const rest = [...(slow.drip ?? [])];
      drip = setInterval(() => {
        const next = rest.shift();
        if (next === undefined || socket.destroyed) return clearInterval(drip);
        socket.write(next);
      }, slow.everyMs ?? 200);
    });
  });
}

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
const headOf = (raw: string) => raw.slice(0, raw.indexOf('\r\n\r\n')).toLowerCase();
const jsonOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Record<string, any>;
const descriptionOf = (raw: string) => jsonOf(raw).imsx_description as string;
const minorOf = (body: Record<string, any>) => (body.imsx_CodeMinor ?? body.statusInfoSet[0].imsx_codeMinor).imsx_codeMinorField[0].imsx_codeMinorFieldValue;

const TOKEN_HEAD = (length: number, extra = '') =>
  `POST /oauth/token HTTP/1.1\r\nHost: gw\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\n${extra}\r\n`;

describe('headers and body pauses (headersTimeoutMs 1000, bodyIdleTimeoutMs 1000)', () => {
  let stack: Stack;
  let token: string;
  beforeAll(async () => {
    stack = await startStack({
      districts: [{ id: 'springfield', sandbox: oauth1Sandbox() }],
      clients: CLIENTS,
      // The whole-request deadline far away: only the timeout under test can answer.
      server: { limits: { headersTimeoutMs: 1000, requestTimeoutMs: 60_000, bodyIdleTimeoutMs: 1000 } },
    });
    token = await stack.token('app', 'app-secret-value');
  });
  afterAll(() => stack?.close());

  it('answers headers that never finish with 408 JSON and closes, while they are still dripping in', async () => {
    const res = await slowExchange(stack.gateway.url, {
      first: 'GET /healthz HTTP/1.1\r\nHost: gw\r\n',
      drip: Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: a\r\n`),
      everyMs: 150,
    });
    expect(statusOf(res.text)).toBe(408);
    expect(headOf(res.text)).toContain('content-type: application/json');
    expect(jsonOf(res.text)).toMatchObject({ imsx_codeMajor: 'failure', imsx_severity: 'error' });
    expect(descriptionOf(res.text)).toBe('The request did not arrive in time.');
    expect(res.closedAfterMs).toBeGreaterThan(900);
    expect(res.closedAfterMs).toBeLessThan(3000);
  });

  it('answers a token body that stalls with 408 request_timeout and closes', async () => {
    const res = await slowExchange(stack.gateway.url, { first: `${TOKEN_HEAD(200)}grant_type=client_cred` });
    expect(statusOf(res.text)).toBe(408);
    expect(headOf(res.text)).toContain('connection: close');
    const body = jsonOf(res.text);
    expect(body.imsx_description).toBe('The request body stalled for more than 1000 ms.');
    expect(minorOf(body)).toBe('invaliddata');
    expect(res.closedAfterMs).toBeGreaterThan(900);
    expect(res.closedAfterMs).toBeLessThan(3000);
  });

  it('answers a chunked gradebook PUT that stalls with 408 and closes', async () => {
    const head = `PUT /districts/springfield/ims/oneroster/v1p1/results/r1 HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const before = stack.sandboxes.springfield!.hitCount();
    const res = await slowExchange(stack.gateway.url, { first: `${head}a\r\n{"result":\r\n` });
    expect(statusOf(res.text)).toBe(408);
    expect(headOf(res.text)).toContain('connection: close');
    const body = jsonOf(res.text);
    expect(body.statusInfoSet[0].imsx_description).toMatch(/^The request body stalled for more than \d+ ms\.$/);
    expect(minorOf(body)).toBe('invalid data');
    // The configured bodyIdleTimeoutMs, not the reader's 5 s default.
    expect(res.closedAfterMs).toBeGreaterThan(900);
    expect(res.closedAfterMs).toBeLessThan(3000);
    expect(stack.sandboxes.springfield!.hitCount()).toBe(before);
  }, 10_000);

  it('still serves a normal request, and a body that pauses less than the idle timeout', async () => {
    expect((await request(stack.gateway.url).get('/healthz')).status).toBe(200);
    const form = 'grant_type=client_credentials&client_id=app&client_secret=app-secret-value';
    const res = await slowExchange(stack.gateway.url, { first: `${TOKEN_HEAD(form.length, 'Connection: close\r\n')}${form.slice(0, 20)}`, drip: [form.slice(20, 40), form.slice(40)], everyMs: 400 });
    expect(statusOf(res.text)).toBe(200);
    expect(res.closedAfterMs).toBeGreaterThan(750);
    expect(jsonOf(res.text)).toMatchObject({ token_type: 'Bearer' });
  });
});

describe('the whole request (requestTimeoutMs 1500)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      districts: [{ id: 'springfield', sandbox: oauth1Sandbox() }],
      clients: CLIENTS,
      server: { limits: { headersTimeoutMs: 1000, requestTimeoutMs: 1500, bodyIdleTimeoutMs: 1000 } },
    });
  });
  afterAll(() => stack?.close());

  it("answers a body trickling in under the idle timeout but past the request's deadline with Node's 408, in JSON", async () => {
    const res = await slowExchange(stack.gateway.url, { first: TOKEN_HEAD(200), drip: Array.from({ length: 40 }, () => 'a'), everyMs: 200 });
    expect(statusOf(res.text)).toBe(408);
    expect(descriptionOf(res.text)).toBe('The request did not arrive in time.');
    expect(res.closedAfterMs).toBeGreaterThan(1400);
    expect(res.closedAfterMs).toBeLessThan(3500);
    expect((await request(stack.gateway.url).post('/oauth/token').type('form').send('grant_type=client_credentials&client_id=app&client_secret=app-secret-value')).status).toBe(200);
  });
});
