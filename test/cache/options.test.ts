import { describe, expect, it } from 'vitest';
import { CacheOptionError, createCacheBackend, type CacheBackendOptions } from '../../src/cache/index.js';

const base: CacheBackendOptions = { store: 'memory', maxMemoryBytes: 1024 };

describe('createCacheBackend options', () => {
  it.each<[Partial<CacheBackendOptions> | Record<string, unknown>, string]>([
    [{ store: 'postgres://user:pw@host/db' }, 'store'],
    [{ store: 'not a url' }, 'store'],
    [{ store: 42 }, 'store'],
    [{ maxMemoryBytes: 0 }, 'maxMemoryBytes'],
    [{ maxMemoryBytes: 1.5 }, 'maxMemoryBytes'],
    [{ maxMemoryBytes: undefined }, 'maxMemoryBytes'],
    [{ l1MaxAgeMs: -1 }, 'l1MaxAgeMs'],
    [{ keyPrefix: '' }, 'keyPrefix'],
    [{ keyPrefix: 'has space:' }, 'keyPrefix'],
    [{ logger: { warn() {} } }, 'logger'],
    [{ now: 5 }, 'now'],
    [{ commandTimeoutMs: 0 }, 'commandTimeoutMs'],
  ])('rejects %j, naming the option', async (bad, option) => {
    const err = await createCacheBackend({ ...base, ...bad } as CacheBackendOptions).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CacheOptionError);
    expect(err).toMatchObject({ option, code: 'cache_option_invalid' });
    expect((err as Error).message).toContain(`"${option}"`);
  });

  it('never repeats the store URL in its error (it may hold a password)', async () => {
    const err = (await createCacheBackend({ ...base, store: 'http://user:s3cret@host' }).catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain('s3cret');
    expect(err.message).toContain("'http:'");
  });

  it('accepts memory with defaults', async () => {
    const b = await createCacheBackend(base);
    expect(b.kind).toBe('memory');
    await b.close();
  });
});
