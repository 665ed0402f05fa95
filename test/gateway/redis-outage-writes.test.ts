import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRunOwnRedis, ownRedis, uniquePrefix } from '../cache/redis-env.js';
import type { RedisServer } from '../cache/redis-server.js';
import { gatewayFor, startGradebookDistrict, type GatewayOn, type GradebookDistrict } from '../helpers/gradebook-district.js';

// Two replicas share a Redis of the test's own. While it is down, a write through replica A
// cannot reach replica B (no shared generations, no pub/sub): B must stop trusting its
// in-process copy after l1MaxAgeSeconds and ask the district again, never serve it as HIT.
describe.runIf(canRunOwnRedis || process.env.CI === 'true')('a write during a Redis outage', () => {
  let redis: RedisServer;
  let district: GradebookDistrict;
  const replicas: GatewayOn[] = [];
  const tokens: string[] = [];

  beforeAll(async () => {
    redis = await ownRedis();
    district = await startGradebookDistrict();
    const keyPrefix = uniquePrefix('rw-outage');
    for (let i = 0; i < 2; i++) {
      replicas.push(
        await gatewayFor([{ id: 'gb', district, auth: 'bearer' }], {
          cache: { store: redis.url, keyPrefix, ttlSeconds: 600, l1MaxAgeSeconds: 1 },
          server: { publicUrl: 'https://gw.example.org' },
        }),
      );
    }
    for (const r of replicas) tokens.push(await r.token());
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await district?.close();
    await redis?.dispose();
  });

  const on = (i: number) => ({
    get: async (path: string) => {
      const res = await fetch(`${replicas[i]!.gateway.url}/districts/gb/ims/oneroster/v1p1${path}`, { headers: { authorization: `Bearer ${tokens[i]}` } });
      return { cache: res.headers.get('x-cache'), body: (await res.json()) as { lineItem: { title: string } } };
    },
    put: (path: string, title: string) =>
      fetch(`${replicas[i]!.gateway.url}/districts/gb/ims/oneroster/v1p1${path}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${tokens[i]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ lineItem: { title, class: { sourcedId: 'cls-1', type: 'class' } } }),
      }),
  });

  it('is not hidden on the other replica past l1MaxAgeSeconds', async () => {
    const [a, b] = [on(0), on(1)];
    expect((await b.get('/lineItems/li-3')).cache).toBe('MISS');
    expect((await b.get('/lineItems/li-3')).cache).toBe('HIT');
    expect((await a.get('/lineItems/li-3')).cache).toBe('HIT'); // from Redis, shared

    await redis.stop();
    const written = await a.put('/lineItems/li-3', 'written during the outage');
    expect([200, 201]).toContain(written.status);
    // A knows at once (its own bump, kept locally).
    expect((await a.get('/lineItems/li-3')).body.lineItem.title).toBe('written during the outage');

    await new Promise((r) => setTimeout(r, 1_300));
    const late = await b.get('/lineItems/li-3');
    expect(late.cache).not.toBe('HIT');
    expect(late.body.lineItem.title).toBe('written during the outage');
    // Refetched, B trusts its new copy again for l1MaxAgeSeconds.
    expect((await b.get('/lineItems/li-3')).cache).toBe('HIT');
    await redis.start();
  });
});
