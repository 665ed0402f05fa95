// Vitest globalSetup: one Redis for the whole run. REDIS_URL wins (CI starts a service);
// otherwise a throwaway redis-server on a free loopback port, stopped in teardown. Without
// either, the Redis suites skip locally, but fail in CI, where a missing Redis is a bug.
import type { TestProject } from 'vitest/node';
import { redisServerOnPath, startRedisServer } from '../cache/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** '' when no Redis could be had (the Redis suites skip). */
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.REDIS_URL) {
    project.provide('redisUrl', process.env.REDIS_URL);
    return undefined;
  }
  if (!redisServerOnPath()) {
    if (process.env.CI === 'true') throw new Error('CI needs Redis: set REDIS_URL or install redis-server');
    console.warn('Redis suite skipped: no redis-server on PATH and no REDIS_URL');
    project.provide('redisUrl', '');
    return undefined;
  }
  const server = await startRedisServer();
  project.provide('redisUrl', server.url);
  return () => server.dispose();
}
