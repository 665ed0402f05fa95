import type { Version } from '../core/oneroster/endpoints.js';
import type { UpstreamOptions } from '../config/schema.js';
import { withBreaker, type BreakerState } from '../upstream/breaker.js';
import { withRetry } from '../upstream/retry.js';
import type { UpstreamClient } from '../upstream/types.js';
import { withHealth, type DistrictHealth } from './health.js';
import { withVersionProbe, type VersionProbe } from './version-probe.js';

/** A district as the request path sees it: what it speaks and how to reach it. */
export interface District {
  readonly id: string;
  readonly name: string;
  /**
   * What the district speaks. With `version: auto` it is the probed answer, meaningful
   * once `versionProbe.settle()` has resolved (the cached proxy and delta sync settle first).
   */
  readonly version: Version;
  /** As configured: a version, or `auto`. */
  readonly versionSetting: Version | 'auto';
  readonly versionProbe?: VersionProbe;
  readonly authType: 'oauth1' | 'oauth2' | 'bearer';
  /** Where the district came from: the config file, or ClassLink discovery. */
  readonly source: 'config' | 'classlink';
  /** The upstream OneRoster root; internal only, never shown to clients. */
  readonly upstreamBase: string;
  /** Bound on upstream pages fetched to fill one client page. */
  readonly maxStitchPages: number;
  readonly upstream: UpstreamClient;
  /** Last upstream success and failure, for GET /districts. */
  readonly health?: () => DistrictHealth;
  /** The district's circuit breaker, for GET /districts; absent when built without upstream options. */
  readonly breaker?: () => BreakerState;
  /** Replaced while serving: its requests finish, then its client closes (else `upstream.close()`). */
  readonly retire?: () => Promise<void>;
}

// The seam for live district sources (ClassLink discovery, config reload): callers only
// look districts up; who adds and removes them is behind this interface.
export interface DistrictRegistry {
  get(id: string): District | undefined;
  list(): District[];
  close(): Promise<void>;
}

export interface MutableDistrictRegistry extends DistrictRegistry {
  /**
   * Makes `districts` the whole set from `source`: new ones appear, changed ones are
   * replaced, missing ones go. Returns the districts that went (their clients are retired
   * here: closed once their in-flight requests finish; the caller drops their cache).
   */
  replaceSource(source: District['source'], districts: readonly District[]): District[];
}

/** The districts requests can reach; config districts and discovered ones side by side. */
export function createDistrictRegistry(initial: readonly District[] = []): MutableDistrictRegistry {
  const byId = new Map(initial.map((d) => [d.id, d]));
  // Requests already routed to a replaced district finish on its old client.
  const retire = (d: District) => void (d.retire ? d.retire() : d.upstream.close()).catch(() => undefined);
  return {
    get: (id) => byId.get(id),
    list: () => [...byId.values()],
    replaceSource(source, districts) {
      const next = new Map(districts.map((d) => [d.id, d]));
      const removed: District[] = [];
      for (const [id, d] of byId) {
        if (d.source !== source) continue;
        const replacement = next.get(id);
        if (replacement === d) continue;
        byId.delete(id);
        if (!replacement) removed.push(d);
        retire(d);
      }
      for (const [id, d] of next) {
        const existing = byId.get(id);
        // A config district keeps its id: discovery never shadows what an operator wrote.
        if (existing && existing.source !== source) continue;
        byId.set(id, d);
      }
      return removed;
    },
    async close() {
      await Promise.allSettled([...byId.values()].map((d) => d.upstream.close()));
    },
  };
}

export type DistrictFields = Pick<District, 'id' | 'name' | 'authType' | 'source' | 'upstreamBase' | 'maxStitchPages'>;

/**
 * A district around its upstream client, composed in the order a request takes from the
 * outside in: version probe -> breaker -> health -> retry -> client. Health sits inside the
 * breaker so GET /districts shows the failures that opened it, not the refusals that follow;
 * retry sits inside health and breaker so a request counts once, however many attempts it took.
 * For `version: auto` the version is asked of the district (provisionally v1p2 until then).
 */
export function assembleDistrict(
  fields: DistrictFields,
  versionSetting: Version | 'auto',
  client: UpstreamClient,
  deps: {
    logger: { info(o: object): void; warn(o: object): void };
    now?: () => number;
    extraHealth?: () => Partial<DistrictHealth>;
    /** How the client closes gracefully when the district is replaced. */
    retire?: () => Promise<void>;
    /** The district's upstream options (retry, breaker); without them neither is applied. */
    upstream?: UpstreamOptions;
  },
): District {
  const clock = deps.now ? { now: deps.now } : {};
  // Retry sleeps in real time, so it keeps the real clock: `deps.now` may be a test's frozen one.
  const retried = deps.upstream ? withRetry(client, deps.upstream.retry) : client;
  const watched = withHealth(retried, deps.now);
  const breaker = deps.upstream ? withBreaker(watched.client, deps.upstream.breaker, { logger: deps.logger, ...clock }) : undefined;
  const guarded = breaker?.client ?? watched.client;
  const health = deps.extraHealth ? () => ({ ...watched.health(), ...deps.extraHealth!() }) : watched.health;
  const extras = { ...(deps.retire && { retire: deps.retire }), ...(breaker && { breaker: breaker.state }) };
  if (versionSetting !== 'auto') return { ...fields, version: versionSetting, versionSetting, upstream: guarded, health, ...extras };
  const probed = withVersionProbe(guarded, { logger: deps.logger, ...clock });
  const probe = probed.probe;
  return {
    ...fields,
    get version() {
      return probe.current() ?? 'v1p2';
    },
    versionSetting,
    versionProbe: probe,
    upstream: probed.client,
    health,
    ...extras,
  };
}

/** A fixed set (tests and tools). */
export function createStaticDistrictRegistry(districts: readonly District[]): DistrictRegistry {
  return createDistrictRegistry(districts);
}
