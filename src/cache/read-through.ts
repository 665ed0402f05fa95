// A read-through over the tiered cache, in the shape of unkey's swr.ts: fresh hits,
// stale-while-revalidate with one background load, stale-if-error, and one load per key and
// generation however many callers want it at once (in this process through a shared promise,
// across replicas through a lease). It knows nothing of what it caches: the caller passes the
// key, the tags, a loader and how to tell an outage from a real answer.
import type { CacheEntry, CachedResponse, CacheTier, LeaseStore, TieredCache } from './types.js';

/** Time and waiting, injectable so tests drive them by hand. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Calls `tick` every `ms` until the returned function is called; never keeps the process alive. */
  every(ms: number, tick: () => void): () => void;
}

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  every(ms: number, tick: () => void) {
    const timer = setInterval(tick, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
});

/** What the read-through did, for metrics. */
export interface ReadThroughEvents {
  /** tier: where the answer came from (`none`: nowhere, loaded); coalesced: waited for another load. */
  lookup(tier: CacheTier | 'none', result: 'hit' | 'miss' | 'stale' | 'coalesced'): void;
  staleServed(scope: string, reason: 'refreshing' | 'upstream_failed'): void;
}

/** What a loader hands back. */
export interface Loaded<M> {
  response: CachedResponse;
  /** How long it stays fresh, then stale, from when it was loaded; absent: handed back, not stored. */
  ttl?: { freshMs: number; staleMs: number };
  /** Anything the caller wants back with the answer (what the load cost); shared by callers that joined it. */
  meta?: M;
}

export interface ReadRequest<M> {
  /** Partitions generations (a tenant). */
  scope: string;
  key: string;
  /** The generation tags the answer depends on. */
  tags: readonly string[];
  /** Asked at most once per key and generation at a time, in this process and (leases) across replicas. */
  load(): Promise<Loaded<M>>;
  /** Whether an error of `load` is an outage, when a stale entry beats the error. Default: never. */
  isOutage?(err: unknown): boolean;
  /** Skip the lookup: load (or join a load) and answer with that. */
  bypass?: boolean;
  /**
   * A stale entry is refreshed before answering, not served while it refreshes (a part of a
   * larger answer that is itself being refreshed); it still answers when the load is an outage.
   */
  waitForRefresh?: boolean;
  /**
   * Called once, when it is known whether the answer comes from the cache (`hit`, stale
   * included) or from a load (`miss`), before anything is loaded; it throws to refuse.
   */
  admit?(kind: 'hit' | 'miss'): Promise<void>;
}

export interface ReadResult<M> {
  entry: CacheEntry;
  /** `miss`: loaded, joined a load, or found another replica's entry while waiting for it. */
  status: 'hit' | 'stale' | 'miss' | 'bypass';
  /** The loader's `meta`, when the answer came from a load this caller made or joined. */
  meta?: M;
}

export interface ReadThroughOptions {
  cache: TieredCache;
  leases: LeaseStore;
  /** How long to wait for another replica's load of the same key before loading anyway. */
  coalesceWaitMs: number;
  /**
   * How long a replica's claim on a key outlives the replica: the holder renews it every
   * third of this while it loads, so a replica that dies mid-load holds the others up
   * this long, not `coalesceWaitMs`. Default 3000.
   */
  leaseTtlMs?: number;
  clock?: Clock;
  events?: ReadThroughEvents;
  /** A background refresh failed (nobody is waiting for it to report the error). */
  onRefreshError?(scope: string, err: unknown): void;
  /** A background refresh succeeded (its scope's failures, if any, are over). */
  onRefreshOk?(scope: string): void;
}

export interface ReadThrough<M> {
  /** Synchronously, a fresh copy this process can vouch for without a round trip, else undefined. */
  fresh(scope: string, key: string): CacheEntry | undefined;
  read(req: ReadRequest<M>): Promise<ReadResult<M>>;
}

type Got<M> = { entry: CacheEntry; meta?: M };

// Polling for another replica's entry: doubling from the first wait up to the last.
const FIRST_WAIT_MS = 20;
const LONGEST_WAIT_MS = 200;

