// Throttling of failed client authentication at /oauth/token (auth.failedAuth): a token bucket
// per client id and per client address holds the failures allowed per window. The buckets are
// the rate limits' (src/limits: in Redis when the cache is, so every replica spends from one
// budget). A bucket cannot be read without spending from it, so whether a key is blocked is
// remembered in this process when one of its failures empties the bucket: the check before
// the secret is compared then costs no store call. Another replica learns of a block at its
// own next failure for that key, so with R replicas a key gets at most R - 1 extra attempts
// per window beyond the configured count.
import { createHash } from 'node:crypto';

/** What the limits' RateLimiter.take answers (src/limits/types.ts). */
export interface ThrottleTake {
  (key: string, cost: number, rate: { requestsPerSecond: number; burst: number }): Promise<{ ok: boolean; retryAfterMs: number; remaining: number }>;
}

export interface FailedAuthThrottleOptions {
  /** Failures allowed per client id, and per client address, within `windowSeconds`. */
  perClient: number;
  perAddress: number;
  windowSeconds: number;
  take: ThrottleTake;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Blocked keys remembered at most; the oldest go first. */
  maxBlocked?: number;
}

export interface ThrottleKeys {
  /** The client id the attempt would authenticate as, as sent; undefined when none was sent. */
  clientId: string | undefined;
  /** The client's address; undefined when unknown (an in-memory request). */
  address: string | undefined;
}

export interface FailedAuthThrottle {
  /** Ms until an attempt for these keys may be checked again; 0 when it may be now. */
  blockedFor(keys: ThrottleKeys): number;
  /**
   * Counts a failed attempt against both keys. Resolves to the ms the keys are now blocked
   * for (0: the next attempt will be checked), and which key ran out.
   */
  failed(keys: ThrottleKeys): Promise<{ blockedMs: number; by: Array<'client' | 'address'> }>;
}

// Float slack of the limits' arithmetic (src/limits/memory-rate.ts).
const EPSILON = 1e-9;

const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

export function createFailedAuthThrottle(options: FailedAuthThrottleOptions): FailedAuthThrottle {
  const { perClient, perAddress, windowSeconds, take } = options ?? ({} as FailedAuthThrottleOptions);
  if (!positiveInt(perClient)) throw new Error('auth.failedAuth.perClient: must be a positive integer');
  if (!positiveInt(perAddress)) throw new Error('auth.failedAuth.perAddress: must be a positive integer');
  if (!positiveInt(windowSeconds)) throw new Error('auth.failedAuth.windowSeconds: must be a positive integer');
  if (typeof take !== 'function') throw new Error('failed-auth throttle: take is required');
  const now = options.now ?? Date.now;
  const maxBlocked = options.maxBlocked ?? 100_000;
  // `burst` failures at once, refilled evenly over the window: N failures per window.
  const rates = {
    client: { requestsPerSecond: perClient / windowSeconds, burst: perClient },
    address: { requestsPerSecond: perAddress / windowSeconds, burst: perAddress },
  };
  const blockedUntil = new Map<string, number>();

  // A client id is whatever the request said: anything long or odd is hashed, so a store key stays short and printable.
  const keyOf = (kind: 'client' | 'address', value: string) =>
    `failed-auth:${kind}:${/^[\x21-\x7e]{1,128}$/.test(value) ? value : `sha256-${createHash('sha256').update(value, 'utf8').digest('base64url')}`}`;

  function remaining(key: string, t: number): number {
    const until = blockedUntil.get(key);
    if (until === undefined) return 0;
    if (until > t) return until - t;
    blockedUntil.delete(key);
    return 0;
  }

  function block(key: string, until: number): void {
    blockedUntil.delete(key); // re-inserted last: the map's order is the eviction order
    if (blockedUntil.size >= maxBlocked) {
      const t = now();
      for (const [k, u] of blockedUntil) if (u <= t) blockedUntil.delete(k);
      while (blockedUntil.size >= maxBlocked) blockedUntil.delete(blockedUntil.keys().next().value!);
    }
    blockedUntil.set(key, until);
  }

  const keysOf = (k: ThrottleKeys) =>
    [
      ['client', k.clientId],
      ['address', k.address],
    ].filter((e): e is ['client' | 'address', string] => typeof e[1] === 'string' && e[1] !== '');

  return {
    blockedFor(k) {
      const t = now();
      let ms = 0;
      for (const [kind, value] of keysOf(k)) ms = Math.max(ms, remaining(keyOf(kind, value), t));
      return ms;
    },

    async failed(k) {
      const kinds = keysOf(k);
      const results = await Promise.all(kinds.map(([kind, value]) => take(keyOf(kind, value), 1, rates[kind])));
      const t = now();
      let blockedMs = 0;
      const by: Array<'client' | 'address'> = [];
      results.forEach((r, i) => {
        const [kind, value] = kinds[i]!;
        // Refused: the bucket was already empty (another replica's failures). Taken to below one
        // failure: this was the last one allowed, so the next attempt must wait for a refill.
        const ms = !r.ok ? r.retryAfterMs : r.remaining + EPSILON < 1 ? Math.ceil(((1 - r.remaining) * 1000) / rates[kind].requestsPerSecond) : 0;
        if (ms <= 0) return;
        block(keyOf(kind, value), t + ms);
        blockedMs = Math.max(blockedMs, ms);
        by.push(kind);
      });
      return { blockedMs, by };
    },
  };
}
