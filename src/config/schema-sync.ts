// sync: the background work of a replica as a whole (delta polls, cache.deltaSync; mirror
// pulls, mirror), whatever the district.
import { z } from 'zod';
import { int } from './fields.js';

export const syncSchema = z.strictObject({
  // Background upstream requests (delta polls, mirror pulls) in flight at once from this
  // replica, across every district; client requests never wait behind them.
  maxBackgroundConcurrency: int(1, 1_000).default(8),
});
