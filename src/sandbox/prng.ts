// A tiny seeded PRNG so generated data is identical for the same seed on every machine.
// mulberry32: 32-bit state, good enough spread for fake rosters, trivially portable.

export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return function next(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One independent stream per generator section, so adding records to one section
 * (say, gradebook) never shifts the random values another section (users) sees.
 */
export function streamFor(seed: number, section: string): Rng {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < section.length; i++) h = Math.imul(h ^ section.charCodeAt(i), 16777619);
  return mulberry32(h >>> 0);
}

export function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from empty list');
  return item;
}

/** k distinct items (or all of them when k >= length), in a random order. */
export function sample<T>(rng: Rng, items: readonly T[], k: number): T[] {
  const copy = items.slice();
  const n = Math.min(k, copy.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rng() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
}

export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
