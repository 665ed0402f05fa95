// Options of createCacheBackend, validated once at start-up so a typo fails loudly there
// rather than as a slow leak or a silent miss in production.

/** pino-like: one object per line. */
export interface CacheLogger {
  warn(obj: object): void;
  info(obj: object): void;
  error(obj: object): void;
}

export interface CacheBackendOptions {
  /** 'memory' or a redis:// / rediss:// URL. */
  store: string;
  /** L1 bound in bytes. */
  maxMemoryBytes: number;
  /** Default 10_000: the longest an L1 copy is trusted without re-reading L2 (safety net for lost pub/sub messages). */
  l1MaxAgeMs?: number;
  /** Default 'orgw:'; tests use a unique prefix per run. */
  keyPrefix?: string;
  logger?: CacheLogger;
  /** Clock (ms) for entry times. */
  now?: () => number;
  /** Default 500: a Redis command that takes longer counts as a store failure (the request goes on without the cache). */
  commandTimeoutMs?: number;
}

export interface ResolvedCacheOptions {
  kind: 'memory' | 'redis';
  /** Only for the client; never logged (it may hold a password). */
  url: string | undefined;
  maxMemoryBytes: number;
  l1MaxAgeMs: number;
  keyPrefix: string;
  logger: CacheLogger;
  now: () => number;
  commandTimeoutMs: number;
}

/** A bad option: `option` names it; the message never repeats a store URL. */
export class CacheOptionError extends TypeError {
  readonly code = 'cache_option_invalid';
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`createCacheBackend: option "${option}" ${detail}`);
    this.name = 'CacheOptionError';
  }
}

const silent: CacheLogger = { warn() {}, info() {}, error() {} };

function integer(name: string, value: unknown, min: number, unit: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new CacheOptionError(name, `must be an integer >= ${min} (${unit}), got ${String(value)}`);
  }
  return value;
}

function storeKind(store: unknown): 'memory' | 'redis' {
  if (store === 'memory') return 'memory';
  if (typeof store !== 'string') throw new CacheOptionError('store', `must be 'memory' or a redis:// URL, got ${typeof store}`);
  let url: URL;
  try {
    url = new URL(store);
  } catch {
    throw new CacheOptionError('store', "must be 'memory' or a redis:// or rediss:// URL (it is not a URL)");
  }
  // Only the scheme is echoed: the rest may hold a password.
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new CacheOptionError('store', `must be 'memory' or a redis:// or rediss:// URL, got scheme '${url.protocol}'`);
  }
  if (!url.hostname) throw new CacheOptionError('store', 'has no host');
  return 'redis';
}

export function resolveCacheOptions(options: CacheBackendOptions): Readonly<ResolvedCacheOptions> {
  if (!options || typeof options !== 'object') throw new CacheOptionError('options', 'must be an object');
  const kind = storeKind(options.store);
  const keyPrefix = options.keyPrefix ?? 'orgw:';
  // Empty or spaced prefixes make keys collide with other tenants of the Redis or break redis-cli use.
  if (typeof keyPrefix !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(keyPrefix)) {
    throw new CacheOptionError('keyPrefix', 'must be 1-64 printable ASCII characters without spaces');
  }
  const logger = options.logger ?? silent;
  if (typeof logger.warn !== 'function' || typeof logger.info !== 'function' || typeof logger.error !== 'function') {
    throw new CacheOptionError('logger', 'must have warn, info and error functions');
  }
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new CacheOptionError('now', 'must be a function returning ms');
  return Object.freeze({
    kind,
    url: kind === 'redis' ? options.store : undefined,
    maxMemoryBytes: integer('maxMemoryBytes', options.maxMemoryBytes, 1, 'bytes'),
    l1MaxAgeMs: integer('l1MaxAgeMs', options.l1MaxAgeMs ?? 10_000, 0, 'ms'),
    keyPrefix,
    logger,
    now,
    commandTimeoutMs: integer('commandTimeoutMs', options.commandTimeoutMs ?? 500, 1, 'ms'),
  });
}
