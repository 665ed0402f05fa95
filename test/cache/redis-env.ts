// What the cache tests know about their Redis: the shared one from test/setup/redis.ts, and
// dedicated servers a test may kill and restart without disturbing the others.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { redisServerOnPath, startRedisServer, type RedisServer } from './redis-server.js';

export { freePort } from './redis-server.js';

/** The shared test Redis, or undefined when the run has none (the Redis suites skip). */
export function redisUrl(): string | undefined {
  return inject('redisUrl') || undefined;
}

/** A key prefix of its own for each backend group, so tests and runs never see each other's keys. */
export function uniquePrefix(label = 't'): string {
  return `orgw-test:${label}:${randomUUID().slice(0, 8)}:`;
}

export const canRunOwnRedis: boolean = redisServerOnPath();

/** A redis-server of the test's own, to stop and start (call dispose() when done). */
export function ownRedis(): Promise<RedisServer> {
  return startRedisServer();
}
