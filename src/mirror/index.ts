// The mirror as the composition root builds it: the store the config names (the PostgreSQL
// driver is loaded only when a postgres:// store is configured) and the service keeping each
// mirrored district's copy.
import type { DistrictConfig, GatewayConfig } from '../config/schema.js';
import type { DistrictRegistry } from '../districts/districts.js';
import { createMemoryMirrorStore } from './memory-store.js';
import { createMirrorService, type MirrorService, type MirrorSettings } from './mirror-service.js';
import type { Retention } from './retention.js';
import type { MirrorStore } from './types.js';

export type { MirrorService, MirrorSettings } from './mirror-service.js';
export type { MirrorStatus } from './mirror-status.js';
export type { CopyMeta, MirrorStore } from './types.js';

/** The retention the mirror section sets (copies no longer current, observed changes). */
export function retentionFor(config: Readonly<GatewayConfig['mirror']>): Retention {
  return { snapshotMs: config.snapshotRetentionSeconds * 1000, changeMs: config.changeRetentionDays * 86_400_000 };
}

export async function createMirrorStore(config: Readonly<GatewayConfig['mirror']>, logger: { warn(o: object): void }): Promise<MirrorStore> {
  const retention = retentionFor(config);
  if (config.store === 'memory') return createMemoryMirrorStore({ maxBytes: config.maxMemoryBytes, retention });
  const { createPostgresMirrorStore } = await import('./postgres-store.js');
  return createPostgresMirrorStore({ url: config.store, poolSize: config.poolSize, logger, retention });
}

/** A district's settings: the mirror section with its own overrides; undefined when it is not mirrored. */
export function mirrorSettings(mirror: Readonly<GatewayConfig['mirror']>, district: Readonly<DistrictConfig> | undefined): MirrorSettings | undefined {
  if (!district?.mirror.enabled) return undefined;
  const own = district.mirror as { fullRefreshSeconds?: number; collections?: MirrorSettings['collections'] };
  return { fullRefreshSeconds: own.fullRefreshSeconds ?? mirror.fullRefreshSeconds, collections: own.collections ?? mirror.collections };
}

export interface MirrorOptions {
  store: MirrorStore;
  districts: DistrictRegistry;
  /** The config in force (a reload replaces it). */
  config: () => Readonly<GatewayConfig>;
  logger: { info(o: object): void; warn(o: object): void };
  now?: () => number;
  onPull?: Parameters<typeof createMirrorService>[0]['onPull'];
  onChanges?: Parameters<typeof createMirrorService>[0]['onChanges'];
}

export function createMirror(options: MirrorOptions): MirrorService {
  const { config } = options;
  // Asked on every request: the settings by district, worked out once per config.
  const byConfig = new WeakMap<object, Map<string, MirrorSettings | undefined>>();
  const settings = (id: string): MirrorSettings | undefined => {
    const cfg = config();
    let map = byConfig.get(cfg);
    if (!map) byConfig.set(cfg, (map = new Map(cfg.districts.map((d) => [d.id, mirrorSettings(cfg.mirror, d)]))));
    return map.get(id);
  };
  return createMirrorService({
    store: options.store,
    districts: options.districts,
    settings,
    pageSize: config().mirror.pageSize,
    shrinkGuardPercent: () => config().mirror.shrinkGuardPercent,
    // Fixed at start, as the store's is (gateway-reload.ts lists them as needing a restart).
    retention: retentionFor(config().mirror),
    logger: options.logger,
    ...(options.now ? { now: options.now } : {}),
    ...(options.onPull ? { onPull: options.onPull } : {}),
    ...(options.onChanges ? { onChanges: options.onChanges } : {}),
  });
}
