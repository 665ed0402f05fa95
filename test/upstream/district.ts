import type { DistrictConfig, UpstreamAuthConfig, UpstreamOptions } from '../../src/config/schema.js';

/** A DistrictConfig as the config loader would hand it over, with small timeouts for tests. */
export function district(baseUrl: string, auth: UpstreamAuthConfig, upstream: Partial<UpstreamOptions> = {}, id = 'test-district'): DistrictConfig {
  return {
    id,
    version: 'v1p1',
    mirror: { enabled: false },
    baseUrl,
    auth,
    upstream: {
      connectTimeoutMs: 500,
      timeoutMs: 1000,
      maxConcurrency: 4,
      maxQueue: 100,
      queueTimeoutMs: 2000,
      maxStitchPages: 10,
      maxBodyBytes: 32 * 1024 * 1024,
      retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 200, maxTotalMs: 2000 },
      breaker: { enabled: true, failureThreshold: 5, openSeconds: 30 },
      ...upstream,
    },
    cache: { collections: {} },
  };
}
