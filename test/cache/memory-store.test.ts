import { describe, expect, it } from 'vitest';
import { createCacheBackend } from '../../src/cache/index.js';
import { response, storeContract } from './store-contract.js';

storeContract('memory', (extra) => createCacheBackend({ store: 'memory', maxMemoryBytes: 8 * 1024 * 1024, ...extra }), { shared: false });

describe('memory store: one copy of each page', () => {
  const MB = 1024 * 1024;
  const times = () => ({ freshUntil: Date.now() + 60_000, staleUntil: Date.now() + 60_000 });
  const page = (fill: string) => response(Buffer.alloc(300 * 1024, fill));

  it('keeps a page once: L1 and the in-process L2 share its body', async () => {
    const b = await createCacheBackend({ store: 'memory', maxMemoryBytes: MB });
    await b.cache.set('d1', 'a', page('a'), times(), ['all']);
    const inL1 = b.cache.peek('d1', 'a');
    b.cache.clearL1();
    const fromL2 = await b.cache.get('d1', 'a');
    expect(fromL2?.tier).toBe('l2');
    expect(fromL2?.entry.body).toBe(inL1?.body);
    await b.close();
  });

  it('drops the L1 copy of a page the L2 evicts, so the process never holds more than maxMemoryBytes of pages', async () => {
    const b = await createCacheBackend({ store: 'memory', maxMemoryBytes: MB });
    await b.cache.set('d1', 'a', page('a'), times(), ['all']);
    for (const k of ['b', 'c']) {
      await b.cache.set('d1', k, page(k), times(), ['all']);
      // Reading `a` keeps it recent in L1 (an L1 hit never touches L2): L1 alone would keep it.
      expect(b.cache.peek('d1', 'a')).toBeDefined();
    }
    await b.cache.set('d1', 'd', page('d'), times(), ['all']); // 4 x 300 KB > 1 MiB: L2 lets `a` go
    expect(b.cache.peek('d1', 'a')).toBeUndefined();
    expect(await b.cache.get('d1', 'a')).toBeUndefined();
    expect(b.cache.stats().l1Bytes).toBeLessThanOrEqual(MB);
    expect(b.cache.peek('d1', 'd')?.body[0]).toBe('d'.charCodeAt(0));
    await b.close();
  });
});
