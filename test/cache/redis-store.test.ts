import { describe } from 'vitest';
import { createCacheBackend } from '../../src/cache/index.js';
import { redisUrl, uniquePrefix } from './redis-env.js';
import { storeContract } from './store-contract.js';

const url = redisUrl();

describe.runIf(url)('redis', () => {
  // One prefix for the file: two backends from `make` are two replicas of one gateway.
  const keyPrefix = uniquePrefix('contract');
  storeContract('redis', (extra) => createCacheBackend({ store: url!, maxMemoryBytes: 8 * 1024 * 1024, keyPrefix, ...extra }), { shared: true });
});