export function createReadThrough<M = undefined>(options: ReadThroughOptions): ReadThrough<M> {
  const { cache, leases, coalesceWaitMs } = options;
  const leaseTtlMs = options.leaseTtlMs ?? 3_000;
  if (!Number.isInteger(leaseTtlMs) || leaseTtlMs < 3) throw new RangeError(`leaseTtlMs must be an integer >= 3, got ${leaseTtlMs}`);
  const clock = options.clock ?? systemClock;
  const events: ReadThroughEvents = options.events ?? { lookup() {}, staleServed() {} };
  const onRefreshError = options.onRefreshError ?? (() => {});
  const onRefreshOk = options.onRefreshOk ?? (() => {});
  const flights = new Map<string, Promise<Got<M>>>();

  /** Loads and stores; `generations` were read before the load, so a bump during it leaves the entry invalid. */
  async function loadAndStore(req: ReadRequest<M>, generations: readonly number[]): Promise<Got<M>> {
    const { response, ttl, meta } = await req.load();
    const t = clock.now();
    if (!ttl) return { entry: { ...response, storedAt: t, freshUntil: t, staleUntil: t, tags: [] }, meta };
    const times = { freshUntil: t + ttl.freshMs, staleUntil: t + ttl.freshMs + ttl.staleMs };
    await cache.set(req.scope, req.key, response, times, req.tags, generations);
    const tags = req.tags.map((tag, i): [string, number] => [tag, generations[i] ?? 0]);
    return { entry: { ...response, storedAt: clock.now(), ...times, tags }, meta };
  }

  async function loadHoldingLease(req: ReadRequest<M>, generations: readonly number[], lease: string): Promise<Got<M>> {
    const stopRenewing = clock.every(leaseTtlMs / 3, () => void leases.renew(lease, leaseTtlMs).catch(() => {}));
    try {
      // Another replica may have stored it between our lookup and our lease.
      const again = req.bypass ? undefined : await cache.get(req.scope, req.key);
      if (again?.valid && clock.now() < again.entry.freshUntil) return { entry: again.entry };
      return await loadAndStore(req, generations);
    } finally {
      stopRenewing();
      await leases.release(lease);
    }
  }

  /** The lease holder loads; the others wait (bounded) for its entry, then load themselves. */
  async function loadUnderLease(req: ReadRequest<M>, generations: readonly number[], lease: string): Promise<Got<M>> {
    const deadline = clock.now() + coalesceWaitMs;
    for (let wait = FIRST_WAIT_MS; ; wait = Math.min(wait * 2, LONGEST_WAIT_MS)) {
      if (await leases.acquire(lease, leaseTtlMs)) return loadHoldingLease(req, generations, lease);
      if (clock.now() >= deadline) return loadAndStore(req, generations);
      if (wait === FIRST_WAIT_MS) events.lookup('l2', 'coalesced');
      await clock.sleep(wait);
      const found = await cache.get(req.scope, req.key);
      if (found?.valid && clock.now() < found.entry.freshUntil) return { entry: found.entry };
    }
  }

  /**
   * One load per key and generation in this process; across replicas, one per lease. The
   * generations are read first and are part of the flight and the lease: a request that
   * starts after a bump (a write whose bump has landed) never joins a load that began
   * before it, so it cannot receive the answer from before the write.
   */
  async function loadShared(req: ReadRequest<M>): Promise<Got<M>> {
    const generations = await cache.generations(req.scope, req.tags);
    const generation = generations.join('.');
    const flightKey = `${req.scope}\u0000${req.key}\u0000${generation}`;
    const joined = flights.get(flightKey);
    if (joined) {
      events.lookup('l1', 'coalesced');
      return joined;
    }
    const flight = loadUnderLease(req, generations, `${req.scope}|${generation}|${req.key}`).finally(() => flights.delete(flightKey));
    flights.set(flightKey, flight);
    return flight;
  }

  async function read(req: ReadRequest<M>): Promise<ReadResult<M>> {
    if (req.bypass) {
      await req.admit?.('miss');
      return { ...(await loadShared(req)), status: 'bypass' };
    }
    const found = await cache.get(req.scope, req.key);
    const t = clock.now();
    await req.admit?.(found?.valid && t < found.entry.staleUntil ? 'hit' : 'miss');
    if (found?.valid && t < found.entry.freshUntil) {
      events.lookup(found.tier, 'hit');
      return { entry: found.entry, status: 'hit' };
    }
    if (found?.valid && t < found.entry.staleUntil && !req.waitForRefresh) {
      loadShared(req).then(
        () => onRefreshOk(req.scope),
        (err: unknown) => onRefreshError(req.scope, err),
      );
      events.lookup(found.tier, 'stale');
      events.staleServed(req.scope, 'refreshing');
      return { entry: found.entry, status: 'stale' };
    }
    try {
      // Every read that found nothing counts; those that joined another's load count as coalesced too.
      const got = await loadShared(req);
      events.lookup('none', 'miss');
      return { ...got, status: 'miss' };
    } catch (err) {
      // stale-if-error: an outage answers from any entry still inside its stale window, even
      // one a soft bump invalidated (old data beats no data), never one a hard bump replaced.
      const outage = req.isOutage?.(err) ?? false;
      if (found && t < found.entry.staleUntil && outage && (found.valid || (await cache.usableAsStale(req.scope, found.entry)))) {
        events.lookup(found.tier, 'stale');
        events.staleServed(req.scope, 'upstream_failed');
        return { entry: found.entry, status: 'stale' };
      }
      throw err;
    }
  }

  return {
    fresh(scope, key) {
      const entry = cache.peek(scope, key);
      if (!entry || clock.now() >= entry.freshUntil) return undefined;
      events.lookup('l1', 'hit');
      return entry;
    },
    read,
  };
}
