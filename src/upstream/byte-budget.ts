// The bytes of one district's answers being read at once (maxInFlightBytes), counted as
// they arrive, decoded: a few large answers read together cannot fill the heap.

/** The bytes of this district's answers being read at once. */
export interface ByteBudget {
  readonly used: number;
  /** Counts n more bytes, or answers false (and counts nothing) when that would pass the limit. */
  take(n: number): boolean;
  give(n: number): void;
}

export function createByteBudget(limit: number): ByteBudget {
  let used = 0;
  return {
    get used() {
      return used;
    },
    take(n) {
      if (used + n > limit) return false;
      used += n;
      return true;
    },
    give(n) {
      used -= n;
    },
  };
}
