// mirror: whole-district copies answering rostering reads locally (src/mirror/), and each
// district's own `mirror` setting.
import { z } from 'zod';
import { MIRROR_COLLECTIONS } from '../core/oneroster/collections.js';
import { bool, int } from './fields.js';

const collections = () =>
  z
    .array(z.enum(MIRROR_COLLECTIONS, { error: `must be one of ${MIRROR_COLLECTIONS.join(', ')}` }))
    .min(1, 'at least one collection')
    .refine((list) => new Set(list).size === list.length, { message: 'lists a collection twice' });

export const mirrorSchema = z.strictObject({
  // memory: in this process (each replica pulls its own copy); a postgres:// URL: one copy
  // shared by every replica, pulled by one of them at a time.
  store: z
    .string()
    .trim()
    .default('memory')
    .refine((v) => v === 'memory' || /^postgres(ql)?:\/\/[^\s]+$/.test(v), { message: 'must be "memory" or a postgres:// URL' }),
  // A full reconcile pull at least this often (deltas keep the copy current in between).
  fullRefreshSeconds: int(60).default(86_400),
  // A pull that would drop more than this share of a collection's records is not published.
  shrinkGuardPercent: int(0, 100).default(20),
  collections: collections().default([...MIRROR_COLLECTIONS]),
  // The memory store's bound: the memory every district's copy and pull in progress take
  // together (estimated from their JSON: about 3.2 bytes of heap per byte).
  maxMemoryBytes: int(1_048_576).default(2_147_483_648),
  // Records asked per page of a full pull (a district that clamps it is read at its own size).
  pageSize: int(1, 50_000).default(10_000),
  // Connections to PostgreSQL per replica.
  poolSize: int(1, 100).default(10),
  // A copy stays readable this long after the next one is published: a client following the
  // `snapshot` links of its answers pages one version of the district (410 after).
  snapshotRetentionSeconds: int(0, 7 * 86_400).default(3_600),
  // Observed changes (created, updated, deleted records) are kept this long: the change feed's
  // cursors and the tombstones of dateLastModified> reads reach back this far.
  changeRetentionDays: int(1, 3_650).default(30),
});

/** `mirror: true`, or the district's own overrides of the mirror section (errors name the field inside). */
export const districtMirrorSchema = z.preprocess(
  (v) => (v === undefined || v === false || v === 'false' ? { enabled: false } : v === true || v === 'true' ? { enabled: true } : v),
  z.strictObject(
    {
      enabled: bool().default(true),
      fullRefreshSeconds: int(60).optional(),
      collections: collections().optional(),
    },
    { error: 'must be true, false or { enabled, fullRefreshSeconds, collections }' },
  ),
);
