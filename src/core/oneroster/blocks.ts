// Upstream blocks: a collection read in pages of one size (`blockSize`, aligned), from which a
// client page of any limit and offset is cut. Pure: which blocks a page needs, and the cut.

/** Block `index` covers records [index * size, index * size + records.length). */
export interface Block {
  index: number;
  records: readonly unknown[];
  /** The district's X-Total-Count, when it sent one. */
  total?: number;
  /** The district says records follow this block (a full block whose Link has rel="next", or a total past it). */
  more: boolean;
}

/** The blocks a page of `limit` records from `offset` lies in, first to last. */
export function blocksFor(offset: number, limit: number, size: number): { first: number; last: number } {
  if (!(size > 0) || limit <= 0) throw new RangeError('blocksFor: size and limit must be positive');
  return { first: Math.floor(offset / size), last: Math.floor((offset + limit - 1) / size) };
}

/**
 * The page cut from consecutive blocks (`blocks[0]` the first `blocksFor` named; a block after a
 * short one is not needed and may be absent). `more`: records follow the page.
 */
export function cutPage(blocks: readonly Block[], offset: number, limit: number, size: number): { records: unknown[]; more: boolean; total?: number } {
  const records: unknown[] = [];
  let more = false;
  let total: number | undefined;
  for (const block of blocks) {
    total ??= block.total;
    const start = block.index * size;
    const from = Math.max(0, offset + records.length - start);
    const take = block.records.slice(from, from + (limit - records.length));
    for (const r of take) records.push(r);
    const restInBlock = block.records.length > from + take.length;
    more = restInBlock || block.more;
    // A short block ends the collection; a full page ends the cut.
    if (records.length >= limit || block.records.length < size) break;
  }
  if (total === undefined) return { records, more };
  // The district's total is what its own Link would follow (as stitched pages do).
  return { records, more: records.length > 0 && offset + records.length < total, total };
}
