import { createCacheBackend } from '../../src/cache/index.js';
import { storeContract } from './store-contract.js';

storeContract('memory', (extra) => createCacheBackend({ store: 'memory', maxMemoryBytes: 8 * 1024 * 1024, ...extra }), { shared: false });
