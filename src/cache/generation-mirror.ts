// This process's view of the tag generations, so an L1 hit is validated without a Redis
// round trip. It is fed by our own bumps, by other replicas' pub/sub messages and by every
// authoritative read, and it only ever moves forward: a late reply to an earlier read must
// not undo an invalidation that a message already delivered.
import { LRUCache } from 'lru-cache';

export type MirrorVerdict = 'valid' | 'invalid' | 'unknown';

export interface GenerationMirror {
  observe(scope: string, tags: readonly string[], generations: readonly number[]): void;
  /** For a bump the shared store could not take: this replica moves on alone. */
  increment(scope: string, tags: readonly string[]): void;
  current(scope: string, tag: string): number | undefined;
  /** 'unknown' when a tag is not mirrored (forgotten): the caller asks the shared store. */
  check(scope: string, tags: ReadonlyArray<readonly [string, number]>): MirrorVerdict;
}

// Per-record tags (id:users:x) make the tag space as large as a district. A forgotten tag
// only costs one L2 read, so the mirror is bounded (~100 bytes a tag).
const DEFAULT_MAX_TAGS = 100_000;

export function createGenerationMirror(maxTags = DEFAULT_MAX_TAGS): GenerationMirror {
  const gens = new LRUCache<string, number>({ max: maxTags });
  const id = (scope: string, tag: string) => `${scope}\u0000${tag}`;

  return {
    observe(scope, tags, generations) {
      tags.forEach((tag, i) => {
        const next = generations[i];
        if (next === undefined) return;
        const k = id(scope, tag);
        const cur = gens.get(k);
        if (cur === undefined || next > cur) gens.set(k, next);
      });
    },
    increment(scope, tags) {
      for (const tag of tags) {
        const k = id(scope, tag);
        gens.set(k, (gens.get(k) ?? 0) + 1);
      }
    },
    current: (scope, tag) => gens.get(id(scope, tag)),
    check(scope, tags) {
      let verdict: MirrorVerdict = 'valid';
      for (const [tag, generation] of tags) {
        const cur = gens.get(id(scope, tag));
        if (cur === undefined || cur < generation) verdict = 'unknown'; // forgotten, or behind the entry
        else if (cur > generation) return 'invalid';
      }
      return verdict;
    },
  };
}

/** Whether `a` was built on the same tags as `b`, at generations as late or later, one of them later. */
export function builtLater(a: ReadonlyArray<readonly [string, number]>, b: ReadonlyArray<readonly [string, number]>): boolean {
  if (a.length !== b.length) return false;
  let later = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]![0] !== b[i]![0] || a[i]![1] < b[i]![1]) return false;
    if (a[i]![1] > b[i]![1]) later = true;
  }
  return later;
}
