import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blocksFor, cutPage, type Block } from '../../src/core/oneroster/blocks.js';

/** Block `i` of a collection of `n` records 0..n-1, as a district with an X-Total-Count (or without) serves it. */
function blockAt(i: number, n: number, size: number, withTotal: boolean): Block {
  const records = Array.from({ length: Math.max(0, Math.min(size, n - i * size)) }, (_, k) => i * size + k);
  const more = (i + 1) * size < n;
  return withTotal ? { index: i, records, more, total: n } : { index: i, records, more };
}

describe('upstream blocks', () => {
  it('names the blocks a page lies in', () => {
    expect(blocksFor(0, 100, 1000)).toEqual({ first: 0, last: 0 });
    expect(blocksFor(950, 100, 1000)).toEqual({ first: 0, last: 1 });
    expect(blocksFor(1000, 1000, 1000)).toEqual({ first: 1, last: 1 });
    expect(blocksFor(0, 5000, 1000)).toEqual({ first: 0, last: 4 });
    expect(() => blocksFor(0, 0, 1000)).toThrow(RangeError);
  });

  it('cuts exactly the records a direct read of limit and offset returns, for any page of any collection', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 320 }), fc.integer({ min: 1, max: 200 }), fc.boolean(), (n, size, offset, limit, withTotal) => {
        const { first, last } = blocksFor(offset, limit, size);
        // As the gateway reads them: the first, then the rest only when it says more follow.
        const blocks = [blockAt(first, n, size, withTotal)];
        for (let i = first + 1; i <= last && blocks.at(-1)!.more; i++) blocks.push(blockAt(i, n, size, withTotal));
        const cut = cutPage(blocks, offset, limit, size);
        const expected = Array.from({ length: Math.max(0, Math.min(limit, n - offset)) }, (_, k) => offset + k);
        expect(cut.records).toEqual(expected);
        expect(cut.more).toBe(offset + expected.length < n && expected.length > 0);
        if (withTotal) expect(cut.total).toBe(n);
      }),
      { numRuns: 3000 },
    );
  });
});
