import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSandbox, type TestSandbox } from '../../src/sandbox/testing.js';
import { freePort, redisUrl, uniquePrefix } from '../cache/redis-env.js';
import { startReplica, type Replica } from '../helpers/replica.js';
import { ALL_SCOPES, TOKEN_SECRET, tokenAt } from '../helpers/stack.js';

// A replica that dies while it fetches a page for the cluster must not hold the other
// replicas up for the whole coalescing wait: its claim on the page outlives it only by
// the lease TTL (3 s), because a live holder keeps renewing it.
const url = redisUrl();

describe.runIf(url)('a replica killed while it holds a page lease', () => {
  let sandbox: TestSandbox;
  let survivor: RunningGateway;
  let doomed: Replica;

  beforeAll(async () => {
    sandbox = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: 'death-bearer' }, users: 50 });
    const prefix = uniquePrefix('death');
    const config = (port: number) => ({
      server: { port, host: '127.0.0.1', publicUrl: 'https://gateway.example.org', drainDelayMs: 0 },
      auth: { tokenSecret: TOKEN_SECRET, clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }] },
      // The default 10 s wait: without lease renewal the survivor would wait all of it.
      cache: { store: url, keyPrefix: prefix, ttlSeconds: 600, deltaSync: { enabled: false } },
      districts: [{ id: 'd1', version: 'v1p1', baseUrl: sandbox.baseUrl, auth: { type: 'bearer', token: 'death-bearer' }, upstream: { retry: { maxAttempts: 1 } } }],
    });
    survivor = await startGateway(parseConfig(JSON.stringify(config(0)), {}, 'survivor'), { logger: createLogger({ level: 'silent' }) });
    // A replica in its own process, so it can die as a crashed container does.
    const port = await freePort();
    doomed = await startReplica('doomed', port, config(port));
  });
  afterAll(async () => {
    await doomed?.kill();
    await survivor?.close();
    await sandbox?.close();
  });

  it('lets the next replica fetch the page within the lease TTL, not the coalescing wait', async () => {
    const token = await tokenAt(survivor.url);
    const page = '/districts/d1/ims/oneroster/v1p1/users?limit=7&offset=3';
    // The doomed replica's fetch hangs at the district long enough to be killed mid-way.
    sandbox.injectFault({ kind: 'delay', ms: 20_000 }, { match: '/users' });
    void fetch(`${doomed.url}${page}`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
    for (let i = 0; i < 200 && sandbox.hitCount('/ims/oneroster/v1p1/users') === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sandbox.hitCount('/ims/oneroster/v1p1/users')).toBe(1);
    await doomed.kill();

    const started = performance.now();
    const res = await request(survivor.url).get(page).set('authorization', `Bearer ${token}`);
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    expect(res.body.users).toHaveLength(7);
    // It waited for the dead replica's lease to lapse (<= 3 s), then fetched the page itself.
    expect(ms).toBeLessThan(6_000);
    expect(sandbox.hitCount('/ims/oneroster/v1p1/users')).toBe(2);
  });
});
