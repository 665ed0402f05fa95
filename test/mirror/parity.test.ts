// The mirror parity suite (parity-suite.ts) on the default store, in memory.
import { paritySuite } from './parity-suite.js';

paritySuite();
