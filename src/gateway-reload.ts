// SIGHUP: a new, already validated config applied to a running gateway without dropping a
// request. Districts (new, changed, removed), clients and cache freshness are swapped; what
// a running gateway cannot swap (its socket, token signing, cache store, admin, discovery,
// sandboxes) is named for a restart.
import type { GatewayConfig } from './config/schema.js';
import type { Logger } from './observability/logger.js';
import type { Services } from './gateway-services.js';

/** The settings a running gateway cannot swap, by the name a warning gives them. */
function fixedPart(cfg: Readonly<GatewayConfig>) {
  return {
    server: cfg.server,
    'auth.tokenSecret': cfg.auth.tokenSecret,
    'auth.tokenTtlSeconds': cfg.auth.tokenTtlSeconds,
    admin: cfg.admin,
    'cache.store': [cfg.cache.store, cfg.cache.keyPrefix, cfg.cache.maxMemoryBytes, cfg.cache.l1MaxAgeSeconds, cfg.cache.coalesceWaitMs],
    'cache.deltaSync': cfg.cache.deltaSync,
    // Every district's chain holds the one cap built at start.
    'sync.maxBackgroundConcurrency': cfg.sync.maxBackgroundConcurrency,
    'mirror.store': [cfg.mirror.store, cfg.mirror.poolSize, cfg.mirror.maxMemoryBytes, cfg.mirror.pageSize, cfg.mirror.snapshotRetentionSeconds, cfg.mirror.changeRetentionDays],
    classlink: cfg.classlink,
    sandboxes: cfg.sandboxes,
  };
}
type Fixed = ReturnType<typeof fixedPart>;

export function createReloader(config: Readonly<GatewayConfig>, services: Services, logger: Logger) {
  const { districts } = services;
  let districtConfigs = new Map(config.districts.map((d) => [d.id, JSON.stringify(d)]));
  let fixed = fixedPart(config);

  // A reload that throws (a district that cannot be built) leaves the running config: a failure.
  return async function reload(next: Readonly<GatewayConfig>): Promise<{ restartNeeded: string[] }> {
    try {
      const result = await apply(next);
      services.metrics?.configReload('success');
      return result;
    } catch (err) {
      services.metrics?.configReload('failure');
      throw err;
    }
  };

  async function apply(next: Readonly<GatewayConfig>): Promise<{ restartNeeded: string[] }> {
    const nextFixed = fixedPart(next);
    const restartNeeded = (Object.keys(nextFixed) as Array<keyof Fixed>).filter((k) => JSON.stringify(nextFixed[k]) !== JSON.stringify(fixed[k]));
    // A config the gateway cannot run (a sandbox:// URL nobody resolved) fails here, before anything is swapped.
    const nextConfigs = new Map(next.districts.map((d) => [d.id, JSON.stringify(d)]));
    // Unchanged districts keep their District (and its upstream client, token, in-flight requests).
    const list = next.districts.map((d) => (districtConfigs.get(d.id) === nextConfigs.get(d.id) ? districts.get(d.id)! : services.buildDistrict(d)));
    services.setClients(next);
    services.setPolicy(next);
    services.setMirrorConfig(next);
    for (const gone of districts.replaceSource('config', list)) await services.cacheAdmin.purgeDistrict(gone.id);
    districtConfigs = nextConfigs;
    fixed = { ...nextFixed, ...Object.fromEntries(restartNeeded.map((k) => [k, fixed[k]])) } as Fixed;
    logger.info({ msg: 'config reloaded', districts: next.districts.length, clients: next.auth.clients.length, restartNeeded });
    return { restartNeeded };
  }
}
