// The mirror store contract against the in-process store.
import { createMemoryMirrorStore } from '../../src/mirror/memory-store.js';
import { storeContract } from './store-contract.js';

storeContract('memory', async (o) => createMemoryMirrorStore(o));
