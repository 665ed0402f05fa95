// redis_up and postgres_up come from the stores themselves: the Redis cache backend's
// connection and breaker, and a bounded SELECT 1 on the mirror's PostgreSQL pool. Real servers
// (test/setup), one of each this file can stop.
import { afterAll, describe, expect, it } from 'vitest';
import { createCacheBackend } from '../../src/cache/index.js';
import { createPostgresMirrorStore } from '../../src/mirror/postgres-store.js';
import { canRunOwnRedis, ownRedis, uniquePrefix } from '../cache/redis-env.js';
import { freshDatabase, postgresUrl } from '../mirror/postgres-env.js';
import { until } from '../helpers/until.js';

const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined };

describe.runIf(canRunOwnRedis || process.env.CI === 'true')('redis_up', () => {
  it('is the cache backend connected with its breaker closed: false when Redis dies, true once it is back', async () => {
    const server = await ownRedis();
    const backend = await createCacheBackend({ store: server.url, maxMemoryBytes: 1 << 20, keyPrefix: uniquePrefix('up'), logger: quiet });
    try {
      expect(backend.up?.()).toBe(true);
      await server.stop();
      await until(async () => (backend.up!() === false ? true : undefined), 'redis down');
      await server.start();
      await until(async () => (backend.up!() ? true : undefined), 'redis back');
    } finally {
      await backend.close();
      await server.dispose();
    }
  });

  it('is not offered by the memory store (no gauge rather than a false 0)', async () => {
    const backend = await createCacheBackend({ store: 'memory', maxMemoryBytes: 1 << 20, logger: quiet });
    expect(backend.up).toBeUndefined();
    await backend.close();
  });
});

const url = postgresUrl();
describe.skipIf(!url)('postgres_up', () => {
  const done: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const fn of done.reverse()) await fn();
  });

  it('answers true while the database answers, false within the bound once it cannot', async () => {
    const db = await freshDatabase(url!);
    done.push(() => db.dispose());
    const store = await createPostgresMirrorStore({ url: db.url, poolSize: 2 });
    expect(await store.ping!(1_000)).toBe(true);
    await store.close();
    const started = performance.now();
    expect(await store.ping!(1_000)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_500);
  });
});
