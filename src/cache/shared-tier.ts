// What the tiered cache needs from the shared tier (L2). Memory and Redis implement it, so
// the L1/L2 logic is written once and behaves the same in both modes. Every method throws
// on a store error: the tiered cache decides how to fail open.
import type { CacheEntry } from './types.js';

export interface SharedTier {
  getEntry(id: string): Promise<CacheEntry | undefined>;
  setEntry(id: string, entry: CacheEntry, ttlMs: number): Promise<void>;
  /** Deletes and tells the other replicas to drop their L1 copy. */
  deleteEntry(scope: string, id: string): Promise<void>;
  /** Authoritative generations (0 for a tag never bumped). */
  readGenerations(scope: string, tags: readonly string[]): Promise<number[]>;
  /**
   * Adds `increments[i]` to each tag, tells the other replicas, returns the new generations.
   * `hard`: the tags' floors move to the new generations too (see readFloors).
   */
  addGenerations(scope: string, tags: readonly string[], increments: readonly number[], hard?: boolean): Promise<number[]>;
  /**
   * Floors (0 for a tag never hard-bumped): an entry built at a generation below its tag's
   * floor may not be served at all, not even stale when the origin fails.
   */
  readFloors(scope: string, tags: readonly string[]): Promise<number[]>;
}

/** What replicas tell each other on the invalidation channel (JSON). */
export type InvalidationMessage =
  | { s: string; g: Array<[string, number]>; h?: boolean } // generations moved on (h: floors with them)
  | { s: string; d: string }; // entry id deleted

export function parseInvalidation(raw: string): InvalidationMessage | undefined {
  try {
    const m = JSON.parse(raw) as Partial<{ s: unknown; g: unknown; d: unknown }>;
    if (typeof m?.s !== 'string') return undefined;
    if (typeof m.d === 'string') return { s: m.s, d: m.d };
    if (Array.isArray(m.g) && m.g.every((p) => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'number')) {
      const h = (m as { h?: unknown }).h;
      return { s: m.s, g: m.g as Array<[string, number]>, ...(h === true || h === 1 ? { h: true } : {}) };
    }
  } catch {
    // Not ours, or truncated: ignore; the l1MaxAgeMs re-check covers a lost message.
  }
  return undefined;
}

/** A lease or state TTL that is not a positive integer is a caller bug: say so, in both modes. */
export function assertTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new RangeError(`ttlMs must be a positive integer (ms), got ${ttlMs}`);
}
