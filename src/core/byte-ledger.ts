// Bytes a district's answers hold in memory at once, counted against a bound: the transport
// counts an answer while it arrives, and this ledger from then until the client's answer is
// built from it (a page stitched from several answers holds them all meanwhile). One
// district's large answers are refused with "busy" rather than filling the memory every
// district shares.

export interface ByteLedger {
  /** Counts `bytes` when they fit under the bound (a first taker always fits); false otherwise. */
  take(bytes: number): boolean;
  release(bytes: number): void;
  readonly held: number;
  readonly limit: number;
}

export function createByteLedger(limit: number): ByteLedger {
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new RangeError(`byte ledger: limit must be a positive integer, got ${limit}`);
  let held = 0;
  return {
    take(bytes) {
      // Alone, an answer the transport already let through (at most maxBodyBytes) is kept.
      if (held > 0 && held + bytes > limit) return false;
      held += bytes;
      return true;
    },
    release(bytes) {
      held = Math.max(0, held - bytes);
    },
    get held() {
      return held;
    },
    limit,
  };
}
