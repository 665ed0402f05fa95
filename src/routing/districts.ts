import type { Version } from '../core/oneroster/endpoints.js';
import type { UpstreamClient } from '../upstream/types.js';
import type { DistrictHealth } from './health.js';

/** A district as the request path sees it: what it speaks and how to reach it. */
export interface District {
  readonly id: string;
  readonly name: string;
  readonly version: Version;
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
   * replaced, missing ones go. Returns the districts that went (their clients are closed
   * here once in-flight requests finish; the caller drops their cache).
   */
  replaceSource(source: District['source'], districts: readonly District[]): District[];
}

/** The districts requests can reach; config districts and discovered ones side by side. */
export function createDistrictRegistry(initial: readonly District[] = []): MutableDistrictRegistry {
  const byId = new Map(initial.map((d) => [d.id, d]));
  const retire = (d: District) => void d.upstream.close().catch(() => undefined);
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

/** A fixed set (tests and tools). */
export function createStaticDistrictRegistry(districts: readonly District[]): DistrictRegistry {
  return createDistrictRegistry(districts);
}
