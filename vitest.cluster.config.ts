import { defineConfig } from 'vitest/config';

// The cluster end-to-end run (`npm run e2e:cluster`): real processes (redis-server, three
// gateways, nginx), so it stays out of `npm test` and brings its own Redis.
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.e2e.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    pool: 'forks',
  },
});
