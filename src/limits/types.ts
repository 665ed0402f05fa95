// The rate-limit primitives the upstream client and the HTTP layer build on. Two stores
// behave the same (test/limits/contract.ts): 'memory' (this process) and Redis (every
// replica shares one budget, and falls back to a local one while Redis is away).

export interface Rate {
  /** Refill speed, tokens per second (> 0, may be fractional: 0.5 is one every 2 s). */
  requestsPerSecond: number;
  /** Bucket size: the most spent at once after a quiet spell. Default max(1, ceil(requestsPerSecond)). */
  burst?: number;
}

export interface TakeResult {
  ok: boolean;
  /** 0 when ok; otherwise ms until `cost` tokens will be there (>= 1). */
  retryAfterMs: number;
  /** Tokens left after this take (fractional with fractional costs; floor it for a header). */
  remaining: number;
}

export interface RateLimiter {
  /**
   * Spends `cost` tokens (0 < cost <= burst) of the bucket `key`, or refuses without spending.
   * Cost 0 always succeeds without asking the store (`remaining` is then the burst, an upper bound).
   * Rejects only on invalid arguments (LimitOptionError), never because of the store.
   */
  take(key: string, cost: number, rate: Rate): Promise<TakeResult>;
}

export interface AcquireOptions {
  /** How long to wait for a slot; 0 tries once. */
  timeoutMs: number;
  /** A holder that vanishes (crashed replica) loses its slot after this long; live holders renew it. */
  leaseMs: number;
  /** Aborting stops the wait: acquire rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Frees the slot; calling it again does nothing. */
export type Release = () => void;

export interface Semaphore {
  /** A slot of `key` (at most `limit` holders at once), or undefined when none came free within timeoutMs. */
  acquire(key: string, limit: number, opts: AcquireOptions): Promise<Release | undefined>;
}

/** pino-like: one object per line. */
export interface LimitsLogger {
  warn(obj: object): void;
  info(obj: object): void;
}

export interface LimitsOptions {
  /** 'memory' or a redis:// / rediss:// URL (never logged: it may hold a password). */
  store: string;
  /** Prefix of every Redis key, e.g. 'orgw:'; 1-64 printable ASCII characters without spaces. */
  keyPrefix: string;
  logger: LimitsLogger;
  /** Clock (ms) of the memory buckets, including the local fallback ones. Redis uses its own TIME. */
  now?: () => number;
  /** Default 250: a Redis command slower than this counts as an outage (the local fallback answers). */
  commandTimeoutMs?: number;
}

export interface Limits {
  readonly kind: 'memory' | 'redis';
  readonly rate: RateLimiter;
  readonly semaphore: Semaphore;
  /**
   * Closes the Redis connection and stops renewing leases: slots still held are not released
   * (their work may still run) and expire after their leaseMs. Idempotent.
   */
  close(): Promise<void>;
}
