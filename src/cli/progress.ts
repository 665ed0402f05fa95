import type { Output } from './io.js';

export interface ProgressState {
  collection: string;
  pages: number;
  records: number;
  total?: number;
}

export interface CollectionOutcome extends ProgressState {
  result: 'warmed' | 'skipped' | 'failed';
  seconds: number;
  upstream: number;
  note?: string;
}

export interface Progress {
  update(state: ProgressState): void;
  end(outcome: CollectionOutcome): void;
}

const BAR = 24;

/** A redrawn bar on a terminal; otherwise lines, at most one a second per collection, for logs. */
export function createProgress(out: Output, label: string, now: () => number): Progress {
  return out.isTTY ? barProgress(out, label) : lineProgress(out, label, now);
}

function counts(s: ProgressState): string {
  return `${s.pages} page${s.pages === 1 ? '' : 's'}, ${s.records}${s.total !== undefined ? `/${s.total}` : ''} records`;
}

function ending(o: CollectionOutcome): string {
  if (o.result === 'skipped') return `skipped${o.note ? ` (${o.note})` : ''}`;
  const base = `${o.result}, ${counts(o)}, ${o.seconds.toFixed(2)} s, ${o.upstream} upstream request${o.upstream === 1 ? '' : 's'}`;
  return o.result === 'failed' && o.note ? `${base}: ${o.note}` : base;
}

function barProgress(out: Output, label: string): Progress {
  const CLEAR = '\r\x1b[K';
  return {
    update(s) {
      const done = s.total ? Math.min(1, s.records / s.total) : 0;
      const filled = Math.round(done * BAR);
      const bar = s.total !== undefined ? `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ` : '';
      out.write(`${CLEAR}${label}/${s.collection} ${bar}${counts(s)}`);
    },
    end(o) {
      out.write(`${CLEAR}${label}/${o.collection}: ${ending(o)}\n`);
    },
  };
}

function lineProgress(out: Output, label: string, now: () => number): Progress {
  let last = -Infinity;
  return {
    update(s) {
      const t = now();
      if (t - last < 1000) return;
      last = t;
      out.write(`warm ${label}/${s.collection}: ${counts(s)}\n`);
    },
    end(o) {
      last = -Infinity;
      out.write(`warm ${label}/${o.collection}: ${ending(o)}\n`);
    },
  };
}
