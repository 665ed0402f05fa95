// A gateway with 60 districts behind one sandbox starts without a thundering herd: its delta
// polls come spread over the interval and at most sync.maxBackgroundConcurrency of them are at
// the sandbox at once, while a client's request goes straight through. Counted at the sandbox.
import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSandbox } from '../../src/sandbox/index.js';
import type { Sandbox } from '../../src/sandbox/types.js';
import { ALL_SCOPES, TOKEN_SECRET } from '../helpers/stack.js';

const CAP = 3;
const DISTRICTS = 60;
const HOLD_MS = 40;
const BEARER = 'polite-start-bearer-token';

let sandbox: Sandbox;
let gateway: RunningGateway;
let startedAt = 0;
let userPath = '/never';
const logs: string[] = [];
// What reached the sandbox: each request's arrival (ms after the gateway started) and kind.
const arrivals: Array<{ at: number; client: boolean }> = [];
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  sandbox = await startSandbox(
    { version: 'v1p1', auth: { type: 'bearer', token: BEARER }, users: 20 },
    {
      // Every data request is held a moment, so background requests overlap as they would at a real SIS.
      async beforeData(io) {
        const client = io.path.endsWith(userPath);
        arrivals.push({ at: Date.now() - startedAt, client });
        if (!client) maxInFlight = Math.max(maxInFlight, ++inFlight);
        await io.sleep(HOLD_MS);
        if (!client) inFlight--;
        return false;
      },
    },
  );
  userPath = `/users/${String(sandbox.store.list('users')[0]!.sourcedId)}`;
  const districts = Array.from({ length: DISTRICTS }, (_, i) => ({
    id: `d-${String(i + 1).padStart(2, '0')}`,
    version: 'v1p1',
    baseUrl: sandbox.baseUrl,
    auth: { type: 'bearer', token: BEARER },
  }));
  const config = parseConfig(
    JSON.stringify({
      server: { port: 0, host: '127.0.0.1', shutdownGraceMs: 2000 },
      auth: { tokenSecret: TOKEN_SECRET, clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }] },
      districts,
      cache: { deltaSync: { enabled: true, intervalSeconds: 5 } },
      sync: { maxBackgroundConcurrency: CAP },
    }),
    {},
    'polite-start',
  );
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  startedAt = Date.now();
  gateway = await startGateway(config, { logger: createLogger({ level: 'info', destination }) });
});
afterAll(async () => {
  await gateway?.close();
  await sandbox?.close();
});

describe('a gateway with 60 districts starting', () => {
  it('spreads its first delta polls and keeps CAP of them at the sandbox at most; a client request does not queue behind them', async () => {
    const http = request(gateway.url);
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'app', client_secret: 'app-secret-value' });
    const token = (await http.post('/oauth/token').type('form').send(form.toString())).body.access_token as string;
    // Wait until the background is busy: CAP polls at the sandbox, more waiting.
    const end = Date.now() + 5000;
    while (inFlight < CAP && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(inFlight).toBe(CAP);
    const before = arrivals.length;
    const res = await http.get(`/districts/d-30/ims/oneroster/v1p1${userPath}`).set('authorization', `Bearer ${token}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const mine = arrivals.findIndex((a, i) => i >= before && a.client);
    expect(mine).toBeGreaterThanOrEqual(before);
    // Between the client's request and its arrival, at most the polls already holding a slot
    // were replaced: it did not wait for the dozens of polls queued behind the cap.
    expect(mine - before).toBeLessThanOrEqual(CAP);

    // Let one whole interval and a little pass: every district polled its collections.
    await new Promise((r) => setTimeout(r, 5500 - (Date.now() - startedAt)));
    const polls = arrivals.filter((a) => !a.client);
    expect(maxInFlight).toBe(CAP);
    // With CAP requests of at least HOLD_MS each, the first second holds at most this many.
    expect(polls.filter((a) => a.at < 1000).length).toBeLessThanOrEqual(CAP * (1000 / HOLD_MS + 1));
    expect(polls.length).toBeGreaterThan(DISTRICTS);
    // Nothing failed on the way: no district warned.
    expect(logs.filter((l) => l.includes('"level":"warn"') || l.includes('"level":40'))).toEqual([]);
  }, 20_000);
});
