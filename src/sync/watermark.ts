// The delta-sync cursor of one district collection. `max` is the largest dateLastModified
// seen; polls ask for changes after max minus an overlap (servers differ in timestamp
// precision and commit late), and `seen` remembers the (sourcedId, dateLastModified)
// pairs inside the overlap so a record is not reported as a change twice.

export interface Watermark {
  max: string;
  seen: Array<[sourcedId: string, dateLastModified: string]>;
}

export function parseWatermark(raw: string | undefined): Watermark | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Watermark;
    if (typeof v.max === 'string' && !Number.isNaN(Date.parse(v.max)) && Array.isArray(v.seen)) return v;
  } catch {
    // A corrupt cursor restarts from now, like a first run.
  }
  return undefined;
}

export function serializeWatermark(w: Watermark): string {
  return JSON.stringify(w);
}

const pairOf = (r: Record<string, unknown>): [string, string] | undefined =>
  typeof r.sourcedId === 'string' && typeof r.dateLastModified === 'string' ? [r.sourcedId, r.dateLastModified] : undefined;

/**
 * The records not already reported and the next watermark. A timestamp in the future
 * (a district clock running ahead) never moves the cursor past `nowMs`, or changes made
 * in between would be skipped.
 */
export function advanceWatermark(
  wm: Watermark,
  records: ReadonlyArray<Record<string, unknown>>,
  overlapMs: number,
  nowMs: number = Date.now(),
): { next: Watermark; fresh: Array<Record<string, unknown>> } {
  const seen = new Set(wm.seen.map(([id, d]) => `${id}\u0000${d}`));
  const fresh: Array<Record<string, unknown>> = [];
  let maxMs = Date.parse(wm.max);
  const pairs: Array<[string, string]> = [...wm.seen];
  for (const r of records) {
    const pair = pairOf(r);
    const k = pair ? `${pair[0]}\u0000${pair[1]}` : undefined;
    if (k && seen.has(k)) continue;
    fresh.push(r);
    if (!pair || !k) continue;
    seen.add(k);
    pairs.push(pair);
    const t = Date.parse(pair[1]);
    // Unparseable timestamps (reference §7: they happen) count as changes but never move the cursor.
    if (!Number.isNaN(t)) maxMs = Math.max(maxMs, Math.min(t, nowMs));
  }
  const keepAfter = maxMs - overlapMs;
  return {
    next: { max: new Date(maxMs).toISOString(), seen: pairs.filter(([, d]) => Date.parse(d) > keepAfter) },
    fresh,
  };
}
