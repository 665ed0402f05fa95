// Which districts' delta polls are due, decided without timers (the delta sync's tick asks it
// with the clock's reading): each district's first poll at its own offset within the interval
// (src/core/spread.ts), each later one an interval ± jitter after the last was due.
import { firstDelay, MAX_JITTER, nextDelay } from '../core/spread.js';

export interface PollPlanOptions {
  intervalMs: number;
  /** Fraction of the interval a later run may move either way (0..0.5). */
  jitter: number;
  /** In [0, 1); Math.random by default (tests pass a seeded one). */
  random?: () => number;
}

export interface PollPlan {
  /**
   * The ids of `ids` due at `nowMs`; each is then scheduled again. An id seen for the first time
   * is scheduled at its own offset from `nowMs`; an id no longer listed is forgotten.
   */
  due(ids: readonly string[], nowMs: number): string[];
  /** When `id` runs next (ms), if it is planned. */
  nextAt(id: string): number | undefined;
}

export function createPollPlan(options: PollPlanOptions): PollPlan {
  const { intervalMs, jitter } = options;
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) throw new RangeError(`poll plan: intervalMs must be positive, got ${intervalMs}`);
  if (!(jitter >= 0 && jitter <= MAX_JITTER)) throw new RangeError(`poll plan: jitter must be within 0..${MAX_JITTER}, got ${jitter}`);
  const random = options.random ?? Math.random;
  const next = new Map<string, number>();

  return {
    due(ids, nowMs) {
      if (next.size > ids.length || ids.some((id) => !next.has(id))) {
        const listed = new Set(ids);
        for (const id of next.keys()) if (!listed.has(id)) next.delete(id);
      }
      const due: string[] = [];
      for (const id of ids) {
        let at = next.get(id);
        if (at === undefined) next.set(id, (at = nowMs + firstDelay(intervalMs, id)));
        if (nowMs < at) continue;
        due.push(id);
        next.set(id, nowMs + nextDelay(intervalMs, jitter, random));
      }
      return due;
    },
    nextAt: (id) => next.get(id),
  };
}
