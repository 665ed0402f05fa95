import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, entryFootprint, entryId, ownedBuffer } from '../../src/cache/entry-codec.js';
import type { CacheEntry } from '../../src/cache/types.js';

function entry(body: Buffer): CacheEntry {
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-total-count': '2000', link: '<https://gw/x?offset=100>; rel="next"' },
    body,
    storedAt: 1_700_000_000_000,
    freshUntil: 1_700_000_060_000,
    staleUntil: 1_700_000_660_000,
    tags: [['all', 3], ['c:users', 0], ['list:users', 12]],
  };
}

describe('entry codec', () => {
  it('stores a UTF-8 body as itself after one header line: under 300 bytes of overhead, whatever the size', () => {
    for (const size of [10, 10_000, 1024 * 1024]) {
      const body = Buffer.from(JSON.stringify({ users: 'é"\\'.repeat(size / 4) }));
      const text = encodeEntry(entry(body));
      const overhead = Buffer.byteLength(text) - body.byteLength;
      expect(overhead).toBeLessThan(300);
      expect(decodeEntry(text)?.entry.body.equals(body)).toBe(true);
    }
  });

  it('falls back to base64 (4/3 of the size) for bytes that are not UTF-8', () => {
    const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256));
    const text = encodeEntry(entry(body));
    expect(Buffer.byteLength(text)).toBeLessThan(4000 + 300);
    expect(decodeEntry(text)?.entry.body.equals(body)).toBe(true);
  });

  it('round-trips every field and Keyv\'s expiry', () => {
    const e = entry(Buffer.from('[]'));
    expect(decodeEntry(encodeEntry(e, 123))).toEqual({ entry: e, expires: 123 });
    expect(decodeEntry(encodeEntry(e))?.expires).toBeUndefined();
  });

  it('treats a foreign or corrupt value as absent', () => {
    for (const text of ['', 'plain', '{"v":2}\n[]', 'not json\n[]', '{"v":1,"s":200}\n[]', 'null\n']) {
      expect(decodeEntry(text)).toBeUndefined();
    }
  });

  it('gives decoded bodies a memory block of their own (no shared 8 KiB pool slab)', () => {
    const decoded = decodeEntry(encodeEntry(entry(Buffer.from('small'))))!.entry.body;
    expect(decoded.buffer.byteLength).toBe(decoded.byteLength);
    const pooled = Buffer.from('tiny');
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength);
    const owned = ownedBuffer(pooled);
    expect(owned.buffer.byteLength).toBe(4);
    expect(owned.toString()).toBe('tiny');
    const own = Buffer.alloc(10_000);
    expect(ownedBuffer(own)).toBe(own);
    // A page re-rooted where it was read: kept with its spare bytes up to an eighth, counted.
    const block = Buffer.alloc(9_000);
    const grown = block.subarray(0, 8_000);
    expect(ownedBuffer(grown)).toBe(grown);
    expect(entryFootprint(entry(grown), 'k') - entryFootprint(entry(Buffer.alloc(8_000)), 'k')).toBe(1_000);
    const loose = block.subarray(0, 7_999);
    expect(ownedBuffer(loose)).not.toBe(loose);
    expect(ownedBuffer(loose).buffer.byteLength).toBe(7_999);
    expect(ownedBuffer(block.subarray(1, 8_001)).byteOffset).toBe(0);
  });

  it('estimates an L1 item as its body plus what surrounds it', () => {
    const small = entryFootprint(entry(Buffer.alloc(100)), 'd1:/ims/oneroster/rostering/v1p2/users/1?limit=100');
    // Measured with --expose-gc for items like this one: ~945 B of heap + ~200 B external.
    expect(small).toBeGreaterThan(900);
    expect(small).toBeLessThan(1500);
    expect(entryFootprint(entry(Buffer.alloc(1_000_000)), 'k')).toBeGreaterThan(1_000_000);
  });
});

describe('entry ids', () => {
  it('are {scope}:{key}, with ":" and "%" of the scope escaped', () => {
    expect(entryId('d1', 'users?limit=5')).toBe('d1:users?limit=5');
    expect(entryId('a:b', 'c')).not.toBe(entryId('a', 'b:c'));
    expect(entryId('a%3Ab', 'c')).not.toBe(entryId('a:b', 'c'));
  });

  it('hash long keys with sha256', () => {
    const id = entryId('d1', 'x'.repeat(1000));
    expect(id).toMatch(/^d1:#[A-Za-z0-9_-]{43}$/);
    expect(entryId('d1', 'x'.repeat(1001))).not.toBe(id);
  });
});

describe('entry codec: the forms stored with a page', () => {
  it('keeps the digest and the content codings byte for byte through L2, and counts them in the footprint', async () => {
    const { gzipSync, brotliCompressSync } = await import('node:zlib');
    const body = Buffer.from(JSON.stringify({ users: Array.from({ length: 200 }, (_, i) => ({ sourcedId: `u${i}` })) }));
    const e: CacheEntry = { ...entry(body), digest: 'AbC-_0123456789abcdefgh', encoded: { gzip: gzipSync(body), br: brotliCompressSync(body) } };
    const back = decodeEntry(encodeEntry(e))!.entry;
    expect(back.digest).toBe(e.digest);
    expect(Buffer.compare(back.encoded!.gzip!, e.encoded!.gzip!)).toBe(0);
    expect(Buffer.compare(back.encoded!.br!, e.encoded!.br!)).toBe(0);
    expect(back.body.equals(body)).toBe(true);
    // Each its own allocation, not a slice of a shared pool slab.
    expect(back.encoded!.br!.buffer.byteLength).toBe(back.encoded!.br!.byteLength);
    const plain = entryFootprint(entry(body), 'k');
    expect(entryFootprint(e, 'k') - plain).toBeGreaterThanOrEqual(e.encoded!.gzip!.byteLength + e.encoded!.br!.byteLength);
    // An entry stored before (no forms) still decodes, without them.
    const old = decodeEntry(encodeEntry(entry(body)))!.entry;
    expect(old.digest).toBeUndefined();
    expect(old.encoded).toBeUndefined();
  });
});
