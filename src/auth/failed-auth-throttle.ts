// Throttling of failed client authentication at /oauth/token (auth.failedAuth). Client ids are
// not secret, so no limit may hold a client id for everybody: an attacker who knows one could
// then keep the real client out forever by spending one failure each time a block ends. So:
//   - address: `perAddress` failures per window from one address, whatever ids it tried;
//   - client-address: `perClient` failures per window for one client id from one address;
//   - client: a ceiling of `perClient * CEILING_FACTOR` failures per window for one client id
//     across all addresses. Past it, the id is refused only to addresses that failed for it
//     themselves within the window; an address with no recent failure for the id still has its
//     secret checked, so the real client keeps working while a spread-out attacker gets one
//     guess per fresh address per window (plus what the ceiling refills).
// The buckets are the rate limits' (src/limits: in Redis when the cache is, so every replica
// spends from one budget). A bucket cannot be read without spending from it, so whether a key
// is blocked, and when an address last failed for an id, is remembered in this process: the
// check before the secret is compared then costs no store call. Another replica learns of a
// block at its own next failure for that key, so with R replicas a key gets at most R - 1 extra
// attempts per window beyond the configured count.
import { createHash } from 'node:crypto';

/** What the limits' RateLimiter.take answers (src/limits/types.ts). */
export interface ThrottleTake {
  (key: string, cost: number, rate: { requestsPerSecond: number; burst: number }): Promise<{ ok: boolean; retryAfterMs: number; remaining: number }>;
}

export interface FailedAuthThrottleOptions {
  /** Failures allowed per client id from one address, and per address, within `windowSeconds`. */
  perClient: number;
  perAddress: number;
  windowSeconds: number;
  take: ThrottleTake;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Entries each local map (blocks, recent failures) holds at most; the oldest go first. */
  maxBlocked?: number;
}

export interface ThrottleKeys {
  /** The client id the attempt would authenticate as, as sent; undefined when none was sent. */
  clientId: string | undefined;
  /** The client's address; undefined when unknown (an in-memory request). */
  address: string | undefined;
}

/** Which limit ran out: the address's, the client id's from that address, or the id's ceiling. */
export type ThrottleLimit = 'address' | 'client-address' | 'client';

export interface FailedAuthThrottle {
  /** Ms until an attempt for these keys may be checked again; 0 when it may be now. */
  blockedFor(keys: ThrottleKeys): number;
  /**
   * Counts a failed attempt. Resolves to the ms these keys are now blocked for (0: the next
   * attempt will be checked), and which limits ran out.
   */
  failed(keys: ThrottleKeys): Promise<{ blockedMs: number; by: ThrottleLimit[] }>;
}

/**
 * The ceiling per client id is this many times `perClient`. It engages only when one id fails
 * from several addresses: a client's own few hosts failing together after a secret rotation stay
 * under it, while a guesser needs at least this many addresses to reach it. Past it, an address
 * gets one guess for the id per window (that failure makes it a failing address), and the failing
 * addresses share what the ceiling refills (one failure every window / 50 at the defaults).
 */
export const CEILING_FACTOR = 5;

// Float slack of the limits' arithmetic (src/limits/memory-rate.ts).
const EPSILON = 1e-9;

const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

const hashed = (value: string) => `sha256-${createHash('sha256').update(value, 'utf8').digest('base64url')}`;
// A client id is whatever the request said: anything long or odd is hashed, so a store key stays short and printable.
const idPart = (id: string) => (/^[\x21-\x7e]{1,128}$/.test(id) ? id : hashed(id));
// An address is an IP (IPv6 may carry a %zone); never a '|', so it ends the pair key's first part.
const addressPart = (address: string | undefined) => (address === undefined || address === '' ? '-' : /^[0-9A-Za-z.:%_-]{1,64}$/.test(address) ? address : hashed(address));

/** A Map of key -> ms, at most `max` entries, dropping the expired and then the oldest. */
function boundedTimes(max: number) {
  const map = new Map<string, number>();
  return {
    get: (key: string) => map.get(key),
    delete: (key: string) => map.delete(key),
    set(key: string, at: number, expiredBefore: number) {
      map.delete(key); // re-inserted last: the map's order is the eviction order
      if (map.size >= max) {
        for (const [k, v] of map) if (v <= expiredBefore) map.delete(k);
        while (map.size >= max) map.delete(map.keys().next().value!);
      }
      map.set(key, at);
    },
  };
}

