// The cache layer's composition root: validates the options, picks the stores, wires the
// Redis events to the tiered cache. Built once at start-up.
import { createMemoryLeases, createMemoryState, createMemoryTier } from './memory-store.js';
import { resolveCacheOptions, type CacheBackendOptions } from './options.js';
import { openRedis } from './redis-connection.js';
import { createRedisLeases, createRedisState, createRedisTier, redisKeys } from './redis-store.js';
import { createStoreHealth } from './store-health.js';
import { createTieredCache, type ProcessTieredCache, type TieredCacheInternals } from './tiered-cache.js';
import type { CacheBackend } from './types.js';

export type { CacheBackendOptions, CacheLogger } from './options.js';
export { CacheOptionError } from './options.js';
export type { ProcessTieredCache } from './tiered-cache.js';
export type * from './types.js';
export { createReadThrough, systemClock } from './read-through.js';
export type { Clock, Loaded, ReadRequest, ReadResult, ReadThrough, ReadThroughEvents, ReadThroughOptions } from './read-through.js';

/** A CacheBackend whose cache also offers this process's L1 controls. */
export interface ProcessCacheBackend extends CacheBackend {
  readonly cache: ProcessTieredCache;
  /** Redis only: whether the store is connected and its breaker closed (metrics). */
  readonly up?: () => boolean;
}

/**
 * Builds the cache backend. With Redis it resolves even when Redis is unreachable (the
 * gateway serves from L1 and the upstream) and keeps reconnecting in the background.
 */
export async function createCacheBackend(options: CacheBackendOptions): Promise<ProcessCacheBackend> {
  const o = resolveCacheOptions(options);
  // `cache` exists before the store can report anything (events come asynchronously).
  let cache: TieredCacheInternals | undefined;
  const health = createStoreHealth({
    store: o.kind,
    logger: o.logger,
    // Back after an outage: messages may have been lost, and bumps made meanwhile are only local.
    onRecovered: () => {
      cache?.resync();
      cache?.replayPendingBumps().catch(() => undefined);
    },
  });

  if (o.kind === 'memory') {
    const close = async () => {
      health.silence();
      cache?.clearL1();
    };
    cache = createTieredCache({
      tier: createMemoryTier(o.maxMemoryBytes, (id, entry) => cache?.dropL1(id, entry)),
      health,
      maxMemoryBytes: o.maxMemoryBytes,
      l1MaxAgeMs: Infinity,
      now: o.now,
      close,
    });
    return Object.freeze({ kind: 'memory', cache, leases: createMemoryLeases(o.now), state: createMemoryState(o.now), close });
  }

  const connection = openRedis({
    url: o.url!,
    name: `${o.keyPrefix}cache`,
    commandTimeoutMs: o.commandTimeoutMs,
    health,
    channel: redisKeys(o.keyPrefix).channel,
    onMessage: (raw) => cache?.applyMessage(raw),
    onSubscribed: () => cache?.resync(),
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      health.silence();
      await connection.close();
      cache?.clearL1();
    })();
    return closing;
  };
  const stores = { client: connection.client, prefix: o.keyPrefix, health, commandTimeoutMs: o.commandTimeoutMs };
  cache = createTieredCache({
    tier: createRedisTier(stores),
    health,
    maxMemoryBytes: o.maxMemoryBytes,
    l1MaxAgeMs: o.l1MaxAgeMs,
    now: o.now,
    close,
  });
  // When Redis is down this resolves at the first error, which health has already logged.
  await connection.started;
  return Object.freeze({
    kind: 'redis',
    cache,
    leases: createRedisLeases(stores),
    state: createRedisState(stores),
    up: () => connection.client.isReady && !health.down,
    close,
  });
}
