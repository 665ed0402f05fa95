// Graceful shutdown under load: /readyz turns 503 first while requests are still served
// (drainDelayMs), then the listener closes, in-flight requests finish, keep-alive clients
// are told Connection: close. No request the gateway accepted may fail.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { ALL_SCOPES, bearerSandbox, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack({
    districts: [{ id: 'slow', sandbox: bearerSandbox({ latencyMs: 40, users: 300 }) }],
    clients: [{ clientId: 'app', clientSecret: 'app-secret-value', districts: ['slow'], scopes: ALL_SCOPES }],
    server: { drainDelayMs: 300, shutdownGraceMs: 5000 },
    cache: { ttlSeconds: 0, staleSeconds: 0 }, // every request reaches the district: in flight for 40+ ms
  });
  token = await stack.token('app', 'app-secret-value');
});
afterAll(() => stack?.close());

interface Outcome {
  sentAt: number;
  status?: number;
  error?: string;
  connection?: string;
}

it('drains: readiness first, then no accepted request fails, and background work stops', async () => {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 16 });
  const outcomes: Outcome[] = [];
  let stop = false;
  const worker = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const o: Outcome = { sentAt: performance.now() };
      outcomes.push(o);
      try {
        const res = await request(`${stack.gateway.url}/ims/oneroster/v1p1/users?limit=5&offset=${(w * 1000 + i) % 290}`, {
          dispatcher: agent,
          headers: { authorization: `Bearer ${token}` },
        });
        o.status = res.statusCode;
        o.connection = String(res.headers.connection ?? '');
        await res.body.text();
      } catch (err) {
        o.error = (err as { code?: string }).code ?? String(err);
        return; // the listener is gone: this client would go to another replica now
      }
    }
  };
  const workers = Array.from({ length: 12 }, (_, w) => worker(w));
  await new Promise((r) => setTimeout(r, 300));

  const closeAt = performance.now();
  const closing = stack.gateway.close();
  // During the drain delay: not ready, but still serving.
  const ready = await request(`${stack.gateway.url}/readyz`, { dispatcher: agent });
  expect(ready.statusCode).toBe(503);
  await ready.body.text();
  await closing;
  stop = true;
  await Promise.all(workers);
  await agent.close();

  const completed = outcomes.filter((o) => o.status !== undefined);
  const failed = outcomes.filter((o) => o.error !== undefined);
  const duringDrain = completed.filter((o) => o.sentAt > closeAt);
  // The figures, for the closing note and the next person.
  console.log(`shutdown under load: ${completed.length} completed, ${duringDrain.length} of them sent while draining, ${failed.length} refused after the listener closed (${[...new Set(failed.map((f) => f.error))].join(', ')})`);
  expect(completed.length).toBeGreaterThan(20);
  expect(completed.every((o) => o.status === 200)).toBe(true);
  expect(duringDrain.length).toBeGreaterThan(0);
  // Answers sent while draining tell keep-alive clients to reconnect (elsewhere).
  expect(duringDrain.some((o) => o.connection === 'close')).toBe(true);
  // Every request the gateway accepted (its access line) was answered 200 to the client.
  const accepted = stack.logs.filter((l) => l.includes('"msg":"request"') && l.includes('"route":"v1p1 GET /users"'));
  expect(accepted.length).toBe(completed.length);
  expect(accepted.every((l) => l.includes('"status":200'))).toBe(true);
  // A failure is a connection refused by the closed listener, or a keep-alive socket closed
  // while idle just as the client reused it: either way the gateway never saw that request
  // (clients and load balancers retry those).
  for (const f of failed) expect(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET']).toContain(f.error);
  expect(failed.length).toBeLessThanOrEqual(12);
  expect(stack.logs.some((l) => l.includes('"msg":"draining"'))).toBe(true);
  expect(stack.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
});
