// cache: the page cache, its store and freshness, and delta sync.
import { z } from 'zod';
import { BASE_COLLECTIONS } from '../core/oneroster/collections.js';
import { bool, int } from './fields.js';

const freshnessSchema = z.strictObject({
  ttlSeconds: int(0).optional(),
  staleSeconds: int(0).optional(),
});
export const collectionOverrides = () =>
  z
    .record(z.string(), freshnessSchema)
    .superRefine((rec, ctx) => {
      for (const k of Object.keys(rec)) {
        if (!(BASE_COLLECTIONS as readonly string[]).includes(k)) {
          ctx.addIssue({ code: 'custom', path: [k], message: `unknown collection; expected one of ${BASE_COLLECTIONS.join(', ')}` });
        }
      }
    })
    .default({});

// 0 (off), or enough records that one client page (limit up to 10,000) needs few blocks.
export const blockSize = () => int(0, 10_000).refine((n) => n === 0 || n >= 10, { message: 'must be 0 (off) or at least 10' });

export const cacheSchema = z.strictObject({
  store: z
    .string()
    .default('memory')
    .refine((v) => v === 'memory' || /^rediss?:\/\/[^\s]+$/.test(v), { message: 'must be "memory" or a redis:// URL' }),
  // Prefix of every Redis key, so several deployments can share one Redis.
  keyPrefix: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 : _ . -').default('orgw:'),
  ttlSeconds: int(0).default(300),
  staleSeconds: int(0).default(86_400),
  maxMemoryBytes: int(1_048_576).default(268_435_456),
  // A single object the district says does not exist is remembered this long (negative caching).
  negativeTtlSeconds: int(0).default(30),
  // Longest an in-process copy lives without re-checking the shared store: the safety net
  // for an invalidation message lost on the way to this replica.
  l1MaxAgeSeconds: int(1).default(10),
  // How long a replica waits for another replica's fetch of the same page before fetching itself.
  coalesceWaitMs: int(0, 600_000).default(10_000),
  collections: collectionOverrides(),
  // Collection pages are read from the district in blocks of this many records (aligned), and
  // every client page, whatever its limit and offset, is cut from them: apps paging one
  // collection with different limits cost the district one pull. 0: pages are fetched as asked.
  blockSize: blockSize().default(1000),
  // Blocks fetched in the background ahead of a client that pages sequentially (0: none). With
  // the default upstream.maxConcurrency (4): three ahead and the reader's own.
  readAhead: int(0, 16).default(3),
  deltaSync: z
    .strictObject({
      enabled: bool().default(true),
      intervalSeconds: int(5).default(300),
      // Watermark overlap: servers compare timestamps with different precision and boundaries.
      overlapSeconds: int(0).default(120),
      pageSize: int(1, 10_000).default(1000),
    })
    .prefault({}),
});
