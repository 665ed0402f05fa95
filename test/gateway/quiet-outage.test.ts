import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, bearerSandbox, startStack, type Stack } from '../helpers/stack.js';

// A district down for an hour, seen through the whole gateway's log (its pino destination):
// twelve delta polls, each probing the open breaker and failing every collection, make one
// warning per state change and a reminder every 15 minutes, not a warning per probe and per
// collection. The clock is the test's: the breaker's openSeconds and the sync's reminders pass
// without sleeping; the polls are driven through the admin API.
let now = Date.now();
const ADMIN = 'admin-token-0123456789abcdefghij';
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    districts: [{ id: 'down', sandbox: bearerSandbox(), extra: { upstream: { breaker: { failureThreshold: 3, openSeconds: 30 }, retry: { maxAttempts: 1 } } } }],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['*'], scopes: ALL_SCOPES }],
    cache: { deltaSync: { enabled: true, intervalSeconds: 3600 } },
    admin: { token: ADMIN },
    now: () => now,
  });
});
afterAll(() => stack?.close());

const syncNow = async () => {
  const res = await stack.http.post('/admin/districts/down/sync').set('authorization', `Bearer ${ADMIN}`);
  expect(res.status).toBe(200);
  return res.body.sync as { ran: boolean; collections: Array<{ outcome: string }> };
};
const lines = () => stack.logs.map((l) => JSON.parse(l) as { level: number | string; msg: string } & Record<string, unknown>);
const said = (from: number) => lines().slice(from).filter((l) => /circuit|delta sync/.test(l.msg)).map((l) => l.msg);

describe('a district down for an hour', () => {
  it('logs each change of state once, with reminders every 15 minutes, not a line per probe and collection', async () => {
    expect((await syncNow()).collections.every((c) => c.outcome === 'synced')).toBe(true);
    const from = stack.logs.length;
    stack.sandboxes.down!.injectFault({ kind: 'status', status: 503 }, { times: 10_000 });
    // Twelve polls five minutes apart: each finds the breaker half-open, its probe fails, and
    // every other collection is refused by the open circuit.
    for (let i = 0; i < 12; i++) {
      const run = await syncNow();
      expect(run.ran).toBe(true);
      expect(run.collections.every((c) => c.outcome === 'failed')).toBe(true);
      now += 5 * 60_000;
    }
    expect(said(from)).toEqual([
      'circuit opened',
      'delta sync failed',
      // 15, 30 and 45 minutes into the outage (the last poll is at 55).
      'circuit still open',
      'delta sync still failing',
      'circuit still open',
      'delta sync still failing',
      'circuit still open',
      'delta sync still failing',
    ]);
    const failed = lines().find((l) => l.msg === 'delta sync failed')!;
    expect(failed).toMatchObject({ district: 'down', collections: expect.arrayContaining(['users', 'orgs']) });
    expect(lines().find((l) => l.msg === 'circuit opened')).toMatchObject({ district: 'down', cause: 'HTTP 503' });

    stack.sandboxes.down!.clearFaults();
    expect((await syncNow()).collections.every((c) => c.outcome === 'synced')).toBe(true);
    expect(said(from).slice(-2)).toEqual(['circuit closed', 'delta sync recovered']);
    expect(lines().find((l) => l.msg === 'delta sync recovered')).toMatchObject({ district: 'down', attempts: 12 });
    // Nothing the district is reached by is in the log.
    const text = stack.logs.slice(from).join('');
    expect(text).not.toContain(stack.sandboxes.down!.url);
    expect(text).not.toContain('classlink-bearer-token-xyz');
  });
});