export function createFailedAuthThrottle(options: FailedAuthThrottleOptions): FailedAuthThrottle {
  const { perClient, perAddress, windowSeconds, take } = options ?? ({} as FailedAuthThrottleOptions);
  if (!positiveInt(perClient)) throw new Error('auth.failedAuth.perClient: must be a positive integer');
  if (!positiveInt(perAddress)) throw new Error('auth.failedAuth.perAddress: must be a positive integer');
  if (!positiveInt(windowSeconds)) throw new Error('auth.failedAuth.windowSeconds: must be a positive integer');
  if (typeof take !== 'function') throw new Error('failed-auth throttle: take is required');
  const now = options.now ?? Date.now;
  const maxEntries = options.maxBlocked ?? 100_000;
  const windowMs = windowSeconds * 1000;
  // `burst` failures at once, refilled evenly over the window: N failures per window.
  const rateOf = (n: number) => ({ requestsPerSecond: n / windowSeconds, burst: n });
  const rates: Record<ThrottleLimit, { requestsPerSecond: number; burst: number }> = {
    address: rateOf(perAddress),
    'client-address': rateOf(perClient),
    client: rateOf(perClient * CEILING_FACTOR),
  };
  /** Store key -> until when it is blocked. */
  const blockedUntil = boundedTimes(maxEntries);
  /** client-address store key -> when that address last failed for that id. */
  const lastFailure = boundedTimes(maxEntries);

  const storeKeys = (k: ThrottleKeys): Array<[ThrottleLimit, string]> => {
    const out: Array<[ThrottleLimit, string]> = [];
    if (k.address) out.push(['address', `failed-auth:address:${addressPart(k.address)}`]);
    if (typeof k.clientId === 'string' && k.clientId !== '') {
      const id = idPart(k.clientId);
      // An unknown address ('-') is one address: without one, the id's failures are counted together.
      out.push(['client-address', `failed-auth:client-address:${addressPart(k.address)}|${id}`], ['client', `failed-auth:client:${id}`]);
    }
    return out;
  };

  function remaining(key: string, t: number): number {
    const until = blockedUntil.get(key);
    if (until === undefined) return 0;
    if (until > t) return until - t;
    blockedUntil.delete(key);
    return 0;
  }

  /** Ms this address stays one that failed for this id recently; 0 when it is not one. */
  function recentFailure(pairKey: string, t: number): number {
    const at = lastFailure.get(pairKey);
    if (at === undefined) return 0;
    if (at + windowMs > t) return at + windowMs - t;
    lastFailure.delete(pairKey);
    return 0;
  }

  function blockedMs(keys: Array<[ThrottleLimit, string]>, t: number): number {
    let ms = 0;
    let pairKey: string | undefined;
    for (const [kind, key] of keys) {
      if (kind === 'client') {
        // The ceiling holds only addresses that failed for this id themselves: until the
        // ceiling refills one failure, or the address's last failure leaves the window.
        const ceiling = remaining(key, t);
        if (ceiling > 0 && pairKey) ms = Math.max(ms, Math.min(ceiling, recentFailure(pairKey, t)));
      } else {
        if (kind === 'client-address') pairKey = key;
        ms = Math.max(ms, remaining(key, t));
      }
    }
    return ms;
  }

  return {
    blockedFor(k) {
      return blockedMs(storeKeys(k), now());
    },

    async failed(k) {
      const keys = storeKeys(k);
      const results = await Promise.all(keys.map(([kind, key]) => take(key, 1, rates[kind])));
      const t = now();
      const by: ThrottleLimit[] = [];
      results.forEach((r, i) => {
        const [kind, key] = keys[i]!;
        if (kind === 'client-address') lastFailure.set(key, t, t - windowMs);
        // Refused: the bucket was already empty (another replica's failures). Taken to below one
        // failure: this was the last one allowed, so the next attempt must wait for a refill.
        const ms = !r.ok ? r.retryAfterMs : r.remaining + EPSILON < 1 ? Math.ceil(((1 - r.remaining) * 1000) / rates[kind].requestsPerSecond) : 0;
        if (ms <= 0) return;
        blockedUntil.set(key, t + ms, t);
        by.push(kind);
      });
      return { blockedMs: blockedMs(keys, t), by };
    },
  };
}
