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

  it('keeps a probe that outlived its bound: later scrapes answer false at once and queue no other SELECT 1', async () => {
    const db = await freshDatabase(url!);
    done.push(() => db.dispose());
    // One connection, held by a read that waits on a lock another session keeps: SELECT 1 hangs behind it.
    const store = await createPostgresMirrorStore({ url: db.url, poolSize: 1 });
    done.push(() => store.close());
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = db.admin().begin(async (tx) => {
      await tx`LOCK TABLE mirror_status IN ACCESS EXCLUSIVE MODE`;
      locked();
      await held;
    });
    await isLocked;
    const blocked = store.readStatus('springfield');
    try {
      expect(await store.ping!(200)).toBe(false);
      // The first SELECT 1 is still pending: no second one, and no second wait of the bound.
      const started = performance.now();
      expect(await store.ping!(5_000)).toBe(false);
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      release();
      await holder;
      await blocked;
    }
    // Once the pending probe has settled, the next scrape probes again.
    await until(async () => ((await store.ping!(1_000)) ? true : undefined), 'postgres up again');
  });
});
