// When background work runs: spread over its interval, so that many districts configured at
// once do not all poll at start-up (a thundering herd at every SIS behind a shared network,
// and at this replica), and do not drift back into step afterwards. Pure: the caller hands in
// the clock's reading and, for later runs, its random source.

/** Largest jitter fraction: beyond half the interval a run could follow the last at once. */
export const MAX_JITTER = 0.5;

/**
 * A number in [0, 1) from `key` (FNV-1a, 32 bits), the same in every process: a district keeps
 * its phase across restarts and replicas, and consecutive ids land far apart.
 */
export function unitHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // A final avalanche: FNV's low bits alone move little between "d-1" and "d-2".
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return (h >>> 0) / 2 ** 32;
}

function checkInterval(intervalMs: number): void {
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) throw new RangeError(`spread: intervalMs must be a positive number, got ${intervalMs}`);
}

/** Delay before the first run of `key`: its own stable offset within [0, intervalMs). */
export function firstDelay(intervalMs: number, key: string): number {
  checkInterval(intervalMs);
  return Math.floor(unitHash(key) * intervalMs);
}

/**
 * Delay before the next run: intervalMs ± jitter × intervalMs, drawn from `random` (in [0, 1)).
 * Runs that started together draw apart a little at every run instead of staying in step.
 */
export function nextDelay(intervalMs: number, jitter: number, random: () => number): number {
  checkInterval(intervalMs);
  if (!(jitter >= 0 && jitter <= MAX_JITTER)) throw new RangeError(`spread: jitter must be within 0..${MAX_JITTER}, got ${jitter}`);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(intervalMs * (1 + jitter * (2 * r - 1)));
}

/**
 * Where a periodic run is due, stable for as long as `after` is: `after` + intervalMs ± jitter,
 * the draw taken from `key` and `after` (a service that re-checks every few seconds gets the same
 * answer each time, and the next run of the same district draws again).
 */
export function dueAfter(after: number, intervalMs: number, jitter: number, key: string): number {
  return after + nextDelay(intervalMs, jitter, () => unitHash(`${key}|${after}`));
}
