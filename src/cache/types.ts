// The cache layer's seams. It stores opaque, already-serialized responses under opaque
// keys and validates them against opaque generation tags: it knows nothing of OneRoster
// (the service layer computes keys and tags with pure functions in core/).

/** A response as it goes to the client, ready to send without parsing. */
export interface CachedResponse {
  status: number;
  /** Lower-cased names; only what the response needs (content-type, x-total-count, link). */
  headers: Record<string, string>;
  body: Buffer;
  /** A digest of `body` naming it in strong entity tags, computed once when stored. */
  digest?: string;
  /** `body` in other content codings (`gzip`, `br`), compressed once when stored. */
  encoded?: Readonly<Record<string, Buffer>>;
}

export interface CacheEntry extends CachedResponse {
  /** ms epoch when the upstream answered. */
  storedAt: number;
  /** Served as fresh until then (ms epoch). */
  freshUntil: number;
  /** Served as stale (revalidate in background, or on upstream error) until then. */
  staleUntil: number;
  /**
   * The generation of every tag the entry depends on, when it was built. The entry is
   * invalid as soon as any tag's current generation differs.
   */
  tags: Array<[tag: string, generation: number]>;
}

/** Where an answer came from, for X-Cache and metrics. */
export type CacheTier = 'l1' | 'l2';

export interface CacheLookup {
  entry: CacheEntry;
  tier: CacheTier;
  /** False when a tag moved on since the entry was built (usable only as stale-if-error). */
  valid: boolean;
}

/**
 * Two tiers: L1 in-process (lru-cache, bounded in bytes), L2 shared (Keyv: memory or Redis).
 * Reads try L1, then L2 (back-filling L1). Writes go to both. Store failures are logged
 * once and behave as misses: the cache fails open and never causes an error response.
 */
export interface TieredCache {
  /** `scope` partitions generations (the district id). */
  get(scope: string, key: string): Promise<CacheLookup | undefined>;
  /**
   * Synchronously, the L1 copy when this process can vouch for it without a round trip
   * (the same test `get` applies before it asks L2); undefined means "ask `get`".
   */
  peek(scope: string, key: string): CacheEntry | undefined;
  /**
   * Stores the entry; it expires from L2 at staleUntil. `generations` are the tags'
   * generations as read (with `generations()`) BEFORE the upstream fetch began, so a bump
   * that lands during the fetch leaves the entry invalid; when omitted, the current ones.
   */
  set(
    scope: string,
    key: string,
    response: CachedResponse,
    times: { freshUntil: number; staleUntil: number },
    tags: readonly string[],
    generations?: readonly number[],
  ): Promise<void>;
  delete(scope: string, key: string): Promise<void>;
  /** Current generations of tags (authoritative: L2 when shared). */
  generations(scope: string, tags: readonly string[]): Promise<number[]>;
  /**
   * O(1) per tag: increments the generation and tells every replica (pub/sub) to drop stale L1
   * copies. `hard` (a write went through, an operator purged): entries built before may not
   * be served even as stale-if-error; a soft bump (the origin changed) leaves them usable then.
   */
  bump(scope: string, tags: readonly string[], options?: { hard?: boolean }): Promise<void>;
  /**
   * Whether an entry that is no longer valid may still be served when the origin fails: true
   * unless one of its tags was hard-bumped after the entry was built. Asks the shared store;
   * while it is down, this replica's own knowledge decides.
   */
  usableAsStale(scope: string, entry: CacheEntry): Promise<boolean>;
  /** Bytes held in L1 and its entry count (for /districts and metrics). */
  stats(): { l1Bytes: number; l1Entries: number };
  /** The same, for one scope (district). */
  scopeStats(scope: string): { l1Bytes: number; l1Entries: number };
  close(): Promise<void>;
}

/**
 * Cross-replica single flight: `SET key owner NX PX ttl`. Only the holder fetches; the
 * others wait (bounded) for the entry to appear, then fetch themselves.
 */
export interface LeaseStore {
  /** True when this caller now holds the lease. */
  acquire(name: string, ttlMs: number): Promise<boolean>;
  /** Extends a lease this process still holds to `ttlMs` from now; false when it is no longer ours. */
  renew(name: string, ttlMs: number): Promise<boolean>;
  /** Releases only a lease this process holds. */
  release(name: string): Promise<void>;
}

/** Small shared values (delta-sync watermarks, capability flags) that every replica reads. */
export interface SharedState {
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string, ttlMs?: number): Promise<void>;
}

/** Everything the service layer needs from the cache layer, built once at start-up. */
export interface CacheBackend {
  readonly kind: 'memory' | 'redis';
  readonly cache: TieredCache;
  readonly leases: LeaseStore;
  readonly state: SharedState;
  close(): Promise<void>;
}
