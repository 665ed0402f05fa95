import type { Version } from '../core/oneroster/endpoints.js';
import type { UpstreamClient } from '../upstream/types.js';

/** A district as the request path sees it: what it speaks and how to reach it. */
export interface District {
  readonly id: string;
  readonly name: string;
  readonly version: Version;
  readonly authType: 'oauth1' | 'oauth2' | 'bearer';
  /** The upstream OneRoster root; internal only, never shown to clients. */
  readonly upstreamBase: string;
  /** Bound on upstream pages fetched to fill one client page. */
  readonly maxStitchPages: number;
  readonly upstream: UpstreamClient;
}

// The seam for live district sources (ClassLink discovery, config reload): callers only
// look districts up; who adds and removes them is behind this interface.
export interface DistrictRegistry {
  get(id: string): District | undefined;
  list(): District[];
  close(): Promise<void>;
}

export function createStaticDistrictRegistry(districts: readonly District[]): DistrictRegistry {
  const byId = new Map(districts.map((d) => [d.id, d]));
  return {
    get: (id) => byId.get(id),
    list: () => [...byId.values()],
    async close() {
      await Promise.allSettled([...byId.values()].map((d) => d.upstream.close()));
    },
  };
}
