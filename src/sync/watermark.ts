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

/** The two fields of a changed record the watermark reads. */
export interface ChangeStamp {
  sourcedId?: unknown;
  dateLastModified?: unknown;
}

const pairOf = (r: ChangeStamp): [string, string] | undefined =>
  typeof r.sourcedId === 'string' && typeof r.dateLastModified === 'string' ? [r.sourcedId, r.dateLastModified] : undefined;

/**
 * The watermark fed one record at a time, so a poll never holds the records themselves:
 * `add` answers whether the record is a change not already reported, and remembers only
 * its (sourcedId, dateLastModified) pair. A timestamp in the future (a district clock
 * running ahead) never moves the cursor past `nowMs`, or changes made in between would be skipped.
 */
export function watermarkCursor(wm: Watermark, overlapMs: number, nowMs: number = Date.now()) {
  const seen = new Set(wm.seen.map(([id, d]) => `${id}\u0000${d}`));
  const pairs: Array<[string, string]> = [...wm.seen];
  let maxMs = Date.parse(wm.max);
  return {
    add(r: ChangeStamp): boolean {
      const pair = pairOf(r);
      if (!pair) return true;
      const k = `${pair[0]}\u0000${pair[1]}`;
      if (seen.has(k)) return false;
      seen.add(k);
      pairs.push(pair);
      const t = Date.parse(pair[1]);
      // Unparseable timestamps (reference §7: they happen) count as changes but never move the cursor.
      if (!Number.isNaN(t)) maxMs = Math.max(maxMs, Math.min(t, nowMs));
      return true;
    },
    /** The cursor after everything added; `atLeastMs` raises it (never past `nowMs`). */
    next(atLeastMs?: number): Watermark {
      const max = atLeastMs === undefined ? maxMs : Math.max(maxMs, Math.min(atLeastMs, nowMs));
      const keepAfter = max - overlapMs;
      return { max: new Date(max).toISOString(), seen: pairs.filter(([, d]) => Date.parse(d) > keepAfter) };
    },
  };
}

export type WatermarkCursor = ReturnType<typeof watermarkCursor>;

/** The records not already reported and the next watermark (see `watermarkCursor`). */
export function advanceWatermark<R extends ChangeStamp>(
  wm: Watermark,
  records: readonly R[],
  overlapMs: number,
  nowMs: number = Date.now(),
): { next: Watermark; fresh: R[] } {
  const cursor = watermarkCursor(wm, overlapMs, nowMs);
  const fresh = records.filter((r) => cursor.add(r));
  return { next: cursor.next(), fresh };
}
